"""The fast paths of ``iv64`` (issue 15, target 2) keep its soundness.

* The compiled loops (:mod:`zascheck.iv64_kernels`) compute bit for bit what
  the numpy code they replace computes (so the proofs in :mod:`zascheck.iv64`
  cover them); the squared Frobenius norm, whose kernel sums in another
  order, encloses the exact value instead.
* Both forms of a product (``[mA, |mA|, rA] @ F(B)`` and ``F(A) @ [mB, |mB|,
  rB]``), the batched gradients (``mm_each``) and the batched update
  (``sub_scaled_each``) enclose the exact rational result of every point of
  their interval operands tried (corners and midpoints), with and without
  the kernels.
* The batched calls return what model.py's per-layer formula would: same
  layers, same order; ``stacked`` reads a batched result without copying.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zascheck import iv64, model
from zascheck.arith import ExactBackend
from zascheck.iv64 import Iv1, Iv64Backend, MidRad, partner_form, partner_forms, stacked

IV = Iv64Backend()
EX = ExactBackend()

_MAGS = [0.0, 1.0, 2.0**-30, 2.0**30, 1e-300, 2.0**-1060, 5e-324, 1e150]
_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _wild(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries of every magnitude (subnormal to 1e150), both signs, zeros."""
    mags = rng.choice(_MAGS, size=shape)
    return mags * rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _interval(rng: np.random.Generator, shape: tuple[int, ...], wild: bool) -> MidRad:
    """A MidRad with random midpoints and nonnegative radii (some zero)."""
    mid = _wild(rng, shape) if wild else rng.uniform(-2, 2, size=shape)
    rad = np.abs(_wild(rng, shape)) * 1e-10 if wild else rng.uniform(0, 1e-3, size=shape)
    rad[rng.random(shape) < 0.3] = 0.0
    return MidRad(mid, rad)


def _points(x: MidRad, rng: np.random.Generator, k: int = 3) -> list[list[list[Fraction]]]:
    """``k`` exact points of ``x`` (each entry ``mid + s rad``, ``s`` in {-1, 0, 1})."""
    out = []
    for _ in range(k):
        s = rng.integers(-1, 2, size=x.mid.shape)
        out.append(
            [
                [Fraction(m) + int(si) * Fraction(r) for m, r, si in zip(mr, rr, sr, strict=True)]
                for mr, rr, sr in zip(x.mid.tolist(), x.rad.tolist(), s.tolist(), strict=True)
            ]
        )
    return out


def _inside(enc: MidRad, exact: list[list[Fraction]]) -> bool:
    lo, hi = enc.lower().tolist(), enc.upper().tolist()
    return all(
        Fraction(lo_) <= v <= Fraction(hi_)
        for lr, hr, er in zip(lo, hi, exact, strict=True)
        for lo_, hi_, v in zip(lr, hr, er, strict=True)
    )


