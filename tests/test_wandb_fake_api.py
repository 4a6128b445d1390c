"""The fake cloud API of the tests, and versus's interface, match the installed wandb classes."""
from __future__ import annotations

import importlib
import inspect

import pytest

from core import wandb_api
from core.wandb_api import REAL_CLASSES, CloudApi, CloudArtifact, CloudEntry, CloudRun
from wandb_helpers import FakeApi, FakeArtifact, FakeEntry, FakeRun

FAKES = {CloudApi: FakeApi, CloudRun: FakeRun, CloudArtifact: FakeArtifact, CloudEntry: FakeEntry}


def _real(dotted: str) -> type:
    module, name = dotted.split(":")
    return getattr(importlib.import_module(module), name)


def _shape(fn) -> list[tuple[str, object, object]]:
    """Parameter names, kinds and defaults (annotations are left out: wandb writes them as strings)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("interface", list(REAL_CLASSES), ids=lambda c: c.__name__)
def test_methods_match_the_installed_wandb(interface):
    dotted, methods = REAL_CLASSES[interface]
    real = _real(dotted)
    for name in methods:
        assert callable(getattr(real, name, None)), f"wandb {dotted} has no method {name}"
        want = _shape(getattr(real, name))
        assert _shape(getattr(interface, name)) == want, f"interface {interface.__name__}.{name}"
        assert _shape(getattr(FAKES[interface], name)) == want, f"fake {FAKES[interface].__name__}.{name}"


@pytest.mark.parametrize("interface", list(REAL_CLASSES), ids=lambda c: c.__name__)
def test_attributes_exist_on_the_installed_wandb(interface):
    real = _real(REAL_CLASSES[interface][0])
    fields = set(getattr(real, "model_fields", {}))
    documented = inspect.getdoc(real) or ""
    for name in inspect.get_annotations(interface):
        # A property, a pydantic field, or (for Run) a documented GraphQL attribute.
        assert name in fields or isinstance(inspect.getattr_static(real, name, None), property) \
            or f"{name} (" in documented or name == "settings", f"wandb {real.__name__} has no {name}"


def test_fake_has_every_interface_attribute(tmp_path):
    api = FakeApi()
    art = FakeArtifact(api, "m", "v0", "model", "d", {"a.pt": __file__})
    run = FakeRun("e", "p", "r", "n", {}, [{"_step": 0}], [art])
    for interface, obj in ((CloudApi, api), (CloudRun, run), (CloudArtifact, art),
                           (CloudEntry, art.get_entry("a.pt"))):
        for name in inspect.get_annotations(interface):
            assert hasattr(obj, name), f"{type(obj).__name__} lacks {name}"


def test_settings_attribute_of_real_api_is_a_dict():
    source = inspect.getsource(_real(REAL_CLASSES[CloudApi][0]).__init__)
    assert "self.settings: dict" in source
    assert wandb_api.default_project(FakeApi("team", "proj")) == "team/proj"
