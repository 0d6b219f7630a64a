"""Speed targets of the working precision (issue 15, item 3).

    python benchmarks/targets_precision.py            # every check that reads --precision,
                                                      # 1024 bits too (an hour or more)
    python benchmarks/targets_precision.py --quick    # 3 flow checks, 128/256/512 bits (minutes)
    python benchmarks/targets_precision.py --quick zas.saddle:flow   # chosen checks

For every check that accepts a precision (``--precision BITS``; listed by
:func:`precision_checks`), the CPU time of the check (``time.process_time``:
on a shared machine wall time counts the other processes too) in the quick
budget at 128, 256 and 512 bits, and two targets:

* ``prec 256/128 <check>``: its time at 256 bits over its time at 128 bits,
  goal ``<= 4x``; the two are taken interleaved in this run (128, 256, 128,
  256, ..., best of each), never against a number from another run;
* ``prec 1024 <check>``: its time at 1024 bits, goal ``<= 60 s`` (not in a
  quick run: a check there may take minutes; a check stopped by the time
  limit reads as the limit and fails).

Where the time goes: the gradient flow of these checks is a Taylor method
(:func:`zascheck.dynamics.flow`) whose order grows like the precision
(:func:`zascheck.dynamics.taylor_order`), so a step costs ``~ order^2 / 2``
matrix products (Cauchy sums), the first ones at ``prec`` bits and the high
ones at the fewer bits their terms need
(:func:`zascheck.dynamics.coefficient_bits`).  The order alone makes the
Cauchy sums at 256 bits ``(248 / 120)^2 = 4.3`` times those at 128 bits (the
order is linear in ``prec - 8``), so a check whose time is all Taylor
arithmetic cannot reach ``<= 4x`` with quadratic Cauchy sums; the ratios
measured below 4 come from the per-step and per-block costs that grow more
slowly than ``order^2``.

Measured in session 6 (``benchmarks/README.md``, "What a check costs at 256
and 1024 bits"): the Cauchy arithmetic is 22-33% of a check at 128 bits and
grows 4.2-5.3x to 256 bits, the rest 2.8-4.5x, so the ratios sit at 3-5
and cutting the rest raises them; at 1024 bits ``zas.saddle:flow`` spends 70%
of its 75 s in arb dot products of 1024-bit balls (0.30 us a term): 60 s
asks for two thirds of everything else to go.  Neither target is met for
every check (``zas.thm4.1:flow`` at 1024 bits: 59-60 s since the windows of
the Cauchy sums are read as stored).
"""

from __future__ import annotations

import argparse
import inspect
import math
import re
import sys
import time
from typing import Any

#: the checks whose cost is the gradient flow (measured in a quick run too)
FLOW_CHECKS = (
    "zas.saddle:flow",
    "zas.thm4.1:flow",
    "zas.thm4.1.steps:numeric",
    "zas.lemma4.2:flow",
    "zas.remark.rectangular:flow",
    "zas.remark.data:flow-readings",
    "review.alpha:flow",
    "review.any-layer:flow",
    "review.last-cI:flow",
    "review.invariance:flow+exact-gd",
)

#: the checks of a quick run (run.py --quick): one per kind of flow (d = 1 saddle,
#: d = 2 decay, d = 2 with exact arithmetic beside)
QUICK_CHECKS = ("zas.saddle:flow", "zas.thm4.1:flow", "review.alpha:flow")

#: a check reads the run's precision when its body asks the context for bits or
#: for a non-float64 backend
_READS_PRECISION = re.compile(r"ctx\.bits\(|ctx\.backend\((?!\s*\"float64\")(?!\s*\"exact\")")

#: seconds a check may run at one precision before it is stopped (then failed)
TIME_LIMIT = 240.0


def precision_checks() -> list[str]:
    """Every check (``claim:method``) whose own body reads ``--precision``
    (``ctx.bits(...)`` or ``ctx.backend(<not float64/exact>, ...)``), in
    catalogue order.  A check that reads it only in a helper function is not
    found (zas.thm4.3, ssm.thm3's ball method): :data:`FLOW_CHECKS` are added
    by hand."""
    from zascheck import engine

    out = []
    for chk in engine.checks_for(None):
        try:
            src = inspect.getsource(chk.fn)
        except (OSError, TypeError):
            continue
        if _READS_PRECISION.search(src):
            out.append(f"{chk.claim}:{chk.method}")
    return out


def check_seconds(check_id: str, bits: int, limit: float = TIME_LIMIT) -> tuple[float, str]:
    """CPU seconds (``time.process_time``) of ``check_id`` in the quick
    budget at ``bits`` bits and its verdict (``"limit"`` when the time limit,
    which counts wall time, stopped it)."""
    from zascheck import engine
    from zascheck.card import RunContext

    chk = engine.checks_for([check_id])[0]
    ctx = RunContext(budget="quick", precision=bits, time_limit=limit)
    t0 = time.process_time()
    res = engine.run_check(chk, ctx)
    dt = time.process_time() - t0
    return dt, "limit" if res.params.get("time_limit_reached") else res.verdict.value


