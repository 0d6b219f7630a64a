"""Run report cases in parallel with a progress bar and an on-disk cache.

Finished cases are written to the cache by the parent process as they
arrive (atomically), so killing a report loses at most the cases that were
running.  Workers are started with the ``spawn`` method and one BLAS thread
each (``OPENBLAS_NUM_THREADS=1`` etc.), so ``jobs`` processes use ``jobs``
cores.  Results do not depend on ``jobs`` or on completion order: every case
is a deterministic function of its parameters.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from zascheck.report.cache import Cache
from zascheck.report.cases import Case, run_case

__all__ = ["run_cases", "sigterm_as_interrupt"]

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    old = {k: os.environ.get(k) for k in _THREAD_VARS}
    for k in _THREAD_VARS:
        os.environ[k] = "1"
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (``timeout``, ``kill``) into KeyboardInterrupt so that
    pending atomic writes clean up their temporary files and workers are
    stopped."""
    if sys.platform == "win32" or multiprocessing.current_process().name != "MainProcess":
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


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
) -> list[dict[str, Any]]:
    """Values of ``cases`` (in order): from the cache when present, else
    computed (in ``jobs`` worker processes when ``jobs > 1``) and cached."""
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
    bar = tqdm(total=len(cases), initial=len(cases) - len(todo), desc=desc, unit="case",
               disable=not progress, file=sys.stderr, dynamic_ncols=True)
    bar.set_postfix_str(f"{len(cases) - len(todo)} cached")

    def done(i: int, v: dict[str, Any]) -> None:
        values[i] = v
        cache.put(keys[i], cases[i].kind, cases[i].params, v)
        bar.update()

    try:
        if jobs > 1 and len(todo) > 1:
            # workers are spawned lazily (at submit), so the variables stay set
            # for the pool's whole life
            env = _single_threaded_children()
            env.__enter__()
            pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)),
                                       mp_context=multiprocessing.get_context("spawn"))
            try:
                pending: dict[Future[dict[str, Any]], int] = {}
                queue = list(todo)
                # keep the pool busy without queueing everything (a kill then
                # leaves little work in flight)
                while queue or pending:
                    while queue and len(pending) < 2 * jobs:
                        i = queue.pop(0)
                        pending[pool.submit(run_case, (cases[i].kind, cases[i].params))] = i
                    finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                    for fut in finished:
                        i = pending.pop(fut)
                        done(i, fut.result())
            except BaseException:
                for p in list(getattr(pool, "_processes", {}).values()):
                    with contextlib.suppress(Exception):
                        p.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
                env.__exit__(None, None, None)
                raise
            pool.shutdown(wait=True)
            env.__exit__(None, None, None)
        else:
            for i in todo:
                done(i, run_case((cases[i].kind, cases[i].params)))
    finally:
        bar.close()
    return values  # type: ignore[return-value]
