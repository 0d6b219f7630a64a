"""Run report cases in parallel with a progress bar and an on-disk cache.

Finished cases are written to the cache by the parent process as they
arrive (atomically), so killing a report loses at most the cases that were
running.  The pool is :func:`zascheck.parallel.imap_processes` (spawned
workers, one BLAS thread each, never more than the tasks or cores).  Results do not depend on ``jobs`` or on completion order: every case
is a deterministic function of its parameters.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from zascheck.parallel import imap_processes, sigterm_as_interrupt

from zascheck.report.cache import Cache
from zascheck.report.cases import Case, run_case

__all__ = ["run_cases", "sigterm_as_interrupt"]  # sigterm_as_interrupt: from zascheck.parallel


def _keys(cases: Sequence[Case]) -> list[str]:
    fps: dict[tuple[str, ...], str] = {}
    out = []
    for c in cases:
        mods = (c.kind, *c.modules())
        if mods not in fps:
            fps[mods] = c.fingerprint()
        out.append(Cache.key(c.kind, c.params, fps[mods]))
    return out


def run_cases(
    cases: Sequence[Case],
    cache: Cache,
    *,
    jobs: int = 1,
    progress: bool = False,
    desc: str = "report",
    scheduler: str | None = None,
) -> list[dict[str, Any]]:
    """Values of ``cases`` (in order): from the cache when present, else
    computed (in ``jobs`` worker processes when ``jobs > 1``, or on the Dask
    cluster ``scheduler``) and cached by this process as each finishes.  A
    case with ``needs`` runs in this process after them, given their values
    (:func:`_phases`)."""
    from tqdm import tqdm

    keys = _keys(cases)
    values: list[dict[str, Any] | None] = [None] * len(cases)
    todo: list[int] = []
    for i, k in enumerate(keys):
        v = cache.get(k)
        if v is None:
            todo.append(i)
        else:
            values[i] = v
    todo.sort(key=lambda i: -cases[i].cost)  # longest first
    bar = tqdm(
        total=len(cases),
        initial=len(cases) - len(todo),
        desc=desc,
        unit="case",
        disable=None if progress else True,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    bar.set_postfix_str(f"{len(cases) - len(todo)} cached")

    def done(i: int, v: dict[str, Any]) -> None:
        values[i] = v
        # a crash, a refused input or a run cut short by the time limit is reported, never replayed
        if v.get("ok", True) and v.get("cache", True):
            cache.put(keys[i], cases[i].kind, cases[i].params, v)
        bar.update()

    first, then = _phases(cases, todo)
    for i in set(todo) - set(first) - set(then):  # needed only by cached cases
        values[i] = {"ok": False, "error": "not run: the cases that take its value are cached"}
        bar.update()
    try:
        payloads = [(cases[i].kind, cases[i].params) for i in first]
        for n, out in imap_processes(run_case, payloads, jobs, scheduler):
            done(first[n], out)
        # cases that take others' values: in this process (they only assemble them)
        where = {id(c): i for i, c in enumerate(cases)}
        payloads = [
            (
                cases[i].kind,
                cases[i].params | {"primed": [values[where[id(n)]] for n in cases[i].needs]},
            )
            for i in then
        ]
        for n, out in imap_processes(run_case, payloads, 1):
            done(then[n], out)
    finally:
        bar.close()
    return values  # type: ignore[return-value]


def _phases(cases: Sequence[Case], todo: list[int]) -> tuple[list[int], list[int]]:
    """``todo`` split into the cases the pool runs first and those that need
    others' values (:attr:`Case.needs`), run after them; a needed case whose
    dependents are all cached is dropped (nothing would read its value).  The
    order of ``todo`` (longest first) is kept."""
    where = {id(c): i for i, c in enumerate(cases)}
    pending = set(todo)
    wanted: set[int] = set()
    needed: set[int] = set()
    for i, c in enumerate(cases):
        for n in c.needs:
            needed.add(where[id(n)])
            if i in pending:
                wanted.add(where[id(n)])
    first = [i for i in todo if not cases[i].needs and (i not in needed or i in wanted)]
    then = [i for i in todo if cases[i].needs]
    return first, then
