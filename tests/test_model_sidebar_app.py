"""The model source widgets in the app: B follows A's folder (or the app says it compares
across runs), an ONNX file goes through the registry, and the Overview header names each side."""
from __future__ import annotations

import shutil

import torch
from streamlit.testing.v1 import AppTest


def _open() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_b_follows_a_folder_and_across_runs_is_said(demo_paths, tmp_path):
    run2 = tmp_path / "run2"
    run2.mkdir()
    for p in demo_paths[:2]:
        shutil.copy(p, run2 / p.name)
    at = _open()
    at.text_input(key="a_folder").set_value(str(run2)).run()
    assert not at.exception, at.exception
    assert at.text_input(key="b_folder").value == str(run2)  # B followed A
    assert not any("across runs" in c.value for c in at.caption)
    at.text_input(key="b_folder").set_value(str(demo_paths[0].parent)).run()
    assert any("compares across runs" in c.value for c in at.caption)
    header = at.dataframe[0].value
    assert list(header["side"]) == ["A", "B"] and "preprocessing" in header.columns
    assert header["source"][0].endswith("run2/epoch_2.pt")  # the demo opens A on epoch 2, kept in the new folder


def test_a_folder_without_models_is_said_once_though_b_follows_it(tmp_path):
    (tmp_path / "notes.txt").write_text("no models here")
    at = _open()
    at.text_input(key="a_folder").set_value(str(tmp_path)).run()
    assert not at.exception, at.exception
    assert at.text_input(key="b_folder").value == str(tmp_path)
    assert [e.value for e in at.error] == [f"{tmp_path} holds no checkpoint files (.pt, .pth, .ckpt, .bin, "
                                           ".safetensors, .tar, .onnx) and no Hugging Face or epoch_N folders."]
    at.text_input(key="b_folder").set_value(str(tmp_path / "missing")).run()  # B's own mistake is said too
    assert len(at.error) == 2 and "does not exist" in at.error[1].value


def test_onnx_path_through_the_registry(demo_paths, tmp_path):
    from core.checkpoints import load_checkpoint
    from core.architectures import ConvNet

    model = ConvNet()
    model.load_state_dict(load_checkpoint(demo_paths[-1]).state_dict)
    onnx_path = tmp_path / "epoch_5.onnx"
    torch.onnx.export(model.eval(), (torch.zeros(1, 1, 28, 28),), str(onnx_path), input_names=["x"],
                      dynamic_axes={"x": {0: "n"}}, dynamo=False)
    at = _open()
    at.selectbox(key="b_kind").set_value("Checkpoint file").run()
    at.text_input(key="b_path").set_value(str(onnx_path)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    header = at.dataframe[0].value
    assert header["format"][1] == "onnx"


def test_warnings_shown_in_the_app(demo_paths, tmp_path):
    from core.checkpoints import load_checkpoint

    at = _open()
    assert not at.warning  # the demo's checkpoints record their preprocessing: nothing is guessed
    plain = tmp_path / "plain.pt"  # weights only: its normalization can only be guessed
    torch.save(load_checkpoint(demo_paths[-1]).state_dict, plain)
    at.selectbox(key="b_kind").set_value("Checkpoint file").run()
    at.text_input(key="b_path").set_value(str(plain)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    boxes = " ".join(w.value for w in at.warning)
    assert "plain.pt: the normalization of its preprocessing was guessed" in boxes


def test_inference_engine_settings_reach_the_run(demo_paths):
    """The sidebar's engine settings are the CLI's flags: reduced precision is run and said."""
    at = _open()
    at.selectbox(key="precision").set_value("bf16").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    boxes = " ".join(w.value for w in at.warning)
    assert "epoch_2.pt ran in bf16" in boxes and "epoch_5.pt ran in bf16" in boxes
    at.selectbox(key="precision").set_value("fp32").run()
    assert not at.warning
