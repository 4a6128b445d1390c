"""Dynamics of a hand-worked series: five examples over four checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import VersusError
from core.series import NOT_LEARNED, dynamics, dynamics_mask, path_string

# Rows are examples here (read left to right over checkpoints 0..3); dynamics() takes (T, n).
PATHS = np.array([
    [1, 1, 1, 1],  # e0: always right, learned at 0
    [0, 0, 0, 0],  # e1: never right, not learned
    [0, 1, 0, 1],  # e2: forgotten once (1 -> 2), learned at 3
    [1, 0, 1, 0],  # e3: forgotten twice (0 -> 1, 2 -> 3), wrong at the end: not learned
    [0, 0, 1, 1],  # e4: learned at 2, never forgotten
], dtype=bool)


def test_hand_worked_series():
    d = dynamics(PATHS.T)
    assert d.forgettings.tolist() == [0, 0, 1, 2, 0]
    assert int(d.forgettings.sum()) == 3
    assert d.never_right.tolist() == [False, True, False, False, False]
    assert d.always_right.tolist() == [True, False, False, False, False]
    assert d.learned_at.tolist() == [0, NOT_LEARNED, 3, NOT_LEARNED, 2]
    assert d.learned_counts() == {"0": 1, "2": 1, "3": 1}


def test_filters_on_the_hand_worked_series():
    d = dynamics(PATHS.T)
    assert dynamics_mask(d, "forgotten").tolist() == [False, False, True, True, False]
    assert dynamics_mask(d, "learned_last").tolist() == [False, False, True, False, False]
    assert dynamics_mask(d, "never_learned").tolist() == [False, True, False, False, False]
    assert dynamics_mask(d, "all").all()
    with pytest.raises(VersusError):
        dynamics_mask(d, "nonsense")


def test_path_string_and_single_checkpoint():
    assert path_string(PATHS[3]) == "✓✗✓✗"
    d = dynamics(np.array([[True, False]]))
    assert d.forgettings.tolist() == [0, 0] and d.learned_at.tolist() == [0, NOT_LEARNED]


def test_random_series_against_a_loop():
    rng = np.random.default_rng(3)
    c = rng.random((7, 200)) < 0.6
    d = dynamics(c)
    for i in range(c.shape[1]):
        col = c[:, i]
        assert d.forgettings[i] == sum(col[t] and not col[t + 1] for t in range(6))
        stays = [t for t in range(7) if col[t:].all()]
        assert d.learned_at[i] == (stays[0] if stays else NOT_LEARNED)