def measure(quick: bool = False) -> list[dict[str, Any]]:
    """One dict per target (``benchmarks/run.py``'s interface): for each
    check, the ratio of its times at 256 and 128 bits (interleaved, best of
    2 each; goal ``<= 4x``), and without ``quick`` its time at 1024 bits (goal
    ``<= 60 s``).  The detail gives the times at 128, 256 and 512 bits."""
    return [row for cid in _ids(quick) for row in check_rows(cid, quick)]


def _ids(quick: bool) -> list[str]:
    """:data:`QUICK_CHECKS`, or :data:`FLOW_CHECKS` and every other check of
    :func:`precision_checks` (a listed check that no longer exists stays in
    the list: its row fails, it does not vanish from the table)."""
    if quick:
        return list(QUICK_CHECKS)
    ids = list(FLOW_CHECKS)
    return ids + [c for c in precision_checks() if c not in ids]


def check_rows(cid: str, quick: bool = False) -> list[dict[str, Any]]:
    """The targets of one check (see :func:`measure`).  A check that is not in
    the catalogue, raises, or is stopped by the time limit at 128 or 256 bits
    gives a failed row saying so (its time is not the time of the check)."""
    try:
        return _check_rows(cid, quick)
    except Exception as exc:  # a failed row, not a lost table
        msg = str(exc).splitlines()[0] if str(exc) else ""
        return [_failed(f"prec 256/128 {cid}", f"{type(exc).__name__}: {msg}")]


def _failed(target: str, why: str) -> dict[str, Any]:
    return {"target": target, "value": math.nan, "goal": "<= 4x", "pass": False, "detail": why}


def _check_rows(cid: str, quick: bool) -> list[dict[str, Any]]:
    from zascheck import engine

    engine.checks_for([cid])  # UnknownClaimError (a failed row) when it is gone
    best = {128: float("inf"), 256: float("inf")}
    verdicts: dict[int, set[str]] = {128: set(), 256: set()}
    for _ in range(2):  # interleaved: 128, 256, 128, 256
        for bits in (128, 256):
            dt, v = check_seconds(cid, bits)
            best[bits] = min(best[bits], dt)
            verdicts[bits].add(v)
    t512, v512 = check_seconds(cid, 512)
    ratio = best[256] / max(best[128], 1e-9)
    stopped = [b for b in (128, 256) if "limit" in verdicts[b]]
    rows = [
        {
            "target": f"prec 256/128 {cid}",
            "value": ratio,
            "goal": "<= 4x",
            "pass": ratio <= 4.0 and not stopped,
            "detail": f"128 bits {best[128]:.2f} s ({'/'.join(sorted(verdicts[128]))}), "
            f"256 bits {best[256]:.2f} s ({'/'.join(sorted(verdicts[256]))}), "
            f"512 bits {t512:.2f} s ({v512})"
            + (f"; stopped by the {TIME_LIMIT:.0f} s limit at {stopped} bits" if stopped else ""),
        }
    ]
    if not quick:
        t1024, v1024 = check_seconds(cid, 1024)
        rows.append(
            {
                "target": f"prec 1024 {cid}",
                "value": t1024,
                "goal": "<= 60 s",
                "pass": t1024 <= 60.0 and v1024 != "limit",
                "detail": f"1024 bits {t1024:.2f} s ({v1024}); 128 bits {best[128]:.2f} s",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 flow checks, no 1024 bits")
    ap.add_argument("--list", action="store_true", help="list the checks that read --precision")
    ap.add_argument("checks", nargs="*", help="claim:method ids (default: all, see --quick)")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(precision_checks()))
        return 0
    known = set(FLOW_CHECKS) | set(precision_checks())
    for cid in args.checks:
        if cid not in known:
            ap.error(f"{cid}: not a check that reads --precision (see --list)")
    ids = args.checks or _ids(args.quick)
    failed = False
    try:
        for r in (row for cid in ids for row in check_rows(cid, args.quick)):
            ok = "PASS" if r["pass"] else "FAIL"
            failed |= r["pass"] is False
            print(
                f"{r['target']:<44} {r['value']:>9.2f}  {r['goal']:<8} {ok}  {r['detail']}",
                flush=True,
            )
    except KeyboardInterrupt:
        print("targets_precision.py: interrupted", file=sys.stderr)
        return 130
    return 1 if failed else 0  # as run.py: 1 when any target fails


if __name__ == "__main__":
    sys.exit(main())
