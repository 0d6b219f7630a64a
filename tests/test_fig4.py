"""zas.fig4: the IDX loader, the residual network (6.1) and its inits (6.2),
the exact tests, the decision rules, the check on the shipped digits and on
Fashion-MNIST-format files given with --data."""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from zascheck import cli
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.errors import InputError
from zascheck.measure import idx
from zascheck.measure import resnet as N
from zascheck.result import Verdict

# ---------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------


def fashion_like(folder: Path, n: int = 60, *, gz: bool = True, seed: int = 0) -> Path:
    """A Fashion-MNIST-format training set: n images 28 x 28 (uint8), labels 0..9."""
    rng = np.random.default_rng(seed)
    ext = ".gz" if gz else ""
    idx.write_idx(
        folder / f"train-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    )
    idx.write_idx(folder / f"train-labels-idx1-ubyte{ext}", (np.arange(n) % 10).astype(np.uint8))
    return folder


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, name, dtype):
    a = (
        (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        if dtype != np.uint8
        else np.arange(24, dtype=dtype).reshape(2, 3, 4)
    )
    b = idx.read_idx(idx.write_idx(tmp_path / name, a))
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_idx_header_is_the_standard_one(tmp_path):
    p = idx.write_idx(tmp_path / "x-idx1-ubyte", np.array([7, 8], np.uint8))
    assert p.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 8])  # 0x00000801, size 2, data


def _raw(tmp_path: Path, data: bytes, name: str = "f-idx1-ubyte") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (b"\x00\x00", "truncated"),
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "wrong magic number"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "wrong magic number"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "truncated header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), r"truncated: shape \(4,\) needs 12 bytes"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "1 bytes after the data"),
    ],
)
def test_idx_malformed_file_names_the_file_and_the_problem(tmp_path, data, msg):
    p = _raw(tmp_path, data)
    with pytest.raises(InputError, match=msg) as e:
        idx.read_idx(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_idx_missing_and_not_gzip(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        idx.read_idx(tmp_path / "nope-idx1-ubyte")
    p = _raw(tmp_path, b"not gzip at all", "g-idx1-ubyte.gz")
    with pytest.raises(InputError, match="not a valid gzip file"):
        idx.read_idx(p)
    p = tmp_path / "t-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1]))[:-6])  # cut gzip stream
    with pytest.raises(InputError, match=re.escape(p.name)):
        idx.read_idx(p)


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_reads_a_synthetic_set(tmp_path, gz):
    fashion_like(tmp_path, 30, gz=gz)
    ds = idx.load_fashion_mnist(tmp_path, 20)
    assert ds.name == "Fashion-MNIST" and ds.X.shape == (20, 784) and ds.y.shape == (20,)
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0 and ds.y.tolist() == [i % 10 for i in range(20)]


def test_load_fashion_mnist_errors(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        idx.load_fashion_mnist(tmp_path / "absent", 10)
    with pytest.raises(InputError, match="train-images-idx3-ubyte: no such file"):
        idx.load_fashion_mnist(tmp_path, 10)
    rng = np.random.default_rng(0)
    idx.write_idx(
        tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    )
    idx.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(InputError, match="11 labels but train-images-idx3-ubyte has 12 images"):
        idx.load_fashion_mnist(tmp_path, 10)
    idx.write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(12, 10, np.uint8))
    with pytest.raises(InputError, match=r"label 10 is outside 0\.\.9"):
        idx.load_fashion_mnist(tmp_path, 10)
    idx.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(12, np.uint8))
    with pytest.raises(InputError, match="fewer than the 20"):
        idx.load_fashion_mnist(tmp_path, 20)
    idx.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((12, 1), np.uint8))
    with pytest.raises(InputError, match="1-d unsigned-byte label array"):
        idx.load_fashion_mnist(tmp_path, 10)
    idx.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((12, 784), np.float32))
    with pytest.raises(InputError, match="3-d unsigned-byte image array"):
        idx.load_fashion_mnist(tmp_path, 10)


