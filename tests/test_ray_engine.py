"""The Ray engine on a local instance (num_cpus=2) equals the local engine exactly; an actor's
error is the same one sentence; an address where nothing answers is one sentence."""
import socket
import time

import numpy as np
import pytest
import torch
from PIL import Image

from core.architectures import ConvNet
from core.datasets import load_data
from core.errors import VersusError
from core.inference import InferenceOptions, run_engine, run_models
from core.inference.ray_engine import run_models_ray
from core.preprocessing import Preprocessing


def test_unreachable_address_is_one_sentence_quickly():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(VersusError, match=rf"^No Ray cluster answers at 127.0.0.1:{port} \(.*\); start one with"):
        run_engine(InferenceOptions(engine="ray", ray_address=f"127.0.0.1:{port}"), [ConvNet()],
                   [Preprocessing((28, 28), 1)], load_data("digits"), torch.device("cpu"))
    assert time.perf_counter() - start < 10
    with pytest.raises(VersusError, match="is not HOST:PORT"):
        run_engine(InferenceOptions(engine="ray", ray_address="nowhere"), [ConvNet()],
                   [Preprocessing((28, 28), 1)], load_data("digits"), torch.device("cpu"))
    with pytest.raises(VersusError, match="--ray-address needs --engine ray"):
        InferenceOptions(ray_address="1.2.3.4:6379")


class _Raises(torch.nn.Module):
    def forward(self, x):
        raise ValueError("no good")


def test_ray_engine_equals_local_engine(tmp_path):
    import ray

    rng = np.random.default_rng(0)
    for i in range(40):  # a JPEG folder of two sizes
        (tmp_path / f"c{i % 4}").mkdir(exist_ok=True)
        size = (30, 30) if i % 3 else (20, 26)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(tmp_path / f"c{i % 4}" / f"{i}.jpg")
    data = load_data(f"imagefolder:{tmp_path}")
    torch.manual_seed(0)
    models = [ConvNet(in_channels=3).eval(), ConvNet(in_channels=1).eval()]
    preps = [Preprocessing((28, 28), 3, (0.5,), (0.2,)), Preprocessing((28, 28), 1)]
    local = run_models(models, preps, data, torch.device("cpu"), batch_size=16, keep_features=True,
                       names=["A", "B"])
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        started = time.perf_counter() - start
        out = run_models_ray(models, preps, data, torch.device("cpu"), batch_size=16, keep_features=True,
                             names=["A", "B"])
        print(f"ray start {started:.1f} s, first run {time.perf_counter() - start - started:.1f} s")
        for a, b in zip(local, out):
            np.testing.assert_array_equal(a.scores, b.scores)  # exactly: same batches, same code
            np.testing.assert_array_equal(a.features, b.features)
            assert a.meta == b.meta
        with pytest.raises(VersusError, match=r"^bad\.pt failed on input of shape \(16, 1, 28, 28\) \(ValueError: no good\)"):
            run_models_ray([_Raises()], [preps[1]], data, torch.device("cpu"), batch_size=16, names=["bad.pt"])
    finally:
        ray.shutdown()
