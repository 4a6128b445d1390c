"""The prediction cache: hit on same content, miss on changed content, corrupt entries recomputed."""
import os
import shutil

import numpy as np

from core.cache import ArrayCache
from core.datasets import load_digits_test
from core.sources import CheckpointSource, evaluate


def _calls(monkeypatch):
    import core.inference.runner

    calls = []
    real = core.inference.runner.run_models

    def counting(models, *a, **k):
        calls.append(len(models))
        return real(models, *a, **k)

    monkeypatch.setattr(core.inference.runner, "run_models", counting)
    return calls


def test_cache_hit_miss_and_corruption(demo_paths, tmp_path, monkeypatch):
    calls = _calls(monkeypatch)
    cache = ArrayCache(tmp_path / "cache")
    data = load_digits_test()
    ckpt = tmp_path / "model.pt"
    shutil.copy(demo_paths[0], ckpt)
    first = evaluate([CheckpointSource(str(ckpt))], data, cache=cache)[0]
    assert calls == [1]
    os.utime(ckpt, (1, 1))  # touching mtime keeps the entry
    again = evaluate([CheckpointSource(str(ckpt))], data, cache=cache)[0]
    assert calls == [1]
    np.testing.assert_array_equal(first.scores, again.scores)
    shutil.copy(demo_paths[-1], ckpt)  # new content under the same name: recompute
    changed = evaluate([CheckpointSource(str(ckpt))], data, cache=cache)[0]
    assert calls == [1, 1] and not np.array_equal(first.scores, changed.scores)
    entries = list((tmp_path / "cache").rglob("*.npz"))
    assert len(entries) == 2
    for e in entries:  # corrupt every entry: flip bytes in the middle, truncate another
        raw = bytearray(e.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        e.write_bytes(bytes(raw))
    recovered = evaluate([CheckpointSource(str(ckpt))], data, cache=cache)[0]
    assert calls == [1, 1, 1]
    np.testing.assert_array_equal(recovered.scores, changed.scores)


def test_two_sources_share_one_pass_and_preprocessing_is_in_the_key(demo_paths, tmp_path, monkeypatch):
    from core.sources import PrepOverrides

    calls = _calls(monkeypatch)
    cache = ArrayCache(tmp_path / "cache")
    data = load_digits_test()
    srcs = [CheckpointSource(str(demo_paths[0])), CheckpointSource(str(demo_paths[1]))]
    evaluate(srcs, data, cache=cache)
    assert calls == [2]
    evaluate(srcs, data, PrepOverrides(mean=(0.1,), std=(0.3,)), cache=cache)
    assert calls == [2, 2]
    evaluate(srcs, data, cache=cache)
    assert calls == [2, 2]
    newest = max((tmp_path / "cache").rglob("*.npz"), key=lambda p: p.stat().st_mtime_ns)
    newest.write_bytes(newest.read_bytes()[:100])  # one truncated entry: only its model reruns
    evaluate(srcs, data, PrepOverrides(mean=(0.1,), std=(0.3,)), cache=cache)
    assert calls == [2, 2, 1]


def test_array_cache_roundtrip_and_atomic_files(tmp_path):
    cache = ArrayCache(tmp_path)
    arrays = {"scores": np.random.default_rng(0).random((5, 3)).astype(np.float32)}
    cache.put("ab" * 32, arrays)
    got = cache.get("ab" * 32)
    np.testing.assert_array_equal(got["scores"], arrays["scores"])
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert cache.get("cd" * 32) is None