def test_shipped_digits_are_sklearns_load_digits():
    sk = pytest.importorskip("sklearn.datasets")
    b = sk.load_digits()
    ds = idx.load_digits_shipped(1000)
    assert np.array_equal(ds.X, b.data[:1000] / 16.0) and np.array_equal(ds.y, b.target[:1000])
    assert ds.d == 64 and ds.classes == 10
    with pytest.raises(InputError, match="fewer than 5000"):
        idx.load_digits_shipped(5000)


# ---------------------------------------------------------------------------
# the network (6.1), the inits (6.2), one GD step
# ---------------------------------------------------------------------------


def _numpy_forward(params, X):
    """eq. (6.1) written out layer by layer in float64 (the scan's reference)."""
    V0, V, U, Uo = (np.asarray(p, np.float64) for p in params)
    z = X @ V0.T
    for l in range(V.shape[0]):
        z = z + np.maximum(z @ V[l].T, 0.0) @ U[l].T
    return z @ Uo.T


def _ce(f, y):
    f = f - f.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(f).sum(axis=1)) - f[np.arange(len(y)), y]))


def test_inits_follow_eq_6_2_and_glorot():
    rng = np.random.default_rng(1)
    V0, V, U, Uo = N.init_params("mzas", 50, 8, 64, 32, 10, rng)
    assert (
        V0.shape == (64, 8)
        and V.shape == (50, 32, 64)
        and U.shape == (50, 64, 32)
        and Uo.shape == (10, 64)
    )
    assert not U.any() and not Uo.any()
    # (V_l)_ij ~ N(0, 1/D): the sample variance of 102400 draws within 5 standard errors
    var, se = float(np.var(V)), (1 / 64) * math.sqrt(2 / V.size)
    assert abs(var - 1 / 64) < 5 * se
    V0, V, U, Uo = N.init_params("xavier", 3, 8, 64, 32, 10, rng)
    for w, (fo, fi) in ((V0, (64, 8)), (V, (32, 64)), (U, (64, 32)), (Uo, (10, 64))):
        a = math.sqrt(6 / (fi + fo))
        assert np.abs(w).max() <= a and np.abs(w).max() > 0.9 * a
    _, _, U, Uo = N.init_params("mzas-u", 3, 8, 64, 32, 10, rng)
    assert U.any() and not Uo.any()
    with pytest.raises(InputError, match="unknown init"):
        N.init_params("he", 3, 8, 4, 4, 10, rng)
    with pytest.raises(InputError, match="parameter L"):
        N.init_params("mzas", 0, 8, 4, 4, 10, rng)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    X = rng.random((20, 6))
    y = np.arange(20) % 10
    return X, y


def test_mzas_starts_at_ln_classes_and_scan_matches_the_layer_loop(small):
    X, y = small
    run = N.start_run(
        "mzas", 5, 0.1, X, y, D=4, m=3, classes=10, rng=np.random.default_rng(0), dtype="float64"
    )
    assert np.allclose(_numpy_forward(run.params, X), 0.0)  # U_{L+1} = 0: f = 0
    N.advance(run, 1)
    assert abs(run.loss[0] - math.log(10)) <= 4 * np.finfo(np.float64).eps
    run2 = N.start_run(
        "mzas-u", 5, 0.1, X, y, D=4, m=3, classes=10, rng=np.random.default_rng(0), dtype="float64"
    )
    p = list(run2.params)
    p[3] = np.random.default_rng(9).normal(size=(10, 4))  # a readout that is not zero
    import jax.numpy as jnp

    run2.params = tuple(jnp.asarray(a) for a in p)
    ref = _ce(_numpy_forward(run2.params, X), y)
    N.advance(run2, 1)
    assert abs(run2.loss[0] - ref) <= 1e-12 * max(1.0, abs(ref))


