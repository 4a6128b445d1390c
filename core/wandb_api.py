"""The small part of the W&B cloud API that versus uses, and the real one behind bounded calls.

The Protocols below name exactly the methods and attributes versus calls on `wandb.Api` and
what it returns; REAL_CLASSES says which wandb class each stands for (a test checks the
signatures against the installed wandb). Every cloud call goes through `call`, which gives up
after a deadline and turns any failure into one VersusError sentence. The API key is read
by wandb itself (WANDB_API_KEY or the user's login); versus never reads, shows or stores it.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Iterable, Mapping, Protocol, TypeVar

from core.errors import VersusError, first_line, shorten

DEFAULT_TIMEOUT_S = 20.0
T = TypeVar("T")


class CloudEntry(Protocol):
    """One file of an artifact's manifest (wandb ArtifactManifestEntry)."""

    path: str
    digest: str
    size: int | None

    def download(self, root: str | None = None, skip_cache: bool | None = None,
                 executor: Any = None) -> str:
        """Fetch this one file under root; returns its local path."""
        ...


class CloudArtifact(Protocol):
    """One artifact version (wandb Artifact)."""

    name: str
    version: str
    type: str
    digest: str
    metadata: dict
    created_at: str

    def get_entry(self, name: Any) -> CloudEntry:
        """The manifest entry of one file."""
        ...

    def download(self, root: Any = None, allow_missing_references: bool = False,
                 skip_cache: bool | None = None, path_prefix: Any = None,
                 multipart: bool | None = None) -> str:
        """Fetch every file under root (used for model artifacts only)."""
        ...


class CloudRun(Protocol):
    """One run (wandb.apis.public.Run)."""

    id: str
    name: str
    state: str
    created_at: str
    entity: str
    project: str
    config: Mapping[str, Any]
    summary: Mapping[str, Any]

    def logged_artifacts(self, per_page: int = 100) -> Iterable[CloudArtifact]:
        """The artifacts this run logged."""
        ...

    def scan_history(self, keys: list[str] | None = None, page_size: int = 1000, min_step: int = 0,
                     max_step: int | None = None, use_cache: bool = True) -> Iterable[dict]:
        """Every history row holding all the keys (the full history, not a sample)."""
        ...


class CloudApi(Protocol):
    """The entry point (wandb.Api)."""

    settings: dict

    def runs(self, path: str | None = None, filters: dict[str, Any] | None = None,
             order: str = "+created_at", per_page: int = 50, include_sweeps: bool = False,
             lazy: bool = True) -> Iterable[CloudRun]:
        """Runs of entity/project."""
        ...

    def run(self, path: str = "") -> CloudRun:
        """One run by entity/project/run_id."""
        ...

    def artifact(self, name: str, type: str | None = None) -> CloudArtifact:
        """One artifact version by entity/project/name:version."""
        ...


# Interface -> (the wandb class it stands for, the methods versus calls on it).
REAL_CLASSES: dict[type, tuple[str, tuple[str, ...]]] = {
    CloudApi: ("wandb.apis.public.api:Api", ("runs", "run", "artifact")),
    CloudRun: ("wandb.apis.public.runs:Run", ("logged_artifacts", "scan_history")),
    CloudArtifact: ("wandb.sdk.artifacts.artifact:Artifact", ("get_entry", "download")),
    CloudEntry: ("wandb.sdk.artifacts.artifact_manifest_entry:ArtifactManifestEntry", ("download",)),
}


def _first_line(exc: BaseException) -> str:
    text = first_line(exc, limit=10_000)
    key = os.environ.get("WANDB_API_KEY")
    if key:
        text = text.replace(key, "***")
    return shorten(text, 200)


def explain(exc: BaseException, what: str) -> VersusError:
    """One sentence for a failed W&B call."""
    if isinstance(exc, VersusError):
        return exc
    name = type(exc).__name__
    text = _first_line(exc)
    low = text.lower()
    if "api key" in low or "authentication" in low or "login" in low or name == "UsageError":
        return VersusError("Not logged in to W&B: set WANDB_API_KEY or run `wandb login`, then reload.")
    if name == "AuthenticationError" or "permission" in low or "401" in low or "403" in low:
        return VersusError(f"W&B refused the credentials while {what}; check your login or API key.")
    if "not found" in low or "could not find" in low or "does not exist" in low or "404" in low:
        return VersusError(f"W&B found nothing while {what} ({text}).")
    if name in ("ConnectionError", "Timeout", "ReadTimeout", "ConnectTimeout", "CommError") \
            or "connect" in low or "timed out" in low or "did not respond" in low:
        return VersusError(f"W&B could not be reached while {what} (no network or server trouble).")
    return VersusError(f"W&B failed while {what}: {text}.")


def call(fn: Callable[[], T], what: str, timeout: float = DEFAULT_TIMEOUT_S) -> T:
    """fn() within timeout seconds; a failure or a late answer becomes one VersusError."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller as a VersusError
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="versus-wandb")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise VersusError(f"W&B did not answer within {timeout:.0f} s while {what}; "
                          "check the network and try again.")
    if "error" in box:
        raise explain(box["error"], what) from None
    return box["value"]


def connect(timeout: float = DEFAULT_TIMEOUT_S) -> CloudApi:
    """A logged-in wandb.Api with an HTTP timeout on every request."""
    def make() -> CloudApi:
        import wandb

        return wandb.Api(timeout=max(1, int(timeout)))

    return call(make, "connecting", timeout)


def default_project(api: CloudApi | None = None) -> str:
    """entity/project from WANDB_ENTITY/WANDB_PROJECT or the W&B settings ('' when unknown)."""
    settings = getattr(api, "settings", None) or {}
    entity = os.environ.get("WANDB_ENTITY") or settings.get("entity") or ""
    project = os.environ.get("WANDB_PROJECT") or settings.get("project") or ""
    return f"{entity}/{project}" if entity and project else ""
