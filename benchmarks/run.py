"""Speed targets of the core, measured as ratios in one run.

    python benchmarks/run.py            # full grid (about a minute)
    python benchmarks/run.py --quick    # smaller grid

Prints, for a grid of (L, d), the time of one GD step (``model.loss_and_grads``
+ ``model.gd_update``: 3(L - 1) matrix products and L updates) in the float64,
mp and ball backends, and two ratios against targets:

* ball step at 128 bits, L = d = 10, within 10x of the float64 step;
* float64 step at L = 1000, d = 100, at >= 60% of the throughput of plain
  100 x 100 matrix products measured in the same run (throughput = matrix
  products per second; a step counts its 3(L - 1) products).

and, informational (no target), the spectral reduction's speed: one GD step
of the reduced engine (:func:`zascheck.measure.spectral.mode_step`, O(d) numpy
operations after one SVD) against one full float64 matrix step at ``d = 100``,
``L = 1000`` (both grids), with the loss gap after a few steps of each.

Timings are the best of several repeats (the minimum is the least noisy
estimate of the cost; other processes only ever add time).  BLAS threads are
chosen, not inherited: ``--threads N`` (default 1) through threadpoolctl, the
same for both sides of each ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

from zascheck import inits, model
from zascheck.arith import Backend, backend
from zascheck.measure import spectral
from zascheck.model import Target


def best_time(fn: Callable[[], object], *, repeats: int = 5, min_seconds: float = 0.1) -> float:
    """Seconds per call, best of ``repeats`` batches of about ``min_seconds`` each."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    n = max(1, int(min_seconds / one))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def step_time(b: Backend, L: int, d: int) -> float:
    rng = np.random.default_rng(0)
    with b.session():
        ws = [b.matrix(w) for w in inits.near_identity(L, d, rng)]
        target = Target.whitened(b, rng.standard_normal((d, d)))
        eta = b.scalar(1e-3)

        def step() -> None:
            _r, g = model.loss_and_grads(b, ws, target)
            model.gd_update(b, ws, g, eta)

        return best_time(step, repeats=3 if L * d > 1000 else 5)


def matmul_time(d: int) -> float:
    rng = np.random.default_rng(1)
    a, c = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    out = np.empty((d, d))

    def mm() -> None:
        np.matmul(a, c, out=out)

    return best_time(mm)


def reduced_vs_full(d: int = 100, L: int = 1000, steps: int = 5) -> dict[str, float]:
    """Seconds per GD step from ZAS, full float64 model vs the reduced engine, at
    ``d``, ``L`` (Gaussian ``Phi``, ``eta = 1e-6``); the SVD's one-off cost; and
    the relative loss gap after ``steps`` steps of each (they must agree)."""
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((d, d))
    b = backend("float64")
    target = Target.whitened(b, phi)
    eta = 1e-6
    ws = [b.matrix(w) for w in inits.zas(L, d)]

    def full() -> None:
        _r, g = model.loss_and_grads(b, ws, target)
        model.gd_update(b, ws, g, eta)

    t0 = time.perf_counter()
    _u, sig, _v = spectral.aligned_svd(phi)
    t_svd = time.perf_counter() - t0
    init = spectral.mode_init("zas", L)
    state = spectral.mode_start(sig, init)

    def reduced() -> None:
        spectral.mode_step(*state, sig, eta, init.p, init.q)

    t_full = best_time(full, repeats=3, min_seconds=0.5)
    t_red = best_time(reduced, repeats=5, min_seconds=0.1)
    wsf = [b.matrix(w) for w in inits.zas(L, d)]
    for _ in range(steps):
        _r, g = model.loss_and_grads(b, wsf, target)
        wsf = model.gd_update(b, wsf, g, eta)
    r_full = float(model.loss(b, wsf, target))
    r_red = float(spectral.reduced_gd(sig, init, eta, steps).losses[-1])
    return {"full": t_full, "reduced": t_red, "svd": t_svd, "gap": abs(r_full - r_red) / r_full}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller grid")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads, user_api="blas"):
        print(f"BLAS threads: {args.threads} (threadpoolctl)")
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    grid = (
        [(2, 2), (10, 10), (50, 10)]
        if args.quick
        else [(2, 2), (10, 10), (50, 10), (10, 30), (100, 20)]
    )
    f64, mp, ball = backend("float64"), backend("mp", 128), backend("ball", 128)
    print(
        f"{'L':>5} {'d':>4} {'float64':>12} {'ball@128':>12} {'mp@128':>12} {'ball/f64':>9} {'mp/f64':>9}"
    )
    rows = {}
    for L, d in grid:
        tf = step_time(f64, L, d)
        tb = step_time(ball, L, d)
        tm = step_time(mp, L, d) if L * d * d <= 5000 else float("nan")
        rows[(L, d)] = (tf, tb, tm)
        mp_cell = f"{tm * 1e6:>10.1f}us" if tm == tm else f"{'(skipped)':>12}"
        mp_ratio = f"{tm / tf:>9.1f}" if tm == tm else f"{'-':>9}"
        print(
            f"{L:>5} {d:>4} {tf * 1e6:>10.1f}us {tb * 1e6:>10.1f}us {mp_cell} {tb / tf:>9.2f} {mp_ratio}"
        )
    sys.stdout.flush()

    ok = True
    tf, tb, _ = rows[(10, 10)]
    r1 = tb / tf
    ok &= r1 <= 10
    print(
        f"\ntarget 1: ball@128 / float64 step at L = d = 10: {r1:.2f}x  (target <= 10x)  "
        f"{'PASS' if r1 <= 10 else 'FAIL'}"
    )

    L, d = (1000, 100) if not args.quick else (200, 100)
    t_step = step_time(f64, L, d)
    t_mm = matmul_time(d)
    products = 3 * (L - 1)
    ratio = (products / t_step) / (1 / t_mm)
    ok &= ratio >= 0.6
    print(
        f"target 2: float64 step at L = {L}, d = {d}: {t_step * 1e3:.1f} ms for {products} products; "
        f"plain {d}x{d} product {t_mm * 1e6:.1f} us; throughput ratio {ratio:.2f}  (target >= 0.60)  "
        f"{'PASS' if ratio >= 0.6 else 'FAIL'}"
    )
    sp = reduced_vs_full(100, 1000)
    print(
        f"spectral reduction (ZAS, Gaussian Phi, d = 100, L = 1000): full float64 step "
        f"{sp['full'] * 1e3:.1f} ms, reduced step {sp['reduced'] * 1e6:.1f} us "
        f"(x{sp['full'] / sp['reduced']:.0f} faster; one SVD {sp['svd'] * 1e3:.1f} ms); "
        f"relative loss gap after 5 steps {sp['gap']:.1e}  (informational)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