def test_gradient_matches_finite_differences_and_remat(small):
    """The GD step's update / eta is the gradient: central differences in float64."""
    X, y = small
    run = N.start_run(
        "xavier", 4, 1.0, X, y, D=4, m=3, classes=10, rng=np.random.default_rng(2), dtype="float64"
    )
    theta = [np.asarray(p) for p in run.params]
    step = N._step_fn(False)
    new, R, _, gnorm = step(run.params, *run.data)
    g = [(a - np.asarray(b)) for a, b in zip(theta, new, strict=True)]  # eta = 1
    rng = np.random.default_rng(5)
    dirs = [rng.normal(size=a.shape) for a in theta]
    h = 1e-6

    def loss_at(s):
        return _ce(_numpy_forward([a + s * d for a, d in zip(theta, dirs, strict=True)], X), y)

    fd = (loss_at(h) - loss_at(-h)) / (2 * h)
    an = sum(float(np.sum(gi * d)) for gi, d in zip(g, dirs, strict=True))
    assert abs(fd - an) <= 1e-6 * max(1.0, abs(an)), (fd, an)
    assert abs(float(gnorm) - math.sqrt(sum(float(np.sum(gi * gi)) for gi in g))) <= 1e-10 * float(
        gnorm
    )
    new_r, R_r, _, _ = N._step_fn(True)(run.params, *run.data)
    assert float(R_r) == pytest.approx(float(R), rel=1e-14)
    for a, b in zip(new, new_r, strict=True):
        assert np.allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)


def test_start_run_rejects_bad_input(small):
    X, y = small
    kw = {"D": 4, "m": 3, "classes": 10, "rng": np.random.default_rng(0)}
    with pytest.raises(InputError, match="dtype"):
        N.start_run("mzas", 2, 0.1, X, y, dtype="float16", **kw)
    with pytest.raises(InputError, match="eta"):
        N.start_run("mzas", 2, -0.1, X, y, **kw)
    with pytest.raises(InputError, match="shapes disagree"):
        N.start_run("mzas", 2, 0.1, X, y[:5], **kw)


def test_forward_growth_of_xavier_is_about_three_halves_per_block():
    """E||z_l||^2 grows by 1 + 2Dm/(D+m)^2 = 3/2 per block at D = m (Glorot):
    log10 of the norm ratio ~ (L/2) log10(1.5), within sampling noise."""
    X = np.random.default_rng(0).random((200, 16))
    g = N.forward_log10_growth(
        "xavier", 200, X, D=32, m=32, classes=10, rng=np.random.default_rng(1)
    )
    assert abs(g - 100 * math.log10(1.5)) < 0.25 * 100 * math.log10(1.5)
    assert N.forward_log10_growth(
        "mzas", 200, X, D=32, m=32, classes=10, rng=np.random.default_rng(1)
    ) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------
# exact tests and decision rules
# ---------------------------------------------------------------------------


def _exact_sf(k, n, p):
    q = Fraction(p)
    a, b = q.numerator, q.denominator - q.numerator
    return float(
        Fraction(
            sum(math.comb(n, j) * a**j * b ** (n - j) for j in range(k, n + 1)), q.denominator**n
        )
    )


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [
        (120, 1000, Fraction(104, 1000)),
        (135, 1000, Fraction(26, 250)),
        (600, 1000, Fraction(1, 10)),
        (7, 10, Fraction(1, 2)),
        (0, 3, 0.5),
    ],
)
def test_binomial_sf_against_exact_rationals(k, n, p):
    assert N.binomial_sf(k, n, p) == pytest.approx(_exact_sf(k, n, p), rel=1e-11, abs=0)


def test_mcnemar_counts_discordant_pairs():
    a = np.array([1, 1, 1, 0, 1, 0], bool)
    b = np.array([1, 0, 0, 0, 0, 1], bool)
    t = N.mcnemar_greater(a, b)
    assert (t["only_first_right"], t["only_second_right"]) == (3, 1)
    assert t["p_value"] == pytest.approx(5 / 16)


def _run(loss, correct, stopped=""):
    r = N.Run(
        "mzas",
        3,
        0.1,
        "float32",
        loss=list(loss),
        accuracy=[float(np.mean(correct))] * len(loss),
        grad_norm=[1.0] * len(loss),
        correct=np.asarray(correct, bool),
        stopped=stopped,
    )
    return r