def _exact_mm(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
    return [
        [
            sum((x * y for x, y in zip(row, col, strict=True)), Fraction(0))
            for col in zip(*b, strict=True)
        ]
        for row in a
    ]


@pytest.fixture(params=[True, False], ids=["kernels", "numpy"])
def kernels(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(iv64, "USE_KERNELS", request.param)
    return bool(request.param)


# --- the kernels compute what the numpy code computes, bit for bit -----------------------
def _both(fn: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setattr(iv64, "USE_KERNELS", True)
    a = fn()
    monkeypatch.setattr(iv64, "USE_KERNELS", False)
    b = fn()
    monkeypatch.setattr(iv64, "USE_KERNELS", True)
    return a, b


def _same_bits(x: np.ndarray, y: np.ndarray) -> bool:
    return x.shape == y.shape and bool(np.all((x == y) | (np.isnan(x) & np.isnan(y))))


@pytest.mark.parametrize("seed", range(6))
def test_kernels_match_the_numpy_reference_bit_for_bit(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    wild = seed % 2 == 0
    a, b = _interval(rng, (7, 5), wild), _interval(rng, (7, 5), wild)
    c = _interval(rng, (5, 6), wild)
    with IV.session():
        for fn in (
            lambda: IV.add(a, b).data,
            lambda: IV.sub(a, b).data,
            lambda: partner_forms(a.data, 5),
            lambda: IV.mm(MidRad.packed(a.data), c).data,  # F(A) @ [mB, |mB|, rB]
        ):
            x, y = _both(fn, monkeypatch)
            assert _same_bits(x, y)
        for eta in (Iv1(2.0**-7), IV.scalar(Fraction(1, 3))):  # a point, an interval
            sa, sg = np.stack([a.data, b.data], axis=1), np.stack([b.data, a.data], axis=1)
            for n in (None, 5):
                (x, fx), (y, fy) = _both(
                    lambda sa=sa, eta=eta, sg=sg, n=n: iv64.sub_scaled_stack(sa, eta, sg, n),
                    monkeypatch,
                )
                assert _same_bits(x, y)
                if n is None:
                    assert fx is None and fy is None
                else:
                    assert _same_bits(fx, fy) and _same_bits(fx, partner_forms(x, n))


def test_fro2_kernel_encloses_the_exact_value(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    for wild in (False, True):
        a = _interval(rng, (6, 6), wild)
        for use in (True, False):
            monkeypatch.setattr(iv64, "USE_KERNELS", use)
            with IV.session():
                f = IV.fro2(a)
            for pt in _points(a, rng):
                exact = sum((x * x for row in pt for x in row), Fraction(0))
                assert Fraction(f.lo) <= exact <= Fraction(f.hi)


# --- both product forms and the batched calls enclose every exact point --------------------
@_SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    r=st.integers(1, 7),
    n=st.integers(1, 7),
    c=st.integers(1, 7),
    wild=st.booleans(),
    b_form=st.booleans(),
)
def test_both_product_forms_enclose_exact_points(
    seed: int, r: int, n: int, c: int, wild: bool, b_form: bool
) -> None:
    rng = np.random.default_rng(seed)
    a, b = _interval(rng, (r, n), wild), _interval(rng, (n, c), wild)
    for use in (True, False):
        iv64.USE_KERNELS = use
        try:
            aa, bb = MidRad.packed(a.data), MidRad.packed(b.data)
            if b_form:
                partner_form(bb, n)  # [mA, |mA|, rA] @ F(B); else F(A) @ [mB, |mB|, rB]
            with IV.session():
                p = IV.mm(aa, bb)
        finally:
            iv64.USE_KERNELS = True
        for pa, pb in zip(_points(a, rng), _points(b, rng), strict=True):
            assert _inside(p, _exact_mm(pa, pb))


def test_batched_gradients_and_updates_enclose_exact_points(kernels: bool) -> None:
    rng = np.random.default_rng(11)
    L, d = 5, 4
    ts = [_interval(rng, (d, d), False) for _ in range(L)]
    ps = [_interval(rng, (d, d), False) for _ in range(L)]
    with IV.session():
        gs = IV.mm_each(ts, [IV.T(p) for p in ps])
        for eta in (Iv1(2.0**-5), IV.scalar(Fraction(1, 3))):
            new = IV.sub_scaled_each(ps, eta, gs)
            assert [x.data.shape for x in new] == [(3, d, d)] * L
            for w, g, x in zip(ps, gs, new, strict=True):
                for pw, pg in zip(_points(w, rng), _points(g, rng), strict=True):
                    for s in (Fraction(eta.lo), Fraction(eta.hi)):
                        exact = [
                            [x_ - s * y for x_, y in zip(rw, rg, strict=True)]
                            for rw, rg in zip(pw, pg, strict=True)
                        ]
                        assert _inside(x, exact)
                # the form carried over to the next step is the form of the new layer
                assert np.array_equal(x.forms[d], partner_forms(x.data, d))
    for t, p, g in zip(ts, ps, gs, strict=True):
        for pt, pp in zip(_points(t, rng), _points(p, rng), strict=True):
            assert _inside(g, _exact_mm(pt, [list(col) for col in zip(*pp, strict=True)]))


def test_gd_steps_enclose_exact_with_and_without_kernels(kernels: bool) -> None:
    """Two GD steps through model.py (its hooks: mm_each, sub_scaled_each)
    enclose the exact rational steps, at L = 4, d = 5."""
    rng = np.random.default_rng(3)
    ws = [np.eye(5) + rng.uniform(-0.1, 0.1, (5, 5)) for _ in range(4)]
    phi = rng.uniform(-1, 1, (5, 5))
    out = {}
    for b in (IV, EX):
        with b.session():
            w = [b.matrix(x) for x in ws]
            tg = model.Target.whitened(b, phi)
            for _ in range(2):
                r, g = model.loss_and_grads(b, w, tg)
                w = model.gd_update(b, w, g, b.scalar(2.0**-4))
            out[b.name] = (r, g, w)
    (ri, gi, wi), (re, ge, we) = out["iv64"], out["exact"]
    assert Fraction(ri.lo) <= Fraction(int(re.p), int(re.q)) <= Fraction(ri.hi)
    for x, y in [*zip(gi, ge, strict=True), *zip(wi, we, strict=True)]:
        exact = [
            [Fraction(int(e.p), int(e.q)) for e in row]
            for row in np.array(y.entries()).reshape(5, 5).tolist()
        ]
        assert _inside(x, exact)


# --- the batched calls return the layers model.py expects ------------------------------------
def test_batched_results_are_layers_in_order_and_read_back_without_copy() -> None:
    rng = np.random.default_rng(5)
    ws = [IV.matrix(rng.standard_normal((3, 3))) for _ in range(7)]
    gs = [IV.matrix(rng.standard_normal((3, 3))) for _ in range(7)]
    with IV.session():
        new = IV.sub_scaled_each(ws, Iv1(0.5), gs)
        ref = [IV.sub(w, IV.scale(0.5, g)) for w, g in zip(ws, gs, strict=True)]
        base = stacked(new)
        assert base is new[0].stack[0] and np.shares_memory(base, new[3].data)
        assert not np.shares_memory(stacked(new[::-1]), base)  # out of order: a copy
        for x, y in zip(new, ref, strict=True):
            assert np.array_equal(x.mid, y.mid)  # the same midpoint arithmetic
        prods = IV.mm_each(ws, gs)
        for x, w, g in zip(prods, ws, gs, strict=True):
            assert np.allclose(x.mid, w.mid @ g.mid, rtol=1e-14, atol=0)


def test_batched_calls_fall_back_for_mixed_shapes_and_reject_bad_lists() -> None:
    rng = np.random.default_rng(6)
    a = [IV.matrix(rng.standard_normal((2, 3))), IV.matrix(rng.standard_normal((3, 3)))]
    b = [IV.matrix(rng.standard_normal((3, 2))), IV.matrix(rng.standard_normal((3, 4)))]
    with IV.session():
        assert [x.shape for x in IV.mm_each(a, b)] == [(2, 2), (3, 4)]
        with pytest.raises(iv64.InputError):
            IV.mm_each(a, b[:1])
        with pytest.raises(iv64.InputError):
            IV.sub_scaled_each(a, Iv1(1.0), a[:1])
        assert [x.shape for x in IV.sub_scaled_each(a, Iv1(1.0), a)] == [(2, 3), (3, 3)]
