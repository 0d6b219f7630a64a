"""BLAS threads chosen, not inherited: one place decides how many threads the
BLAS library (numpy's OpenBLAS) may use, through ``threadpoolctl``.

The hot loops of zascheck are chains of small matrix products (``d x d`` with
``d <= 100`` in every budget; GD steps, flow right-hand sides, escape and
figure sweeps).  For those a second BLAS thread only costs: measured on this
2-core machine (OpenBLAS 0.3.31, SkylakeX kernels, ``/tmp`` timing of
``np.matmul(a, b, out=o)``, best of 3, 2026-11-29, load average 2.4):

====  ==========  ==========  ================
d     1 thread    2 threads   1-thread speedup
====  ==========  ==========  ================
 50       11 us       12 us   1.1x
100       54 us       72 us   1.3x
200     1.07 ms     23.6 ms   22x
400     8.25 ms     33.0 ms   4x
600     29.6 ms     34.6 ms   1.2x
800     20.3 ms     19.0 ms   0.93x (2 threads win)
====  ==========  ==========  ================

so two threads start to pay only around ``d = 800`` on a busy machine
(:data:`MULTI_THREAD_MIN_D`); below that the policy is one thread.  Inside a
worker process of a pool (``--jobs N``, ``zascheck report``, Dask) it is
always one thread, so ``N`` workers use ``N`` cores and never oversubscribe:
:func:`init_worker` (the pools' initializer) sets the whole process to one
BLAS thread and marks it as a worker.

Use :func:`blas_threads` around a hot loop::

    with blas_threads(d=100):
        for t in range(steps): ...
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = [
    "MULTI_THREAD_MIN_D",
    "blas_thread_count",
    "blas_threads",
    "blas_threads_for",
    "in_worker",
    "init_worker",
]

#: smallest matrix dimension at which a chain of products is given more than
#: one BLAS thread (outside pool workers); measured, see the module docstring
MULTI_THREAD_MIN_D = 800

_state: dict[str, Any] = {"controller": None, "worker": False}


def _controller() -> Any:
    """The process's ``threadpoolctl.ThreadpoolController`` (made once: it scans
    the loaded libraries, about 0.3 ms; limiting it afterwards costs ~20 us)."""
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

        _state["controller"] = ThreadpoolController()
    return _state["controller"]


def in_worker() -> bool:
    """True in a process started by a zascheck pool (after :func:`init_worker`)."""
    return bool(_state["worker"])


def blas_threads_for(d: int | None = None) -> int:
    """BLAS threads for a chain of products of ``d x d`` matrices: 1 in a pool
    worker or when ``d < MULTI_THREAD_MIN_D`` (or ``d`` is unknown), otherwise
    the cores of the machine.

    >>> blas_threads_for(100)
    1
    """
    if in_worker() or d is None or d < MULTI_THREAD_MIN_D:
        return 1
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def blas_threads(n: int | None = None, *, d: int | None = None) -> Iterator[int]:
    """Run the block with ``n`` BLAS threads (default :func:`blas_threads_for`
    ``(d)``); the previous counts are restored on exit.  Yields the count."""
    n = blas_threads_for(d) if n is None else max(1, int(n))
    with _controller().limit(limits=n, user_api="blas"):
        yield n


def blas_thread_count() -> int:
    """The largest BLAS thread count currently in force in this process (0 if
    no BLAS library is loaded)."""
    from threadpoolctl import threadpool_info

    return max(
        (int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"), default=0
    )


def init_worker() -> None:
    """Initializer of every zascheck worker process: one BLAS thread for the
    whole process (through threadpoolctl, on top of the ``*_NUM_THREADS=1``
    environment the pools also set), and :func:`in_worker` becomes True."""
    import numpy  # noqa: F401  (load the BLAS library before scanning for it)

    _state["worker"] = True
    _controller().limit(limits=1, user_api="blas")
