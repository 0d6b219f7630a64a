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
add time; each round runs a function for about ``ROUND_SECONDS``), never
against a number from another run; every side runs at the same BLAS threads
(one when run alone, ``--threads`` under ``benchmarks/run.py``), so the
ratio compares the arithmetic, not the thread pool.  The interface is ``benchmarks/run.py``'s
(``measure(quick) -> list[dict]``, one dict per target).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck.arith import Backend, backend

#: (L, d) of each target and its goal (iv64 step / float64 step)
TARGETS = ((10, 10), (100, 20))
GOAL = 4.0


#: seconds each function runs per round (whole calls, at least one): a round of
#: one 0.7 ms call is at the mercy of a scheduler time slice (adversary, session 6:
#: the L = 100 row read 1.6 to 6.0 on four runs with one call per round)
ROUND_SECONDS = 0.05


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


def interleaved(
    fns: dict[str, Callable[[], object]],
    rounds: int,
    seconds: float = ROUND_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Seconds per call of each function: ``rounds`` rounds, each timing
    ``per[k]`` calls of every function in turn; the best round of each.
    ``per[k]`` is calibrated once, after a warm-up call, so that a round of
    function ``k`` lasts about ``seconds`` (at least one call).  ``clock``:
    wall time (the default) or ``time.process_time`` (CPU time of this
    process)."""
    best = dict.fromkeys(fns, float("inf"))
    per = {}
    for k, f in fns.items():
        f()  # warm-up (caches, lazy imports)
        t0 = clock()
        f()
        per[k] = max(1, round(seconds / max(clock() - t0, 1e-9)))
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = clock()
            for _ in range(per[k]):
                f()
            best[k] = min(best[k], (clock() - t0) / per[k])
    return best


def measure(quick: bool = False, cpu: bool = False) -> list[dict[str, Any]]:
    """One row per target: ``{"target", "value" (iv64 / float64), "goal",
    "pass", "detail" (the timings in microseconds, the ball ratio)}``, at
    the BLAS threads the caller set (``benchmarks/run.py --threads``);
    ``cpu`` times with ``time.process_time`` instead of wall time (said in
    the detail)."""
    rows = []
    names = ("float64", "iv64", "ball")
    # BLAS threads as the caller set them (run.py --threads; main() sets one)
    for L, d in TARGETS:
        bs = {n: backend(n) for n in names}
        fns = {}
        for n, b in bs.items():
            with b.session():
                fns[n] = _stepper(b, L, d)
        # ball steps at its 128 bits: its session sets flint's precision (outside
        # it the steps ran at flint's default 53 bits, and their radii grew); one
        # session around the whole timing, as a GD run has (entering one per call
        # cost 5x the step: the detail read ball / float64 125x against 13x)
        clock = time.process_time if cpu else time.perf_counter
        with bs["iv64"].session(), bs["ball"].session():  # numpy error state; flint's bits
            t = interleaved(fns, rounds=5 if quick else 9, clock=clock)
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
    from zascheck.threads import blas_threads

    with blas_threads(1):
        rows = measure(args.quick, args.cpu)
    for r in rows:
        print(
            f"{r['target']:<45} {r['value']:7.2f}  {r['goal']:<7} "
            f"{'PASS' if r['pass'] else 'FAIL'}  {r['detail']}"
        )


if __name__ == "__main__":
    main()
