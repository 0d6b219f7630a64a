"""Runs stacked in one batch (``experiments.batch_first_hits``) evolve bit for bit
as they would alone, and no run's record depends on its batch."""

from __future__ import annotations

import numpy as np

from zascheck import dynamics, experiments, inits
from zascheck.arith import Float64Backend, StackedFloat64Backend
from zascheck.measure import escape
from zascheck.model import Target

F = Float64Backend()


def test_a_stacked_batch_gives_each_runs_solo_losses_bit_for_bit():
    rng = np.random.default_rng(7)
    runs = [inits.near_identity(4, 3, rng) for _ in range(5)]
    phi = -np.eye(3)
    br = experiments.batch_first_hits(F, runs, phi, 0.05, rel_tol=1e-8, max_steps=400, record=True)
    for j, ws in enumerate(runs):
        solo = dynamics.gd(F, ws, Target.whitened(F, phi), 0.05, max_steps=br.steps)
        got = br.extra["losses"][:, j]
        assert np.array_equal(got, np.array(solo.losses[: len(got)]))


def test_the_stacked_backend_sums_the_run_losses():
    a = np.arange(12.0).reshape(3, 2, 2)
    sb = StackedFloat64Backend()
    assert sb.fro2(a) == float(np.sum(a * a))
    assert sb.fro2_each(a).tolist() == [float(np.sum(x * x)) for x in a]
    assert sb.T(a)[1].tolist() == a[1].T.tolist()


def test_a_batch_stopped_by_one_diverging_run_is_rerun_run_by_run(monkeypatch):
    """Run 1 diverges (its init is scaled up); the others must get the record
    they get alone, not one cut short at the divergence."""
    base = escape.run_init

    def init(kind, L, d, seed, index):
        ws = base(kind, L, d, seed, index)
        return [w * 3.0 for w in ws] if index == 1 else ws

    monkeypatch.setattr(escape, "run_init", init)
    escape._CACHE.clear()
    batch = escape.escape_runs("near-identity", 4, 3, 0.2, 300, 1e-10, 0, [0, 1, 2])
    solo = []
    for i in (0, 1, 2):
        escape._CACHE.clear()
        solo.append(escape.escape_runs("near-identity", 4, 3, 0.2, 300, 1e-10, 0, [i])[0])
    escape._CACHE.clear()
    assert solo[1]["stop"] == "diverged" and solo[0]["stop"] != "diverged"
    assert batch == solo