def test_classify_trains_diverges_stalls():
    y = np.arange(100) % 10
    b = N.baseline(y, 10, 0.01, "float32")
    assert b.majority == Fraction(1, 10) and b.entropy == pytest.approx(math.log(10))
    good = np.arange(100) < 30  # 30% right: P(Bin(100, 0.1) >= 30) ~ 1e-7
    assert N.classify(_run([2.3, 2.0], good), b)["status"] == "trains"
    assert (
        N.classify(_run([2.3, 2.0], np.arange(100) < 12), b)["status"] == "stalled"
    )  # not significant
    assert N.classify(_run([2.31, 2.305], good), b)["status"] == "stalled"  # loss above H(y)
    assert N.classify(_run([2.0, 2.1], good), b)["status"] == "diverged"  # grew over the run
    assert N.classify(_run([2.3, float("nan")], good, "non-finite loss"), b)["status"] == "diverged"


def _depth_row(L, mz, xv):
    """per-depth evidence with the grid statuses given as {eta: status}."""

    def side(init, grid):
        rows = [
            {"eta": e, "status": s, "stopped": ""} for e, s in sorted(grid.items(), reverse=True)
        ]
        return {"init": init, "grid": rows}

    return {
        "L": L,
        "roles": {"mzas": "mzas", "xavier": "xavier"},
        "mzas": side("mzas", mz),
        "xavier": side("xavier", xv),
        "tune_iterations": 5,
    }


def test_part_b_rules():
    from zascheck import engine

    fig4 = sys.modules[engine.card("zas.fig4").module]  # tests reach cards through the engine

    ok = fig4._blowup_at(_depth_row(2000, {0.1: "diverged", 0.02: "trains"}, {0.02: "diverged"}), 2)
    assert ok[0] is Verdict.HOLDS and ok[2] == 1.0
    far = fig4._blowup_at(_depth_row(2000, {0.02: "trains"}, {0.02: "stalled", 1e-4: "trains"}), 2)
    assert far[0] is Verdict.HOLDS
    near = fig4._blowup_at(_depth_row(2000, {0.02: "trains"}, {0.02: "stalled", 1e-3: "trains"}), 2)
    assert near[0] is Verdict.VIOLATED and near[3]["xavier_trains_at"] == [1e-3]
    none = fig4._blowup_at(_depth_row(2000, {0.02: "stalled"}, {0.02: "diverged"}), 2)
    assert none[0] is Verdict.INCONCLUSIVE
    stall = fig4._blowup_at(_depth_row(2000, {0.02: "trains"}, {0.02: "stalled"}), 2)
    assert stall[0] is Verdict.INCONCLUSIVE


# ---------------------------------------------------------------------------
# the check
# ---------------------------------------------------------------------------

TINY = {
    "depths": [3, 6],
    "iterations": [8, 8],
    "tune_iterations": [8, 8],
    "etas": [0.1, 0.01, 0.001],
}


@pytest.fixture(scope="module")
def quick():
    return run_check(checks_for(["zas.fig4"])[0], RunContext())


def test_quick_budget_on_the_shipped_digits(quick):
    r = quick
    parts = {p.part: p for p in r.parts}
    assert set(parts) == {"a-mzas-trains", "b-xavier-blows-up", "c-mzas-matches"}
    assert parts["a-mzas-trains"].verdict is Verdict.HOLDS
    assert parts["c-mzas-matches"].verdict is Verdict.HOLDS
    assert parts["b-xavier-blows-up"].verdict is Verdict.INCONCLUSIVE  # no depth >= 2000 in quick
    assert r.verdict is Verdict.INCONCLUSIVE
    assert r.params["data"] == "digits (scikit-learn)" and r.params["D"] == 16
    assert r.scope["data"]["covered"].startswith("digits") and not r.scope["L"]["universal"]
    json.dumps(r.to_dict(), allow_nan=False)
    for e in r.evidence["per_depth"]:
        assert math.isclose(e["mzas"]["loss_t0"], math.log(10), rel_tol=1e-6)  # f = 0 at mZAS
        assert e["mzas"]["tuned"]["curves"]["t"][0] == 0


def test_control_u_not_zero_breaks_part_a():
    r = run_check(checks_for(["zas.fig4"])[0], RunContext(), control="u-not-zero")
    parts = {p.part: p for p in r.parts}
    assert r.verdict is Verdict.VIOLATED and parts["a-mzas-trains"].verdict is Verdict.VIOLATED
    assert r.counterexample["init"] == "mzas-u"


