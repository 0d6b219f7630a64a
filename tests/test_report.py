"""The report layer: cache/resume, atomicity, determinism, and the figure checks' helpers.

Fast: tiny cases (the ``sleep`` kind) stand in for the real sweeps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from zascheck.report import build_report
from zascheck.report.cache import Cache, remove_stale_tmp
from zascheck.report.cases import Case
from zascheck.report.runner import run_cases


def _plan(n: int, seconds: float) -> dict[str, list[Case]]:
    return {"sleep": [Case("sleep", {"seconds": seconds, "value": i}) for i in range(n)]}


def _cache_files(out: Path) -> list[Path]:
    return sorted((out / ".cache").glob("*.json"))


def test_cache_roundtrip_and_determinism(tmp_path: Path) -> None:
    c = Cache(tmp_path)
    cases = [Case("sleep", {"seconds": 0.0, "value": i}) for i in range(3)]
    v1 = run_cases(cases, c, jobs=1)
    assert [v["value"] for v in v1] == [0, 1, 2] and c.stored == 3 and c.hits == 0
    c2 = Cache(tmp_path)
    v2 = run_cases(cases, c2, jobs=1)
    assert c2.hits == 3 and c2.stored == 0
    assert [v["value"] for v in v2] == [0, 1, 2]


def test_interrupted_report_resumes_and_leaves_no_partial_files(tmp_path: Path) -> None:
    """Kill a report half-way (SIGTERM, as ``timeout`` does); the finished cases
    are cached, no temporary or half-written file remains, and a second run
    takes the finished cases from the cache."""
    out = tmp_path / "rep"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from zascheck.report import build_report
        from zascheck.report.cases import Case
        plan = {{"sleep": [Case("sleep", {{"seconds": 0.15, "value": i}}) for i in range(10)]}}
        build_report(out=Path({str(out)!r}), jobs=1, _plan=plan)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 15
    while time.time() < deadline and len(_cache_files(out)) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert proc.returncode != 0
    done = _cache_files(out)
    assert 3 <= len(done) < 10
    # nothing half-written: every cache entry parses, no temporary files, no claims.json yet
    for p in done:
        assert "value" in json.loads(p.read_text())
    assert not list(out.rglob("*.tmp"))
    assert not (out / "claims.json").exists()
    # resume: the finished cases are cache hits
    c = Cache(out / ".cache")
    vals = run_cases(_plan(10, 0.15)["sleep"], c, jobs=1)
    assert c.hits == len(done)
    assert [v["value"] for v in vals] == list(range(10))


def test_parallel_run_matches_serial(tmp_path: Path) -> None:
    cases = [Case("sleep", {"seconds": 0.0, "value": i}) for i in range(4)]
    a = run_cases(cases, Cache(None), jobs=2)
    b = run_cases(cases, Cache(None), jobs=1)
    strip = lambda vs: [{k: v for k, v in x.items() if k not in ("_seconds", "_cpu_seconds")} for x in vs]  # noqa: E731
    assert strip(a) == strip(b)


def test_stale_tmp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".cache").mkdir()
    stale = tmp_path / ".cache" / ".abc.json.123.tmp"
    stale.write_text("half")
    assert remove_stale_tmp(tmp_path) == 1 and not stale.exists()
    build_report(out=tmp_path, jobs=1, _plan=_plan(1, 0.0))
    assert json.loads((tmp_path / "claims.json").read_text())["meta"] == {"test": True}


def test_fig2_scalar_reduction_is_exact() -> None:
    from zascheck.measure.figures import fig2_equivalence

    eq = fig2_equivalence(d=7, depths=[2, 4], steps=10)
    assert eq["max_weight_deviation"] == 0.0
    assert eq["max_relative_loss_deviation"] < 1e-14


def test_fig2_result_reading() -> None:
    from zascheck.measure.figures import fig2_result

    L = [10, 20, 50, 100, 200]
    good = fig2_result({"s": {"claimed": 0.5, "depths": L, "iterations": [round(3 * x**0.5) for x in L]}})
    assert good.verdict.value == "holds"
    bad = fig2_result({"s": {"claimed": 1.0, "depths": L, "iterations": [round(3 * x**0.3) for x in L]}})
    assert bad.verdict.value == "violated"


def test_tune_lr_finds_the_l1_optimum() -> None:
    """L = 1 whitened: R(t) = (1 - eta)^(2t) R(0), so eta = 1 converges in one step."""
    from zascheck.arith import Float64Backend
    from zascheck.measure.figures import tune_lr
    from zascheck.model import Target

    b = Float64Backend()
    out = tune_lr(b, [np.zeros((1, 1))], Target.whitened(b, np.array([[2.0]])), 1e-10, 0.25)
    assert out["iterations"] == 1 and out["eta"] == pytest.approx(1.0)


def test_report_budgets_are_consistent() -> None:
    from zascheck.report import CHECK_BUDGET, plan, report_config

    for budget in CHECK_BUDGET:
        p = plan(budget, seeds=3, seed=0)
        assert len(p["fig3"]) == 4
        assert all(c.kind == "check" for c in p["checks"])
    assert max(report_config("standard")["fig2"]["depths"]) == 10_000  # the paper's range
    assert min(report_config("standard")["fig2"]["depths"]) == 10
    assert os.cpu_count()


def test_review_and_ssm_figures_write_png_and_svg(tmp_path: Path) -> None:
    """The figures drawn from CheckResult evidence (shamir.lower, review.alpha,
    review.last-cI, review.any-layer, SSM) write PNG and SVG from minimal evidence."""
    from zascheck.report import plots

    fit = {"slope": 0.2, "intercept": 3.0, "slope_se": 0.03, "rss": 0.5}
    arm = {"depths": [2, 4, 6], "median": [40, 80, 8000], "censored": [False, False, True],
           "hits": {"2": [40, None], "4": [80, 90], "6": [None, None]}, "stopped_at": [41, 95, 8000],
           "fits": {"exponential": fit, "polynomial": fit}}
    zas = {"depths": [2, 4, 8], "median": [41, 42, 46], "censored": [False] * 3,
           "fits": {"exponential": fit, "polynomial": fit}}
    shamir = {"arms": {"near-identity": arm, "xavier": arm, "zas": zas}, "eta0": 0.25, "rel_tol": 1e-10,
              "max_steps": 8000}
    flow = {"per_case": {f"alpha{a}_L3": {"times": [0.01, 0.1], "ratio": [0.99, 0.9], "rate": a**4}
                         for a in (1.5, 2.0)}}
    gd = [{"alpha": a, "L": L, "tuned_iterations": n, "eta_max": 0.7 / a, "tuned_eta": 0.3 / a}
          for L in (2, 3) for a, n in ((1.0, 14), (2.0, None), (3.0, 4))]
    rates = [{"c": c, "L": L, "phi": "-I", "empirical_rate": (1 - c * c) ** (L - 1) * 1.1}
             for c in (0.1, 0.5) for L in (2, 3)]
    anyl = {"per_case": {f"L2_k{k}": {"times": [0.5, 1.0], "ratio": [0.9, 0.8]} for k in (1, 2)},
            "trajectory_comparison": {"2": {"max_abs_P_diff": 1e-38, "tolerance_max": 1e-14}}}
    thm1 = {"minima": [{"kind": "balanced", "top": 8.0}, {"kind": "unbalanced", "top": 9.0}], "bound": 8.0, "L": 2}
    sharp = {"runs": [{"eta_frac": 0.5, "eta_lambda_max": 1.0}, {"eta_frac": 1.3}], "rho": 1.7, "L": 2}
    ex1 = {"amplitude": 0.0625, "eta": 0.5, "schedule": "c/t",
           "constant_step_iterates": {"10": [10.0, 1.0, -0.0625, 0.0625]},
           "diminishing_series": {"t": [0, 1, 10], "x": [0.4, -0.2, 0.002], "envelope": [None, 0.25, 0.0025]}}
    files = (plots.shamir(tmp_path, shamir) + plots.alpha(tmp_path, flow, gd) + plots.last_ci(tmp_path, rates)
             + plots.any_layer(tmp_path, anyl) + plots.ssm(tmp_path, thm1, sharp, ex1)
             + plots.ssm(tmp_path, None, None, None))
    for f in files:
        p = tmp_path / Path(f).name
        assert p.suffix in (".png", ".svg") and p.stat().st_size > 1000
    assert {Path(f).stem for f in files} == {"shamir", "alpha", "last-ci", "any-layer", "ssm"}
    assert not list(tmp_path.glob("*.tmp"))
