"""Speed targets of the certified float64-interval backend (issue 15, item 2).

    python benchmarks/targets_interval.py            # prints the rows
    python benchmarks/targets_interval.py --quick

Target: one certified GD step in ``iv64`` (:mod:`zascheck.iv64`;
``model.loss_and_grads`` + ``model.gd_update``, 3(L - 1) interval matrix
products and L updates) costs at most 4x the same float64 step, at
``L = d = 10`` and at ``L = 100, d = 20``.  The ball step at 128 bits is
timed in the same run for reference (detail column only).

Every call of a stepper takes one GD step from the state the previous call
left (as ``zascheck.dynamics.gd`` does): iv64 builds each layer's partner
form once per step, with the update that made the layer, and a stepper that
re-ran one fixed step would reuse those forms and time less than a GD step.

Each ratio is of two timings taken INTERLEAVED in this run (float64, iv64,
ball, float64, iv64, ball, ... and the best of each: other processes only
add time), never against a number from another run; BLAS runs on one thread
for every side (threadpoolctl), so the ratio compares the arithmetic, not
the thread pool.  The interface is ``benchmarks/run.py``'s
(``measure(quick) -> list[dict]``, one dict per target).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck.arith import Backend, backend

#: (L, d) of each target and its goal (iv64 step / float64 step)
TARGETS = ((10, 10), (100, 20))
GOAL = 4.0


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no threadpoolctl: BLAS threads as inherited (said in the detail)
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _stepper(b: Backend, L: int, d: int) -> Callable[[], object]:
    """GD steps from a near-identity point: each call takes one step and
    keeps its result (as :func:`zascheck.dynamics.gd` does), so nothing a
    backend caches on the layers of one step (the partner forms of
    :mod:`zascheck.iv64`) is reused by the next.  With ``eta = 2^-10`` the
    few hundred steps of a run stay near the identity: every call costs the
    same."""
    rng = np.random.default_rng(0)
    state = [[b.matrix(w) for w in inits.near_identity(L, d, rng)]]
    target = model.Target.whitened(b, rng.standard_normal((d, d)) / np.sqrt(d))
    eta = b.scalar(2.0**-10)

    def step() -> object:
        ws = state[0]
        _, g = model.loss_and_grads(b, ws, target)
        state[0] = model.gd_update(b, ws, g, eta)
        return state[0]

    return step


def _in_session(b: Backend, f: Callable[[], object]) -> Callable[[], object]:
    """``f`` run inside ``b``'s session at every call."""

    def run() -> object:
        with b.session():
            return f()

    return run


def interleaved(
    fns: dict[str, Callable[[], object]],
    rounds: int,
    per: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Seconds per call of each function: ``rounds`` rounds, each timing
    ``per`` calls of every function in turn; the best round of each.
    ``clock``: wall time (the default) or ``time.process_time`` (CPU time of
    this process: on a loaded machine, a round longer than a scheduler time
    slice always contains waiting, so wall-time minima favour the faster,
    shorter rounds)."""
    best = dict.fromkeys(fns, float("inf"))
    for f in fns.values():
        f()  # warm-up (caches, lazy imports)
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = clock()
            for _ in range(per):
                f()
            best[k] = min(best[k], (clock() - t0) / per)
    return best


def measure(quick: bool = False, cpu: bool = False) -> list[dict[str, Any]]:
    """One row per target: ``{"target", "value" (iv64 / float64), "goal",
    "pass", "detail" (the timings in microseconds, the ball ratio)}``;
    ``cpu`` times with ``time.process_time`` instead of wall time (said in
    the detail)."""
    rows = []
    names = ("float64", "iv64", "ball")
    with _one_blas_thread():
        for L, d in TARGETS:
            bs = {n: backend(n) for n in names}
            fns = {}
            for n, b in bs.items():
                with b.session():
                    fns[n] = _stepper(b, L, d)
            # ball steps at its 128 bits: its session sets flint's precision (outside
            # it the steps ran at flint's default 53 bits, and their radii grew)
            fns["ball"] = _in_session(bs["ball"], fns["ball"])
            per = max(1, (200 if quick else 600) // (L * d // 10))
            with bs["iv64"].session():  # numpy's error state for iv64 (no effect on the others)
                clock = time.process_time if cpu else time.perf_counter
                t = interleaved(fns, rounds=3 if quick else 7, per=per, clock=clock)
            ratio = t["iv64"] / t["float64"]
            rows.append(
                {
                    "target": f"iv64 GD step / float64 step, L = {L}, d = {d}",
                    "value": ratio,
                    "goal": f"<= {GOAL:g}x",
                    "pass": ratio <= GOAL,
                    "detail": (
                        f"float64 {t['float64'] * 1e6:.0f} us, iv64 {t['iv64'] * 1e6:.0f} us, "
                        f"ball@128 {t['ball'] * 1e6:.0f} us (ball / float64 "
                        f"{t['ball'] / t['float64']:.1f}x); best of interleaved rounds"
                        + (" (CPU time)" if cpu else "")
                    ),
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cpu", action="store_true", help="time with process_time (CPU time)")
    args = ap.parse_args()
    for r in measure(args.quick, args.cpu):
        print(
            f"{r['target']:<45} {r['value']:7.2f}  {r['goal']:<7} "
            f"{'PASS' if r['pass'] else 'FAIL'}  {r['detail']}"
        )


if __name__ == "__main__":
    main()
