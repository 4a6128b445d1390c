"""A model that returns several outputs (a tuple, a list, an ONNX graph with two outputs): versus
scores it by the first and says so on every surface that carries warnings."""
import numpy as np
import pytest
import torch
from torch import nn

from core.architectures import ConvNet
from core.cache import ArrayCache
from core.datasets import load_digits_test
from core.inference import run_models
from core.inference.ray_engine import _probe_widths
from core.preprocessing import Preprocessing
from core.sources import evaluate, parse_source
from tests.model_helpers import digits_tensors

PREP = Preprocessing((28, 28), 1)


class WithFeatures(nn.Module):
    """(logits, something else): the shape of many training-code models."""

    def __init__(self, inner: nn.Module, as_list: bool = False):
        super().__init__()
        self.inner, self.as_list = inner, as_list

    def forward(self, x):
        out = self.inner(x)
        both = [out, out.abs().sum(dim=1)]
        return both if self.as_list else tuple(both)


@pytest.fixture(scope="module")
def convnet():
    torch.manual_seed(0)
    return ConvNet().eval()


@pytest.mark.parametrize("as_list", [False, True])
def test_first_of_several_outputs_is_scored_and_said(convnet, as_list):
    data = load_digits_test()
    out_single, out_tuple = run_models([convnet, WithFeatures(convnet, as_list)], [PREP, PREP], data,
                                       torch.device("cpu"), batch_size=64, names=["plain.pt", "pair.pt"])
    xt, _ = digits_tensors(size=28, split="test")
    with torch.no_grad():
        expected = torch.softmax(convnet(xt), 1).numpy()  # the first output, softmaxed by torch
    np.testing.assert_allclose(out_tuple.scores, expected, atol=1e-5)
    assert out_tuple.meta["warnings"] == ["pair.pt returned 2 outputs; versus took the first as its class scores."]
    assert out_single.meta["warnings"] == []


def test_ray_engine_probe_counts_the_outputs_on_the_driver(convnet):
    assert _probe_widths([convnet, WithFeatures(convnet)], [PREP, PREP], load_digits_test(), ["a", "b"]) == [None, 2]


def test_a_tuple_model_from_a_checkpoint_carries_the_note_through_the_cache(convnet, tmp_path):
    path = tmp_path / "pair.pt"
    torch.jit.trace(WithFeatures(convnet), torch.zeros(2, 1, 28, 28)).save(str(path))
    cache = ArrayCache(tmp_path / "c")
    for _ in range(2):  # computed, then read back from the cache
        p = evaluate([parse_source(str(path))], load_digits_test(), cache=cache, batch_size=64, probe=False)[0]
        assert any("returned 2 outputs; versus took the first" in w for w in p.meta["warnings"]), p.meta["warnings"]


def test_onnx_with_two_outputs_names_the_one_taken(convnet, tmp_path):
    path = tmp_path / "two.onnx"
    torch.onnx.export(WithFeatures(convnet), (torch.zeros(2, 1, 28, 28),), str(path), input_names=["pixels"],
                      output_names=["logits", "norm"], dynamic_axes={"pixels": {0: "n"}, "logits": {0: "n"},
                                                                     "norm": {0: "n"}}, dynamo=False)
    p = evaluate([parse_source(str(path))], load_digits_test(), cache=ArrayCache(tmp_path / "c"), batch_size=50,
                 probe=False)[0]
    xt, _ = digits_tensors(size=28, split="test")
    with torch.no_grad():
        expected = torch.softmax(convnet(xt), 1).numpy()
    np.testing.assert_allclose(p.scores, expected, atol=1e-5)
    assert "The ONNX model two.onnx has 2 outputs; versus took the first, 'logits', as its class scores." \
        in p.meta["warnings"]
