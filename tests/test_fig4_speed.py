"""Issue 15 (the standard report in <= 3 minutes): the learning-rate grid of
``zas.fig4`` computes the gradient at the grid's common initial parameters once
(:meth:`zascheck.measure.resnet.Tuning._first_step`) instead of once per rate.
The records and parameters must be bit for bit those of the whole GD step
(:func:`zascheck.measure.resnet.advance` from the start): same operations,
same float32 roundings, no tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck.measure import resnet as N
from zascheck.measure.idx import load_dataset


@pytest.fixture(scope="module")
def ds():
    return load_dataset(None, 1000)


def _plain(ds, init, L, eta, steps, seed):
    run = N.start_run(
        init, L, eta, ds.X, ds.y, D=16, m=16, classes=ds.classes, rng=np.random.default_rng(seed)
    )
    return N.advance(run, steps)


@pytest.mark.parametrize(
    ("init", "L"), [("mzas", 40), ("xavier", 40), ("mzas-u", 24), ("xavier", 300)]
)
def test_the_shared_first_step_is_the_whole_step_bit_for_bit(ds, init, L):
    seed = [0, 64, L, 1]
    base = N.baseline(ds.y, ds.classes, 0.01, "float32")
    tu = N.Tuning(init, L, ds, D=16, m=16, seed=seed, dtype="float32", horizon=4, base=base)
    for eta in (1.0, 0.05, 1e-3, 1e-7):
        tu.run_at(eta)
        got, want = tu.runs[eta], _plain(ds, init, L, eta, 4, seed)
        assert got.loss == want.loss or np.array_equal(got.loss, want.loss, equal_nan=True)
        assert np.array_equal(got.grad_norm, want.grad_norm, equal_nan=True)
        assert got.accuracy == want.accuracy and got.stopped.startswith(want.stopped)
        assert np.array_equal(got.correct, want.correct)
        if got.params is not None and not want.stopped:
            for a, b in zip(got.params, want.params, strict=True):
                assert np.array_equal(np.asarray(a), np.asarray(b))
