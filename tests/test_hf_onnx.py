"""Hugging Face save_pretrained folders and ONNX exports compare with numbers equal to the
producing library's own forward pass (and scikit-learn's accuracy)."""
import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score

from core.architectures import ConvNet
from core.cache import ArrayCache
from core.datasets import load_digits_test
from core.errors import VersusError
from core.sources import CheckpointSource, evaluate, parse_source
from tests.model_helpers import digits_tensors, guesses, train

ID2LABEL = {i: str(i) for i in range(10)}


def _save_hf(model, folder, mean=0.5, std=0.5):
    from transformers import ViTImageProcessor

    model.save_pretrained(folder)
    ViTImageProcessor(do_resize=True, size={"height": 8, "width": 8}, image_mean=[mean], image_std=[std],
                      do_normalize=True).save_pretrained(folder)
    return folder


def _hf_models():
    from transformers import ResNetConfig, ResNetForImageClassification, ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    resnet = ResNetForImageClassification(ResNetConfig(
        num_channels=1, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic",
        num_labels=10, id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()}))
    vit = ViTForImageClassification(ViTConfig(
        image_size=8, patch_size=2, num_channels=1, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, num_labels=10, id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()}))
    return {"resnet": resnet, "vit": vit}


@pytest.mark.parametrize("name", ["resnet", "vit"])
def test_hf_folder_equals_transformers_forward(name, tmp_path):
    model = _hf_models()[name]
    x, y = digits_tensors(mean=0.5, std=0.5)
    train(model, x, y, steps=40, forward=lambda b: model(pixel_values=b).logits)
    folder = _save_hf(model, tmp_path / "epoch_3")
    src = parse_source(str(folder))
    assert isinstance(src, CheckpointSource)
    data = load_digits_test()
    p = evaluate([src], data, cache=ArrayCache(tmp_path / "c"), probe=False)[0]
    xt, yt = digits_tensors(mean=0.5, std=0.5, split="test")
    expected = guesses(lambda b: model(pixel_values=b).logits, xt)
    np.testing.assert_array_equal(p.guess, expected)
    assert float(p.correct.mean()) == pytest.approx(accuracy_score(yt.numpy(), expected))
    assert accuracy_score(yt.numpy(), expected) > 0.3  # it learned something: the check has teeth
    assert p.meta["format"] == "huggingface" and p.meta["epoch"] == 3
    prep = p.meta["preprocessing"]
    assert prep["size"] == [8, 8] and prep["mean"] == [0.5] and prep["std"] == [0.5]
    assert prep["from"]["size"].startswith("artifact") and prep["from"]["normalization"].startswith("artifact")
    assert not any("guessed" in w for w in p.meta["warnings"])