def test_bad_parameters_are_input_errors():
    chk = checks_for(["zas.fig4"])[0]
    with pytest.raises(InputError, match="tune_iterations"):
        run_check(chk, RunContext(), case=TINY | {"tune_iterations": [9, 8]})
    with pytest.raises(InputError, match="inits"):
        run_check(chk, RunContext(), case=TINY | {"inits": ["mzas", "he"]})
    with pytest.raises(InputError, match="parameter n"):
        run_check(chk, RunContext(), case=TINY | {"n": 1})
    with pytest.raises(InputError, match="dtype"):
        run_check(chk, RunContext(), case=TINY | {"dtype": "float16"})
    with pytest.raises(InputError, match="fewer than 5000"):
        run_check(chk, RunContext(), case=TINY | {"n": 5000})


def test_check_with_data_reads_fashion_mnist_files(tmp_path, capsys):
    fashion_like(tmp_path, 60)
    out = tmp_path / "r.json"
    case = json.dumps(TINY | {"n": 50})
    assert (
        cli.main(
            [
                "check",
                "zas.fig4",
                "--data",
                str(tmp_path),
                "--case",
                case,
                "--json",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    r = json.loads(out.read_text())["results"][0]
    assert r["params"]["data"] == "Fashion-MNIST" and r["params"]["d"] == 784
    assert "Fashion-MNIST" in r["scope"]["data"]["covered"]


def _cli(*args):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "zascheck", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_malformed_data_is_exit_2_with_one_line(tmp_path):
    fashion_like(tmp_path, 60, gz=False)
    p = tmp_path / "train-labels-idx1-ubyte"
    p.write_bytes(b"\x00\x01" + p.read_bytes()[2:])
    r = _cli("check", "zas.fig4", "--data", str(tmp_path), "--no-progress")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(p) in lines[0] and "wrong magic number" in lines[0]
    r = _cli("check", "zas.fig4", "--data", str(tmp_path / "absent"), "--no-progress")
    assert r.returncode == 2 and "no such folder" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------


def test_report_runs_fig4_at_its_own_budget():
    from zascheck.report import plan

    budgets = {"quick": "quick", "standard": "standard", "full": "thorough"}
    for report, check in budgets.items():
        p = plan(report, seeds=2, seed=0)
        (case,) = [c for c in p["checks"] if c.params["key"] == "zas.fig4:gd"]
        assert case.params["budget"] == check
        others = {c.params["budget"] for c in p["checks"] if c.params["key"] != "zas.fig4:gd"}
        assert len(others) == 1


def test_report_figure_from_the_check_evidence(quick, tmp_path):
    from zascheck.report import figures_data

    figs = {}

    def record(name, files, caption, data):
        figs[name] = (files, caption, data)

    figures_data._draw_fig4(tmp_path, {("zas.fig4", "gd"): quick}, record)
    files, caption, _ = figs["fig4"]
    assert {Path(f).suffix for f in files} == {".png", ".svg"}
    for f in files:
        assert (tmp_path / Path(f).name).stat().st_size > 1000
    assert "digits (scikit-learn)" in caption and "D = 16" in caption


def test_part_c_has_a_measured_value_when_xavier_never_trains():
    """(c) is decided by divergence when Xavier trains at no depth: the result
    carries that fraction, never a verdict with no value (issue 10, item 3)."""
    import sys

    from zascheck import engine
    from zascheck.result import Verdict

    # the card's helper, from the module the engine loaded (tests never import cards)
    _part_c_measure = sys.modules[engine.card("zas.fig4").module]._part_c_measure

    assert _part_c_measure([], [Verdict.HOLDS] * 4)[:2] == (1.0, 1.0)
    assert _part_c_measure([], [Verdict.HOLDS, Verdict.INCONCLUSIVE])[0] == 0.5
    assert _part_c_measure([0.2, -0.01], [Verdict.HOLDS, Verdict.HOLDS])[:2] == (-0.01, 0.0)
