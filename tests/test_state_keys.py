"""The app's in-memory caches key on content: a file by its sha256, a Hugging Face folder by its
weights and config, each hashed once per change marker (a rerun costs a stat, not a hash)."""
import hashlib
import json

import core.sources.hf as hf_kind
from core.cache import file_sha256
from ui import state


def test_a_file_is_keyed_by_its_sha256(tmp_path):
    f = tmp_path / "model.pt"
    f.write_bytes(b"weights" * 1000)
    assert state._content(str(f)) == ("sha256", hashlib.sha256(b"weights" * 1000).hexdigest())
    assert state._content(str(tmp_path / "absent.pt")) == (str(tmp_path / "absent.pt"),)


def test_a_folder_identity_is_computed_once_per_change(tmp_path, monkeypatch):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "resnet", "num_labels": 3}))
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    calls = []
    real = hf_kind.folder_identity
    monkeypatch.setattr(hf_kind, "folder_identity", lambda p: calls.append(p) or real(p))
    first = state._content(str(folder))
    assert state._content(str(folder)) == first and len(calls) == 1  # the second rerun: no hash
    assert first[0] == "huggingface"
    (folder / "config.json").write_text(json.dumps({"model_type": "resnet", "num_labels": 4}))
    second = state._content(str(folder))
    assert len(calls) == 2 and second != first


def test_the_hash_memo_notices_a_rewrite_with_the_old_time_put_back(tmp_path):
    import os

    f = tmp_path / "w.bin"
    f.write_bytes(b"a" * 100)
    before, old = file_sha256(f), os.stat(f)
    f.write_bytes(b"b" * 100)
    os.utime(f, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert file_sha256(f) == hashlib.sha256(b"b" * 100).hexdigest() != before