def test_hf_remote_code_refused_and_generic_labels(tmp_path):
    import json

    from core.hf_models import class_names

    model = _hf_models()["resnet"]
    folder = _save_hf(model, tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    assert class_names(cfg) == [str(i) for i in range(10)]
    assert class_names({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}) is None
    cfg["auto_map"] = {"AutoModelForImageClassification": "modeling_x.Net"}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(VersusError, match="needs its own Python code.*--trust"):
        evaluate([CheckpointSource(str(folder))], load_digits_test(), probe=False)


def test_hf_class_count_bounded_before_building(tmp_path, monkeypatch):
    folder = _save_hf(_hf_models()["resnet"], tmp_path / "m")
    monkeypatch.setenv("VERSUS_MAX_CLASSES", "5")
    with pytest.raises(VersusError, match="10 classes.*VERSUS_MAX_CLASSES"):
        evaluate([CheckpointSource(str(folder))], load_digits_test(), probe=False)


def test_hf_folder_linking_outside_is_refused_but_a_hub_snapshot_loads(tmp_path, monkeypatch):
    """A link out of the folder (config.json to a file elsewhere) is refused before anything is
    read; the hub cache's snapshots/REV -> ../../blobs layout is the folder's own and loads."""
    folder = _save_hf(_hf_models()["resnet"], tmp_path / "saved")
    repo = tmp_path / "hub" / "models--team--digits"
    snapshot = repo / "snapshots" / "abc123"
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for f in folder.iterdir():
        (repo / "blobs" / f.name).write_bytes(f.read_bytes())
        (snapshot / f.name).symlink_to(f"../../blobs/{f.name}")
    data = load_digits_test()
    direct, linked = evaluate([CheckpointSource(str(folder)), CheckpointSource(str(snapshot))], data, probe=False,
                              cache=ArrayCache(tmp_path / "c"))
    np.testing.assert_array_equal(direct.scores, linked.scores)

    crafted = tmp_path / "crafted"
    crafted.mkdir()
    for f in folder.iterdir():
        (crafted / f.name).write_bytes(f.read_bytes())
    (crafted / "config.json").unlink()
    (crafted / "config.json").symlink_to(folder / "config.json")  # a file outside the named folder
    from core import hf_models

    opened = []
    monkeypatch.setattr(hf_models, "read_json", lambda path, what, real=hf_models.read_json:
                        opened.append(path) or real(path, what))
    with pytest.raises(VersusError, match=r"^config\.json in the Hugging Face folder .* links outside it"):
        evaluate([CheckpointSource(str(crafted))], data, probe=False, cache=ArrayCache(tmp_path / "c"))
    assert opened == []
    with pytest.raises(VersusError, match="links outside it"):  # the app's cache key reads no byte either
        hf_models.folder_identity(crafted)


@pytest.fixture(scope="module")
def convnet():
    x, y = digits_tensors(size=28)
    return train(ConvNet(), x, y, steps=30)


@pytest.mark.parametrize("batch", [None, 7])
def test_onnx_equals_torch(convnet, tmp_path, batch):
    path = tmp_path / "model.onnx"
    dummy = torch.zeros(batch or 2, 1, 28, 28)
    torch.onnx.export(convnet, (dummy,), str(path), input_names=["pixels"], output_names=["logits"],
                      dynamic_axes=None if batch else {"pixels": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    data = load_digits_test()
    p = evaluate([parse_source(str(path))], data, cache=ArrayCache(tmp_path / "c"), batch_size=50, probe=False)[0]
    xt, _ = digits_tensors(size=28, split="test")
    with torch.no_grad():
        expected = torch.softmax(convnet(xt), 1).numpy()
    np.testing.assert_allclose(p.scores, expected, atol=1e-5)
    assert p.meta["format"] == "onnx"
    assert p.meta["preprocessing"]["size"] == [28, 28]
    assert p.meta["preprocessing"]["from"]["size"].startswith("artifact (the ONNX input shape")


def test_onnx_damaged_is_one_sentence(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model at all")
    with pytest.raises(VersusError, match="ONNX file .* cannot be") as info:
        evaluate([parse_source(str(bad))], load_digits_test(), probe=False)
    assert "\n" not in str(info.value)


def test_onnx_external_data_outside_its_folder_is_one_sentence_naming_the_cause(tmp_path):
    """onnxruntime refuses external weights that escape the model's folder; the sentence keeps
    its cause instead of cutting it mid-word."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 3), np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [weight])
    (tmp_path / "m").mkdir()
    onnx.save_model(helper.make_model(graph), str(tmp_path / "m" / "model.onnx"), save_as_external_data=True,
                    location="w.bin", size_threshold=0)
    (tmp_path / "m" / "w.bin").rename(tmp_path / "w.bin")
    model = onnx.load(str(tmp_path / "m" / "model.onnx"), load_external_data=False)
    for entry in model.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = "../w.bin"
    onnx.save(model, str(tmp_path / "m" / "model.onnx"))
    with pytest.raises(VersusError) as info:
        evaluate([parse_source(str(tmp_path / "m" / "model.onnx"))], load_digits_test(), probe=False)
    msg = str(info.value)
    assert "escapes model directory" in msg and "\n" not in msg and msg.endswith(".")


def test_messages_are_shortened_at_a_word_boundary():
    from core.errors import first_line, reason

    exc = ValueError("alpha " * 50 + "\nsecond line")
    assert first_line(exc, 20) == "alpha alpha alpha [...]"
    assert reason(ValueError("Failed here. More advice follows. Even more."), sentence=True) == "Failed here"
    assert reason(ValueError("Failed: x. Error: the cause.")) == "Failed: x. Error: the cause"


def test_hf_weights_not_fitting_their_config_are_one_plain_sentence(tmp_path):
    """transformers' own text points at a report it logs elsewhere; the sentence says what is wrong."""
    import json

    folder = _save_hf(_hf_models()["resnet"], tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = {str(k): str(k) for k in range(5)}
    cfg["label2id"] = {str(k): k for k in range(5)}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(VersusError) as info:
        evaluate([CheckpointSource(str(folder))], load_digits_test(), probe=False, cache=ArrayCache(tmp_path / "c"))
    assert str(info.value) == (f"The Hugging Face folder {folder} holds weights whose shapes differ from the model "
                               "its config.json describes (num_labels or a layer size changed after saving?); it "
                               "was not loaded.")
