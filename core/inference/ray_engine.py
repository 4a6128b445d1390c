"""The Ray engine: the same inference as the local engine, run as Ray Data map_batches over the
image files by an actor pool that holds the models (GPU actors when the cluster has GPUs).

Each Ray item is one batch of the local engine (the same rows, the same batch size, the same
decoding and preprocessing code), so on CPU the outputs equal the local engine's exactly. The
driver reads the file bytes and ships them, so the nodes need no shared file system."""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import socket
import sys
import tempfile
import time
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from core.datasets import EvalData, bad_image_error, coerce_channels, read_image
from core.errors import VersusError, first_line
from core.inference.features import FeaturePlan
from core.inference.loader import batches, collate, prepare
from core.inference.runner import (Progress, autocast, default_names, finish, forward_any, group_by_prep,
                                   group_input, set_memory_format, shared_size, wants_channels_last)
from core.preprocessing import Preprocessing, batch_to_tensor
from core.run_options import ray_host_port

CONNECT_TIMEOUT_S = 5.0


# An HTTP/2 client preface and an empty SETTINGS frame: a Ray cluster's port (gRPC) answers with
# a SETTINGS frame of its own at once; anything else there would keep ray.init retrying for minutes.
_H2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_H2_SETTINGS = 4


def _check_address(address: str) -> None:
    """One sentence when nothing answers at HOST:PORT, or something that is not a Ray cluster
    (ray.init would retry for a minute or more); its form was checked with the other options
    (InferenceOptions)."""
    if address == "auto":
        return
    host, port = ray_host_port(address)
    tls = os.environ.get("RAY_USE_TLS", "0") not in ("0", "")  # a TLS cluster is not greeted in clear
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S) as conn:
            head = b"" if tls else _first_frame(conn)
    except OSError as exc:
        raise VersusError(
            f"No Ray cluster answers at {address} ({exc.strerror or first_line(exc)}); start one with "
            "`ray start --head` and pass the address it prints."
        ) from None
    if not tls and (len(head) < 9 or head[3] != _H2_SETTINGS):
        said = "closed the connection" if not head else "answered in another protocol"
        raise VersusError(
            f"What listens at {address} is not a Ray cluster (it {said}); pass the address "
            "`ray start --head` prints."
        )


def _first_frame(conn: socket.socket) -> bytes:
    """The first 9 bytes the peer sends back to an HTTP/2 hello (b"" if it closes at once)."""
    conn.sendall(_H2_HELLO)
    head = b""
    while len(head) < 9:
        chunk = conn.recv(9 - len(head))
        if not chunk:
            break
        head += chunk
    return head


def connect(address: str | None) -> None:
    """Join the cluster at address, or start a local instance (once per process)."""
    import ray

    _quiet_ray_data()
    if ray.is_initialized():
        return
    if address:
        _check_address(address)
    try:
        with _native_stderr_held():
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level="ERROR", configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = f"at {address}" if address else "on this machine"
        raise VersusError(f"Ray could not start or connect {where} ({first_line(exc)}).") from None


