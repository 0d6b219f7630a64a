"""``benchmarks/run.py`` times the GD loop's own step (issue 15): its
``loop_step`` on large float64 layers is the fused route of
:func:`zascheck.dynamics.gd`, call after call, bit for bit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from zascheck import dynamics, inits
from zascheck.arith import backend
from zascheck.model import Target


def _bench_module(name: str = "run"):
    """``benchmarks/<name>.py`` imported as a module (benchmarks is not a package)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_module():
    return _bench_module("run")


def test_benchmark_step_is_the_gd_loop_step():
    run = _run_module()
    b = backend("float64")
    rng = np.random.default_rng(0)
    ws0 = [b.matrix(w) for w in inits.near_identity(6, 50, rng)]
    target = Target.whitened(b, rng.standard_normal((50, 50)) / 7)
    step = run.loop_step(b, [w.copy() for w in ws0], target, 1e-2)
    for _ in range(4):
        ws = step()
    ref = dynamics.gd(b, ws0, target, 1e-2, max_steps=4)
    assert all(np.array_equal(x, y) for x, y in zip(ws, ref.ws, strict=True))


def test_benchmark_step_on_small_layers_is_the_plain_step():
    run = _run_module()
    b = backend("float64")
    ws0 = [b.matrix(w) for w in inits.near_identity(3, 4, np.random.default_rng(1))]
    target = Target.whitened(b, np.eye(4))
    step = run.loop_step(b, ws0, target, 1e-2)
    first, second = step(), step()  # each call from the same weights
    assert all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))
    assert all(
        np.array_equal(x, y)
        for x, y in zip(first, dynamics.gd(b, ws0, target, 1e-2, max_steps=1).ws, strict=True)
    )


def test_threads_above_the_cores_are_refused(capsys):
    """``--threads`` above the cores is refused (exit 2, one line naming it):
    the BLAS would cap it silently and the table's header would say a count
    that is not in force (adversary, session 5)."""
    import os

    import pytest

    run = _run_module()
    too_many = (os.cpu_count() or 1) + 1
    with pytest.raises(SystemExit) as exc:
        run.main(["--threads", str(too_many)])
    assert exc.value.code == 2
    assert f"--threads {too_many}" in capsys.readouterr().err


def test_precision_table_exits_1_when_a_target_fails(monkeypatch):
    """``targets_precision.py`` exits 1 when a row FAILs, as run.py does."""
    mod = _bench_module("targets_precision")
    rows = {
        "a:x": [{"target": "t", "value": 5.0, "goal": "<= 4x", "pass": False, "detail": ""}],
        "b:y": [{"target": "t", "value": 3.0, "goal": "<= 4x", "pass": True, "detail": ""}],
    }
    monkeypatch.setattr(mod, "precision_checks", lambda: list(rows))
    monkeypatch.setattr(mod, "check_rows", lambda cid, quick: rows[cid])
    assert mod.main(["a:x"]) == 1
    assert mod.main(["b:y"]) == 0


def test_precision_rows_fail_for_a_missing_check_or_a_time_limit(monkeypatch):
    """A ratio row FAILs, whatever its ratio, when the check is gone from the
    catalogue (it does not vanish from the table) or when the time limit
    stopped it at 128 or 256 bits (its time is not the check's); adversary,
    session 6."""
    mod = _bench_module("targets_precision")
    (gone,) = mod.check_rows("zas.no-such-claim:flow")
    assert gone["pass"] is False and "UnknownClaimError" in gone["detail"]
    times = {128: (1.0, "holds"), 256: (2.0, "limit"), 512: (3.0, "holds")}
    monkeypatch.setattr(mod, "check_seconds", lambda cid, bits: times[bits])
    (row,) = mod.check_rows("zas.saddle:flow", quick=True)
    assert row["value"] == 2.0 and row["pass"] is False and "limit" in row["detail"]
    times[256] = (2.0, "holds")
    (row,) = mod.check_rows("zas.saddle:flow", quick=True)
    assert row["pass"] is True
    monkeypatch.setattr(mod, "QUICK_CHECKS", ("zas.no-such-claim:flow",))
    assert mod._ids(quick=True) == ["zas.no-such-claim:flow"]
