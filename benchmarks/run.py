"""Every speed target of zascheck in one table, quiet and with one busy process.

    python benchmarks/run.py             # all targets, both conditions (a few minutes)
    python benchmarks/run.py --quick     # fewer repeats (under a minute)
    python benchmarks/run.py --report    # also the wall time of ``zascheck report`` (3+ minutes)

Each target is a ratio of two timings taken INTERLEAVED in the same run (A, B,
A, B, ...; the best of each, since other processes only ever add time), never
a ratio against a number from another run.  Every target is measured twice:

* **quiet**: as the machine is (the header prints the load average);
* **busy**: with one CPU-burning subprocess that this script starts itself
  (``python -c "while True: pass"``) and stops afterwards, so the condition of a
  ``--jobs 2`` run or a report next to other work is reproducible.

Targets measured here (issue 15; ``benchmarks/README.md`` explains each):

* ``f64 step / plain products``: the float64 GD step at ``L = 1000, d = 100``
  (exactly the body of :func:`zascheck.dynamics.gd`'s loop: ``model.forward``,
  then ``model.descend``, which updates the weights in place as it makes each
  gradient) does ``3(L - 1)`` matrix products; its throughput (products
  per second) over that of plain ``100 x 100`` products written into one
  preallocated output (``np.matmul(a, b, out=o)``, the machine's product speed)
  must be ``>= 0.85``.  Fresh-output plain products (``a @ b``) and the same
  ``3(L - 1)`` products over the step's working set (L distinct matrices, 80 MB,
  no element-wise work) are printed beside it as informational rows: the second
  is the memory-bound floor of any step that keeps all prefixes.  Two more
  informational rows give plain products over that 160 MB working set and over
  a 16 MB one (:data:`SMALL_SET_MATRICES`) against plain products on one pair:
  what the machine's memory, not the step, allows.

and, informational: the spectral reduction's step over the full float64 step
at ``d = 100, L = 1000``,
and (``--report``, quiet only) the standard report's wall time against 180 s.
Every module ``benchmarks/targets_*.py`` adds its rows: it defines
``measure(quick: bool = False) -> list[dict]`` with keys ``target``, ``value``,
``goal``, ``pass`` and ``detail``, called once per condition.

Exit status 1 when any target fails in any condition.  BLAS threads are chosen,
not inherited: ``--threads N`` (default 1, :mod:`zascheck.threads`), the same
for both sides of every ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck.arith import Backend, backend
from zascheck.measure import spectral
from zascheck.model import Target, Workspace
from zascheck.cli import positive_int
from zascheck.threads import blas_threads

HERE = Path(__file__).resolve().parent

#: the issue's goals
STEP_RATIO_GOAL = 0.85

#: matrices of the cache-sized working set of the informational product rows:
#: 100 inputs and 100 outputs of ``100 x 100`` doubles, 16 MB (on this machine a
#: streaming read runs at 20 GB/s up to 32 MB and at 8 GB/s from 64 MB on)
SMALL_SET_MATRICES = 100
REPORT_SECONDS_GOAL = 180.0


def interleaved(
    fns: dict[str, Callable[[], object]], rounds: int, cpu: dict[str, float] | None = None
) -> dict[str, float]:
    """Seconds per call of each function, best of ``rounds``, calls interleaved
    (one call of each per round, in order), after one warm-up call each.  With
    ``cpu`` (a dict), also fills it with the best CPU time of each
    (``time.process_time``: what the process itself spent, which other
    processes on a shared machine change far less than the wall clock)."""
    for f in fns.values():
        f()
    best = dict.fromkeys(fns, math.inf)
    best_cpu = dict.fromkeys(fns, math.inf)
    for _ in range(rounds):
        for name, f in fns.items():
            c0 = time.process_time()
            t0 = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t0)
            best_cpu[name] = min(best_cpu[name], time.process_time() - c0)
    if cpu is not None:
        cpu.update(best_cpu)
    return best


def repeat(fn: Callable[[], object], n: int) -> Callable[[], None]:
    """``fn`` called ``n`` times (to time calls shorter than the clock's noise)."""

    def run() -> None:
        for _ in range(n):
            fn()

    return run


def gd_step(b: Backend, L: int, d: int, seed: int = 0) -> Callable[[], object]:
    """One float64 (or ``b``) GD step as :func:`zascheck.dynamics.gd` takes it
    (:func:`loop_step`), on a near-identity network (eq. 5.1) and a Gaussian
    ``Phi / sqrt(d)``, with ``eta = 10^-3``."""
    rng = np.random.default_rng(seed)
    ws = [b.matrix(w) for w in inits.near_identity(L, d, rng)]
    target = Target.whitened(b, rng.standard_normal((d, d)) / math.sqrt(d))
    return loop_step(b, ws, target, b.scalar(1e-3))


def loop_step(b: Backend, ws: list[Any], target: Target, eta: Any) -> Callable[[], object]:
    """The body of :func:`zascheck.dynamics.gd`'s loop on ``ws`` (no observer,
    no record), one call per step.  On large float64 layers (a
    :class:`~zascheck.model.Workspace` exists) that is the fused route, as the
    loop takes it: the weights are copied once into one contiguous block, then
    each call is ``model.forward`` and ``model.descend`` (in place: the calls
    continue one GD run, each from the previous call's weights; the loss is
    checked finite so that no call times arithmetic on infinities).  Otherwise
    each call is ``model.loss_and_grads`` and ``model.gd_update`` from ``ws``."""
    work = Workspace.for_network(b, ws)
    if work is None:

        def step() -> object:
            _r, g = model.loss_and_grads(b, ws, target)
            return model.gd_update(b, ws, g, eta)

        return step
    own = Workspace.contiguous_weights(b, ws)

    def fused_step() -> object:
        r, pre, e = model.forward(b, own, target, work)
        if not math.isfinite(b.to_float(r)):
            raise RuntimeError("the benchmark's GD run diverged: the timings would be wrong")
        return model.descend(b, own, pre, e, target, eta, work)

    return fused_step


def row(target: str, value: float, goal: str, ok: bool | None, detail: str) -> dict[str, Any]:
    """One table row; ``ok`` None marks an informational row (no goal)."""
    return {"target": target, "value": value, "goal": goal, "pass": ok, "detail": detail}


def step_rows(quick: bool) -> list[dict[str, Any]]:
    """The float64 step target at ``L = 1000, d = 100`` and its two informational
    companions (fresh-output products, products over the step's working set)."""
    L, d = 1000, 100
    n = 3 * (L - 1)
    rng = np.random.default_rng(1)
    a, c = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    out = np.empty((d, d))
    chain_ws = [np.eye(d) + 0.01 * rng.standard_normal((d, d)) for _ in range(L)]
    chain_out = [np.empty((d, d)) for _ in range(L)]
    small = SMALL_SET_MATRICES  # the same products over a working set that fits the fast caches

    def plain_out() -> None:
        for _ in range(n):
            np.matmul(a, c, out=out)

    def plain_fresh() -> None:
        for _ in range(n):
            a @ c  # the product is the work

    def working_set() -> None:
        for i in range(n):
            np.matmul(chain_ws[i % L], c, out=chain_out[i % L])

    def small_set() -> None:
        for i in range(n):
            np.matmul(chain_ws[i % small], c, out=chain_out[i % small])

    cpu: dict[str, float] = {}
    t = interleaved(
        {
            "step": gd_step(backend("float64"), L, d),
            "out": plain_out,
            "fresh": plain_fresh,
            "set": working_set,
            "small": small_set,
        },
        rounds=3 if quick else 6,
        cpu=cpu,
    )
    ratio = t["out"] / t["step"]
    detail = (
        f"L={L}, d={d}: step {t['step'] * 1e3:.0f} ms for {n} products; "
        f"{n} plain products {t['out'] * 1e3:.0f} ms (out=); "
        f"in CPU time {cpu['step'] * 1e3:.0f} / {cpu['out'] * 1e3:.0f} ms = "
        f"{cpu['out'] / cpu['step']:.2f}"
    )
    return [
        row(
            "f64 step / plain products (out=)",
            ratio,
            f">= {STEP_RATIO_GOAL}",
            ratio >= STEP_RATIO_GOAL,
            detail,
        ),
        row(
            "f64 step / plain products (fresh)",
            t["fresh"] / t["step"],
            "-",
            None,
            f"{n} plain products {t['fresh'] * 1e3:.0f} ms (a @ b, fresh outputs)",
        ),
        row(
            "f64 step / products on its working set",
            t["set"] / t["step"],
            "-",
            None,
            f"{n} products over {L} distinct {d}x{d} matrices {t['set'] * 1e3:.0f} ms",
        ),
        row(
            f"products over {2 * L * d * d * 8 / 1e6:.0f} MB / plain",
            t["out"] / t["set"],
            "-",
            None,
            f"the step's products over its working set ({L} inputs, {L} outputs) "
            "against plain products: what this machine's memory allows any step "
            "that keeps every prefix",
        ),
        row(
            f"products over {2 * small * d * d * 8 / 1e6:.0f} MB / plain",
            t["out"] / t["small"],
            "-",
            None,
            f"the same {n} products over {small} inputs and {small} outputs "
            f"({t['small'] * 1e3:.0f} ms): the ceiling of a working set in the fast caches",
        ),
    ]


def reduced_row(quick: bool, d: int = 100, L: int = 1000, steps: int = 5) -> dict[str, Any]:
    """Full float64 step over the spectral reduction's step
    (:func:`zascheck.measure.spectral.mode_step`) from ZAS at ``d``, ``L``
    (Gaussian ``Phi``, ``eta = 1e-6``), and the relative loss gap after ``steps``
    steps of each (they must agree)."""
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((d, d))
    b = backend("float64")
    target = Target.whitened(b, phi)
    eta = 1e-6
    full = loop_step(b, [b.matrix(w) for w in inits.zas(L, d)], target, eta)

    _u, sig, _v = spectral.aligned_svd(phi)
    init = spectral.mode_init("zas", L)
    state = spectral.mode_start(sig, init)
    k = 1000
    t = interleaved(
        {
            "full": full,
            "reduced": repeat(lambda: spectral.mode_step(*state, sig, eta, init.p, init.q), k),
        },
        rounds=3 if quick else 5,
    )
    wsf = [b.matrix(w) for w in inits.zas(L, d)]
    for _ in range(steps):
        _r, g = model.loss_and_grads(b, wsf, target)
        wsf = model.gd_update(b, wsf, g, eta)
    r_full = float(model.loss(b, wsf, target))
    r_red = float(spectral.reduced_gd(sig, init, eta, steps).losses[-1])
    gap = abs(r_full - r_red) / r_full
    return row(
        f"full / reduced step, d = {d}, L = {L}",
        t["full"] / (t["reduced"] / k),
        "-",
        None,
        f"full {t['full'] * 1e3:.0f} ms, reduced {t['reduced'] / k * 1e6:.1f} us; "
        f"loss gap after {steps} steps {gap:.1e}",
    )


def report_row() -> dict[str, Any]:
    """Wall time of ``zascheck report --budget standard`` into a fresh folder
    (no cache), against :data:`REPORT_SECONDS_GOAL`.  The detail adds what a
    shared machine cannot hide: the CPU seconds of the report's processes
    (user + system, ``RUSAGE_CHILDREN``), the load average before and after,
    and :func:`report_schedule` of the run (the wall time its cases' CPU
    seconds would take on 2 idle cores)."""
    import resource

    out = Path(tempfile.mkdtemp(prefix="zascheck-bench-report-"))
    exe = shutil.which("zascheck") or str(Path(sys.executable).with_name("zascheck"))
    load0 = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [exe, "report", "--budget", "standard", "--out", str(out), "--no-progress"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        secs = time.perf_counter() - t0
        sched = report_schedule(out / ".cache", workers=min(2, os.cpu_count() or 1))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return row(
        "report --budget standard (s)",
        secs,
        f"<= {REPORT_SECONDS_GOAL:.0f}",
        secs <= REPORT_SECONDS_GOAL,
        f"{os.cpu_count()} cores, fresh folder, wall clock; CPU {cpu:.0f} s (user + sys); load "
        f"{load0:.1f} -> {os.getloadavg()[0]:.1f}; {sched}",
    )


def report_schedule(cache_dir: Path, workers: int = 2) -> str:
    """The cases of a finished standard report (``cache_dir``: its ``.cache``)
    replayed on ``workers`` idle cores: each case's CPU seconds
    (``_cpu_seconds``) in the runner's order (largest estimated cost first,
    each to the first free worker), then the cases that take others' values
    (``Case.needs``: the parent assembles them).  Says the sum, the longest
    case and that makespan: the pool's part of the wall time on an idle
    machine (the parent's planning and figures come on top)."""
    import heapq
    import json

    from zascheck.report import plan
    from zascheck.report.cases import SPLITS
    from zascheck.result import jsonable

    def name(kind: Any, params: Any) -> str:
        return json.dumps([kind, jsonable(params)], sort_keys=True)

    cost = {name(c.kind, c.params): c.cost for g in plan("standard", 50, 0).values() for c in g}
    rows = []
    for f in sorted(cache_dir.glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        v, prm = d.get("value", {}), d.get("params", {})
        cpu = float(v.get("_cpu_seconds", v.get("_seconds", 0.0)))
        rows.append((cpu, cost.get(name(d.get("kind"), prm), 1.0), d.get("kind"), prm))
    if not rows:
        return "no cached cases"
    free = [0.0] * workers
    after = 0.0
    for cpu, _, kind, prm in sorted(rows, key=lambda r: -r[1]):
        if kind == "check" and prm.get("key") in SPLITS:
            after += cpu
        else:
            heapq.heappush(free, heapq.heappop(free) + cpu)
    top = max(rows, key=lambda r: r[0])
    what = top[3].get("key") or f"L = {top[3].get('L')}"
    return (
        f"cases' CPU {sum(r[0] for r in rows):.0f} s, longest {top[0]:.0f} s ({top[2]} {what}); "
        f"replayed on {workers} idle cores: {max(free) + after:.0f} s"
    )


def module_rows(quick: bool) -> list[dict[str, Any]]:
    """Rows of every ``benchmarks/targets_*.py`` (their ``measure(quick)``)."""
    rows = []
    for path in sorted(HERE.glob("targets_*.py")):
        try:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None and spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            rows.extend(mod.measure(quick=quick))
        except Exception as exc:  # a broken module is a failed row, not a lost table
            rows.append(row(path.name, math.nan, "runs", False, f"{type(exc).__name__}: {exc}"))
    return rows


@contextlib.contextmanager
def busy_process() -> Iterator[None]:
    """One CPU-burning subprocess for the duration of the block (stopped by its
    pid; it also ends by itself as soon as this process is gone, so no signal,
    not even SIGKILL, can leave it burning a core)."""
    burn = "import os, sys\nparent = int(sys.argv[1])\nwhile os.getppid() == parent:\n    pass\n"
    p = subprocess.Popen([sys.executable, "-c", burn, str(os.getpid())])
    try:
        time.sleep(0.5)
        yield
    finally:
        p.kill()
        p.wait()


def measure_all(quick: bool) -> list[dict[str, Any]]:
    """Every row, in one condition."""
    return [*step_rows(quick), reduced_row(quick), *module_rows(quick)]


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return f"{'':>10} {'':<5}"
    verdict = "-" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL")
    return f"{r['value']:>10.3g} {verdict:<5}"


def print_table(quiet: list[dict[str, Any]], busy: list[dict[str, Any]]) -> bool:
    """The table (target, goal, quiet value and verdict, busy value and verdict,
    detail of the quiet run); True when no target failed."""
    by_busy = {r["target"]: r for r in busy}
    w = max(len(r["target"]) for r in quiet)
    print(f"{'target':<{w}} {'goal':>8}  {'quiet':>10} {'':<5} {'busy':>10} {'':<5} detail (quiet)")
    ok = True
    for r in quiet:
        b = by_busy.get(r["target"])
        ok &= r["pass"] is not False and (b is None or b["pass"] is not False)
        print(f"{r['target']:<{w}} {r['goal']:>8}  {_cell(r)} {_cell(b)} {r['detail']}")
    for r in busy:
        if r["target"] not in {q["target"] for q in quiet}:
            ok &= r["pass"] is not False
            print(f"{r['target']:<{w}} {r['goal']:>8}  {_cell(None)} {_cell(r)} {r['detail']}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (about 2 minutes)")
    ap.add_argument(
        "--report",
        action="store_true",
        help="also time `zascheck report --budget standard` (quiet only, 3+ minutes)",
    )
    ap.add_argument(
        "--threads", type=positive_int, default=1, help="BLAS threads, 1..cores (default 1)"
    )
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    if args.threads > cores:  # the BLAS would cap it silently: the header would lie
        ap.error(f"--threads {args.threads}: more than the {cores} cores of this machine")
    signal.signal(signal.SIGTERM, _terminate)  # run the finally blocks (stop the busy process)
    try:
        return _main(args)
    except KeyboardInterrupt:
        print("run.py: interrupted", file=sys.stderr)
        return 130


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _main(args: argparse.Namespace) -> int:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"BLAS threads: {args.threads} (threadpoolctl); {os.cpu_count()} cores; "
        f"load average at start {load:.2f}"
    )
    with blas_threads(args.threads):
        quiet = measure_all(args.quick)
        if args.report:
            quiet.append(report_row())
        with busy_process():
            busy = measure_all(args.quick)
    ok = print_table(quiet, busy)
    print("\nall targets PASS" if ok else "\nsome target FAILS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
