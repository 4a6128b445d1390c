"""Architecture registry: torchvision by name with the class count from the checkpoint,
user files with keyword arguments, auto-detection."""
import pytest
import torch
import torchvision

from core import architectures as archs
from core.errors import VersusError


def test_torchvision_autodetect_and_class_count():
    sd = torchvision.models.resnet18(num_classes=7).state_dict()
    spec = archs.autodetect(sd)
    assert (spec.kind, spec.name) == ("torchvision", "resnet18")
    model = archs.load_into(spec, sd)
    assert model.fc.out_features == 7
    assert archs.known_normalization(spec) is not None


def test_mobilenet_by_name_reads_classes_from_last_layer():
    sd = torchvision.models.mobilenet_v3_small(num_classes=3).state_dict()
    assert archs.num_classes_from_state(sd) == 3
    model = archs.load_into(archs.parse_arch("mobilenet_v3_small"), sd)
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 3)


def test_user_file_with_kwargs(tmp_path):
    f = tmp_path / "mynet.py"
    f.write_text(
        "import torch.nn as nn\n"
        "class MLP(nn.Module):\n"
        "    def __init__(self, hidden=8, classes=10):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())\n"
        "        self.head = nn.Linear(hidden, classes)\n"
        "    def forward(self, x):\n"
        "        return self.head(self.body(x))\n"
    )
    spec = archs.parse_arch(f"{f}:MLP(hidden=16, classes=4)")
    assert spec.kind == "file" and dict(spec.kwargs) == {"hidden": 16, "classes": 4}
    ns: dict = {}
    exec(f.read_text(), ns)
    sd = ns["MLP"](hidden=16, classes=4).state_dict()
    model = archs.load_into(spec, sd)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 4)
    with pytest.raises(VersusError, match="shape mismatch head.weight"):
        archs.load_into(archs.parse_arch(f"{f}:MLP(hidden=16, classes=5)"), sd)
    with pytest.raises(VersusError, match="defines no class named Nope"):
        archs.load_into(archs.parse_arch(f"{f}:Nope"), sd)


def test_unknown_names_are_clear():
    with pytest.raises(VersusError, match="Unknown architecture 'resnet999'"):
        archs.parse_arch("resnet999")
    with pytest.raises(VersusError, match="keyword arguments"):
        archs.parse_arch("x.py:Net(1, 2)")


def test_user_file_is_imported_only_with_trust(tmp_path, demo_paths):
    from core.datasets import load_digits_test
    from core.sources import CheckpointSource, evaluate

    marker = tmp_path / "IMPORTED"
    f = tmp_path / "net.py"
    f.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
                 "from core.architectures import ConvNet as Net\n")
    data = load_digits_test()
    src = CheckpointSource(str(tmp_path / "w.pt"), arch=f"{f}:Net")
    import torch

    torch.save(torch.load(demo_paths[0], weights_only=True)["model_state_dict"], src.path)
    with pytest.raises(VersusError, match="runs when imported.*trust"):
        evaluate([src], data)
    assert not marker.exists()
    (p,) = evaluate([CheckpointSource(src.path, arch=src.arch, trust=True)], data)
    assert marker.exists() and p.meta["arch"].endswith(":Net")