@contextlib.contextmanager
def _native_stderr_held():
    """Ray's C++ client logs each failed attempt to reach a cluster straight to file descriptor 2
    (a port that answers but is no Ray cluster gives about twenty lines); while ray.init runs, fd 2
    goes to a scratch file, so the user sees versus's one sentence. Processes Ray starts meanwhile
    keep that file as their stderr and log nowhere visible."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _quiet_ray_data() -> None:
    """No Ray Data progress bars or progress logs on the user's terminal (versus shows its own)."""
    import logging

    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    for name in ("ray.data", "ray"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _items(data: EvalData, batch_size: int) -> list[dict[str, Any]]:
    """One item per local-engine batch: its first row and its images (file bytes or pixels)."""
    n = len(data)
    items = []
    for lo in range(0, n, batch_size):
        hi = min(lo + batch_size, n)
        if data.array is not None:
            payload: Any = ("array", np.ascontiguousarray(data.array[lo:hi]))
        elif data.files is not None:
            payload = ("files", [(str(data.ids[i]), data.files[i].read_bytes()) for i in range(lo, hi)])
        else:
            raise VersusError("The Ray engine needs an image folder or a dataset held in memory.")
        items.append({"lo": lo, "payload": pickle.dumps(payload)})
    return items


class _Predictor:
    """A Ray actor holding the models; called on one batch item at a time."""

    def __init__(self, models_ref, preps: list[Preprocessing], names: list[str], channels: int,
                 precision: str, keep_features: bool, threads: int) -> None:
        import ray

        torch.set_num_threads(max(1, threads))
        self.device = torch.device("cuda" if torch.cuda.is_available() and ray.get_gpu_ids() else "cpu")
        self.models = [_unpack(m).eval().to(self.device) for m in ray.get(models_ref)]
        self.formats = [wants_channels_last(m) for m in self.models]
        for m, cl in zip(self.models, self.formats):
            set_memory_format(m, cl)
        self.preps, self.names, self.channels = preps, names, channels
        self.precision, self.keep_features = precision, keep_features
        self.groups, self.size = group_by_prep(preps), shared_size(preps)

    def _decode(self, payload: bytes):
        kind, content = pickle.loads(payload)
        if kind == "array":
            return batch_to_tensor(content)
        tensors = []
        for name, blob in content:
            try:
                img = coerce_channels(read_image(io.BytesIO(blob)), self.channels)
            except (ValueError, OSError, EOFError, SyntaxError) as exc:
                raise bad_image_error(name, first_line(exc, 120)) from None
            tensors.append(prepare(img, self.size))
        return collate(tensors, self.size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """{"lo", "result"}: the pickled (outputs, features) of one batch, or ("error", sentence)
        for a user's mistake (Ray would bury the sentence in a traceback)."""
        lo = int(batch["lo"][0])
        try:
            result: Any = self._run(lo, batch["payload"][0])
        except VersusError as exc:
            result = ("error", str(exc))
        return {"lo": np.array([lo]), "result": np.array([pickle.dumps(result)], dtype=object)}

    def _run(self, lo: int, payload: bytes) -> tuple:
        from core.inference.runner import _classifier_input_hook

        raw = self._decode(payload)
        feats: list[list[torch.Tensor]] = [[] for _ in self.models]
        hooks = [_classifier_input_hook(m, feats[j]) if self.keep_features else None
                 for j, m in enumerate(self.models)]
        outs: list[torch.Tensor | None] = [None] * len(self.models)
        try:
            with torch.inference_mode(), autocast(self.device, self.precision):
                for prep, members in self.groups.items():
                    x = group_input(raw, prep, self.device, any(self.formats[j] for j in members))
                    for j in members:
                        outs[j] = forward_any(self.models[j], x, self.names[j], lo, self.formats, j)
        finally:
            for h in hooks:
                if h is not None:
                    h.remove()
        return outs, [torch.cat(f) if f else None for f in feats]


def _pack(model: nn.Module) -> tuple[str, Any]:
    """A model in a form Ray can ship: TorchScript as its saved bytes, anything else as itself,
    with classes from the user's own files (an architecture .py) shipped by value."""
    if isinstance(model, torch.jit.ScriptModule):
        buf = io.BytesIO()
        torch.jit.save(model, buf)
        return "torchscript", buf.getvalue()
    from ray import cloudpickle

    for m in model.modules():
        mod = sys.modules.get(type(m).__module__)
        path = str(getattr(mod, "__file__", "") or "")
        installed = "site-packages" in path or "dist-packages" in path or not path
        if mod is not None and not installed and mod.__name__.split(".")[0] != "core":
            cloudpickle.register_pickle_by_value(mod)
    return "module", model


def _unpack(packed: tuple[str, Any]) -> nn.Module:
    kind, content = packed
    return torch.jit.load(io.BytesIO(content), map_location="cpu") if kind == "torchscript" else content


def _plan(device: torch.device) -> tuple[int, dict[str, float], int]:
    """(actors, resources per actor, torch threads per actor) for the connected cluster."""
    import ray

    res = ray.cluster_resources()
    gpus, cpus = int(res.get("GPU", 0)), max(1, int(res.get("CPU", 1)))
    if gpus:  # GPU actors when the cluster has GPUs
        return gpus, {"num_gpus": 1, "num_cpus": 1}, max(1, cpus // gpus)
    actors = min(cpus, 8)
    return actors, {"num_cpus": 1}, max(1, cpus // actors)


def _probe_widths(models: list[nn.Module], preps: list[Preprocessing], data: EvalData,
                  names: list[str]) -> list[int | None]:
    """Each model on the first example, on this CPU: one whose output is wider than the class
    bound is refused here, before an actor runs it on a full batch. Anything else that goes
    wrong is left to the actors to report in their usual words. Returns probe_width's count of
    outputs per model."""
    from core.inference.runner import probe_width
    from core.probe import sample

    outputs: list[int | None] = [None for _ in models]
    try:
        _, _, raw = next(batches(sample(data, 1), 1, 0, shared_size(preps)))
    except (VersusError, StopIteration):
        return outputs
    with torch.inference_mode():
        for prep, members in group_by_prep(preps).items():
            try:
                x = group_input(raw, prep, torch.device("cpu"), False)
            except VersusError:
                continue
            for j in members:
                outputs[j] = probe_width(models[j], x, names[j], False, [])
    return outputs


def run_models_ray(models: list[nn.Module], preps: list[Preprocessing], data: EvalData, device: torch.device,
                   batch_size: int = 256, keep_features: bool = False, progress: Progress | None = None,
                   names: list[str] | None = None, precision: str = "fp32",
                   address: str | None = None) -> list:
    """run_models' outputs (ModelOutput per model), computed by Ray actors."""
    import ray

    if batch_size < 1:
        raise VersusError("Batch size must be at least 1.")
    names = default_names(models, names)
    outputs = _probe_widths(models, preps, data, names)
    items = _items(data, batch_size)
    connect(address)
    actors, resources, threads = _plan(device)
    actors = min(actors, len(items))
    models_ref = ray.put([_pack(m.cpu()) for m in models])
    with warnings.catch_warnings():  # max_restarts as a remote arg: deprecated from Ray 2.64 on
        warnings.simplefilter("ignore", DeprecationWarning)
        # actors are not restarted: a failure is reported, not retried with lost arguments
        ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _Predictor, batch_size=1, batch_format="numpy", concurrency=actors,
            fn_constructor_args=(models_ref, preps, names, data.native_channels, precision, keep_features,
                                 threads),
            max_restarts=0, **resources)
    raws: list[list[torch.Tensor]] = [[] for _ in models]
    feats: list[list[torch.Tensor]] = [[] for _ in models]
    results: dict[int, tuple] = {}
    n, done, start = len(data), 0, time.perf_counter()
    try:
        for row in ds.iter_rows():
            lo = int(row["lo"])
            results[lo] = pickle.loads(row["result"])
            if results[lo][0] == "error":
                raise VersusError(results[lo][1])
            done += len(results[lo][0][0]) if results[lo][0] else 0
            if progress is not None:
                progress(done, n, done / max(time.perf_counter() - start, 1e-9))
    except VersusError:
        raise
    except Exception as exc:  # Ray's own failures (a lost node, an actor that could not start)
        raise VersusError(f"The Ray engine failed ({type(exc).__name__}: {first_line(exc, 200)}).") from None
    plans = [FeaturePlan(n) for _ in models]
    for lo in sorted(results):
        outs, fs = results.pop(lo)
        for j in range(len(models)):
            raws[j].append(outs[j])
            if fs[j] is not None:
                feats[j].append(plans[j].apply(fs[j]))
    return finish(raws, feats, names, precision, keep_features, plans=plans, outputs=outputs)
