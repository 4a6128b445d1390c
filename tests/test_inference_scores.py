"""Scores done right: probabilities and log-probabilities are not softmaxed again (and it is
said); non-finite outputs and failing or odd models are one sentence naming the model."""
import numpy as np
import pytest
import torch
from scipy.special import softmax
from torch import nn

from core.datasets import load_digits_test
from core.errors import VersusError
from core.inference import run_models
from core.inference.scores import EXP, NONE, SOFTMAX
from core.preprocessing import Preprocessing

PREP = Preprocessing((8, 8), 1)


class Linear(nn.Module):
    """A fixed linear classifier on 8x8 digits; `head` says what it returns."""

    def __init__(self, head: str = "logits") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(64, 10)
        self.head = head

    def forward(self, x):
        z = self.fc(x.flatten(1)) * 3
        if self.head == "probs":
            return torch.softmax(z, 1)
        if self.head == "logprobs":
            return torch.log_softmax(z, 1)
        return z


def _data():
    d = load_digits_test()
    d.ids, d.truth, d.array = d.ids[:100], d.truth[:100], d.array[:100]
    return d


def _logits(data):
    m = Linear()
    x = torch.from_numpy(data.array.astype(np.float32) / 255).reshape(len(data), 64)
    with torch.no_grad():
        return m.fc(x).numpy() * 3


def test_probabilities_and_log_probabilities_are_not_softmaxed_again():
    data = _data()
    want = softmax(_logits(data).astype(np.float64), axis=1)  # scipy is the oracle
    names = ["A.pt", "B.pt", "C.pt"]
    outs = run_models([Linear("logits"), Linear("probs"), Linear("logprobs")], [PREP] * 3, data,
                      torch.device("cpu"), batch_size=32, names=names)
    for out in outs:
        np.testing.assert_allclose(out.scores, want, atol=1e-5)
    assert [o.meta["score_conversion"] for o in outs] == [SOFTMAX, NONE, EXP]
    assert outs[0].meta["warnings"] == []
    assert outs[1].meta["warnings"] == ["B.pt already outputs probabilities; they were used as they are "
                                        "(no second softmax)."]
    assert "C.pt outputs log-probabilities" in outs[2].meta["warnings"][0]


class Broken(nn.Module):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.fc = nn.Linear(64, 10)
        self.calls = 0

    def forward(self, x):
        z = self.fc(x.flatten(1))
        self.calls += 1
        # call 1 is the one-row probe of the output width; row 5 of the second batch of 32: example 37
        if self.what == "nan" and self.calls == 3:
            return z.masked_fill(torch.arange(len(z))[:, None] == 5, float("nan"))
        if self.what == "inf":
            return z + float("inf")
        if self.what == "value":
            raise ValueError("bad things happened")
        if self.what == "jit":
            raise torch.jit.Error("The following operation failed in the TorchScript interpreter.")
        if self.what == "key":
            raise KeyError("missing")
        if self.what == "dict":
            return {"out": z, "aux": z}
        if self.what == "batch":
            return z[:-1]
        if self.what == "shape":
            return z[:, :, None]
        if self.what == "none":
            return None
        return z


@pytest.mark.parametrize("what, message", [
    ("nan", r"^m\.pt outputs non-finite scores \(NaN or Inf\), first on example 37;"),
    ("inf", r"^m\.pt outputs non-finite scores .* first on example 0;"),
    ("value", r"^m\.pt failed on input of shape \(32, 1, 8, 8\) \(ValueError: bad things happened\)"),
    ("jit", r"^m\.pt failed .*\(Error: The following operation failed"),
    ("key", r"^m\.pt failed .*\(KeyError: 'missing'\)"),
    ("dict", r"^m\.pt returned a dict \(keys out, aux\), not a tensor of class scores\.$"),
    ("batch", r"^m\.pt returned 31 rows for a batch of 32 images\.$"),
    ("shape", r"^m\.pt returned shape \(32, 10, 1\), not \(batch, classes\)\.$"),
    ("none", r"^m\.pt returned NoneType, not a tensor of class scores\.$"),
])
def test_bad_model_outputs_are_one_sentence_naming_the_model(what, message):
    with pytest.raises(VersusError, match=message):
        run_models([Broken(what)], [PREP], _data(), torch.device("cpu"), batch_size=32, names=["m.pt"])


def test_reduced_precision_is_recorded_and_said():
    data = _data()
    out = run_models([Linear()], [PREP], data, torch.device("cpu"), batch_size=32, precision="bf16",
                     names=["A.pt"])[0]
    assert out.meta["precision"] == "bf16"
    assert out.meta["warnings"] == ["A.pt ran in bf16; its scores can differ from fp32 in the last digits."]
    want = softmax(_logits(data).astype(np.float64), axis=1)
    assert np.abs(out.scores - want).max() < 0.05  # close to fp32, not equal
    with pytest.raises(VersusError, match="Precision 'fp8' is not one of fp32, bf16, fp16"):
        run_models([Linear()], [PREP], data, torch.device("cpu"), precision="fp8")
