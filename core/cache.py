"""Content-addressed on-disk cache of model outputs, with atomic writes."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


def default_root() -> Path:
    """$VERSUS_CACHE_DIR, else ~/.cache/versus."""
    env = os.environ.get("VERSUS_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "versus"


_HASH_MEMO: dict[tuple, str] = {}


def change_mark(st: os.stat_result) -> tuple[int, int, int, int]:
    """What changes whenever a file's bytes do: size, inode, and both the modification time
    (which a copy may preserve) and the change time (which no user call can set back)."""
    return st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


def file_sha256(path: str | os.PathLike) -> str:
    """Content hash of a file, memoized by its path and change mark."""
    key = (str(Path(path).resolve()), *change_mark(os.stat(path)))
    if key not in _HASH_MEMO:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _HASH_MEMO[key] = h.hexdigest()
    return _HASH_MEMO[key]


def make_key(parts: dict[str, Any]) -> str:
    """Hex key of a JSON-able dict of content fingerprints."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write data to path so a reader sees the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ArrayCache:
    """Named numpy arrays stored per key as one .npz file, checked by a digest on read."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_root() / "predictions"

    def path(self, key: str) -> Path:
        """Where the entry for key lives."""
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under key, or None when absent or corrupt (a corrupt entry is removed)."""
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            digest = arrays.pop("__digest__").tobytes().decode()
            if digest != _digest(arrays):
                raise ValueError("digest mismatch")
            return arrays
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            p.unlink(missing_ok=True)
            return None

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Store arrays under key atomically; a cache folder that cannot be written only costs
        a recomputation next time."""
        buf = io.BytesIO()
        payload = dict(arrays)
        payload["__digest__"] = np.frombuffer(_digest(arrays).encode(), dtype=np.uint8)
        np.savez(buf, **payload)
        try:
            atomic_write_bytes(self.path(key), buf.getvalue())
        except OSError:
            pass


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode() + str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
