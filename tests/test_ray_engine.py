"""The Ray engine on a local instance (num_cpus=2, in a child process) equals the local engine exactly; an actor's
error is the same one sentence; an address where nothing answers is one sentence."""
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.architectures import ConvNet
from core.datasets import load_data
from core.errors import VersusError
from core.inference import InferenceOptions, run_engine
from core.preprocessing import Preprocessing


@contextlib.contextmanager
def _listener(answer: bytes | None):
    """A loopback port whose server reads the greeting, then closes (answer None) or answers."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            if answer is not None:
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        thread.join(10)
        server.close()


def test_silent_port_is_no_cluster_after_the_timeout(monkeypatch):
    from core.inference import ray_engine

    monkeypatch.setattr(ray_engine, "CONNECT_TIMEOUT_S", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as server:  # accepts (the backlog) and never answers
        address = f"127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(VersusError, match=rf"^No Ray cluster answers at {address} \(timed out\)"):
            ray_engine._check_address(address)


def test_unreachable_address_is_one_sentence_quickly():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(VersusError, match=rf"^No Ray cluster answers at 127.0.0.1:{port} \(.*\); start one with"):
        run_engine(InferenceOptions(engine="ray", ray_address=f"127.0.0.1:{port}"), [ConvNet()],
                   [Preprocessing((28, 28), 1)], load_data("digits"), torch.device("cpu"))
    assert time.perf_counter() - start < 10
    for answer, said in ((None, "closed the connection"), (b"HTTP/1.1 400 Bad Request\r\n\r\n", "answered in another protocol")):
        with _listener(answer) as address:
            with pytest.raises(VersusError, match=rf"^What listens at {address} is not a Ray cluster \(it {said}\)"):
                run_engine(InferenceOptions(engine="ray", ray_address=address), [ConvNet()],
                           [Preprocessing((28, 28), 1)], load_data("digits"), torch.device("cpu"))
    with pytest.raises(VersusError, match="is not HOST:PORT"):
        run_engine(InferenceOptions(engine="ray", ray_address="nowhere"), [ConvNet()],
                   [Preprocessing((28, 28), 1)], load_data("digits"), torch.device("cpu"))
    with pytest.raises(VersusError, match="--ray-address needs --engine ray"):
        InferenceOptions(ray_address="1.2.3.4:6379")


def test_ray_engine_equals_local_engine(tmp_path):
    """Exactly the local engine's scores, features and meta (same batches, same code), and an
    actor's error as the same one sentence; Ray runs in a child process (tests/ray_child.py)."""
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "images").mkdir()
    out = tmp_path / "out.npz"
    for attempt in (1, 2):
        r = subprocess.run([sys.executable, str(root / "tests" / "ray_child.py"), str(tmp_path / "images"), str(out)],
                           capture_output=True, text=True, timeout=600, cwd=root,
                           env={**os.environ, "PYTHONPATH": str(root)})
        if r.returncode == 0 or "Traceback" in r.stderr:
            break
        # Ray's own process ended without a Python error (its cluster lost): said, and tried once more
        print(f"attempt {attempt}: the Ray child ended with {r.returncode} and no traceback: {r.stderr[-2000:]}")
    assert r.returncode == 0, f"the Ray child ended with {r.returncode}: {r.stderr[-3000:]}"
    print(r.stdout.strip())
    got = np.load(out)
    for side in "AB":
        np.testing.assert_array_equal(got[f"{side}_local_scores"], got[f"{side}_ray_scores"])
        np.testing.assert_array_equal(got[f"{side}_local_features"], got[f"{side}_ray_features"])
        assert got[f"{side}_same_meta"]
    assert got["A_local_scores"].shape == (40, 10)
    assert re.match(r"^bad\.pt failed on input of shape \(16, 1, 28, 28\) \(ValueError: no good\)", str(got["error"]))
