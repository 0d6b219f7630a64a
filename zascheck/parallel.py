"""Worker processes for ``zascheck check --jobs`` and ``zascheck report``: one pool, one policy.

* never more workers than tasks or cores (``jobs`` is a ceiling, not a demand);
* workers are started with ``spawn`` and one BLAS thread each, so ``jobs`` processes use
  ``jobs`` cores: set with threadpoolctl in every worker (:func:`zascheck.threads.init_worker`,
  the pool's initializer, and at the start of every Dask task), with the
  ``OPENBLAS_NUM_THREADS=1`` etc. environment of the children as a second guard;
* SIGTERM to the main process (``timeout``, ``kill``) becomes ``KeyboardInterrupt``
  (:func:`sigterm_as_interrupt`), and an interrupted pool terminates its workers;
* results are yielded as they finish, with their index, so callers can cache or
  count them; the values do not depend on ``jobs`` or on completion order.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from zascheck.threads import blas_threads, init_worker

__all__ = [
    "effective_jobs",
    "imap_dask",
    "imap_processes",
    "parse_scheduler",
    "sigterm_as_interrupt",
]

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: glibc tunable set for the workers when the environment sets none: malloc
#: asks for transparent huge pages (``madvise``) on the memory it maps, so a
#: buffer of hundreds of MB allocated afresh at every step (zas.fig4's saved
#: activations, 0.3-2 GB at L = 2000..10^4) faults in 2 MB pages, not 4 KB
#: ones.  Measured 2026-11-29 (load 8): one GD step of zas.fig4 at L = 2000
#: took 0.19 s of system time and 72 000 page faults, with it 0.06 s and
#: 1 100; at L = 10^4 0.35 s and 165 000 against 0.10 s and 4 100; user time
#: unchanged.  Memory management only: no number a case computes changes.
MALLOC_TUNABLES = "glibc.malloc.hugetlb=1"


def effective_jobs(jobs: int | None, tasks: int) -> int:
    """Workers to start: at most ``jobs`` (default: the cores), the tasks and the cores.

    >>> effective_jobs(1000, 2) <= 2
    True
    """
    cores = os.cpu_count() or 1
    return max(1, min(jobs or cores, tasks, cores))


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """``OPENBLAS_NUM_THREADS=1`` (and the OpenMP / MKL equivalents) in the
    environment while the block runs, for the processes it spawns: the belt to
    :func:`zascheck.threads.init_worker`'s braces (a library that reads only its
    environment variable at load still starts with one thread); and
    ``GLIBC_TUNABLES`` = :data:`MALLOC_TUNABLES` unless it is set."""
    old = {k: os.environ.get(k) for k in (*_THREAD_VARS, "GLIBC_TUNABLES")}
    for k in _THREAD_VARS:
        os.environ[k] = "1"
    if old["GLIBC_TUNABLES"] is None:  # the user's tunables are kept as they are
        os.environ["GLIBC_TUNABLES"] = MALLOC_TUNABLES
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


def imap_processes(
    fn: Callable[[Any], Any], payloads: Sequence[Any], jobs: int, scheduler: str | None = None
) -> Iterator[tuple[int, Any]]:
    """``(i, fn(payloads[i]))`` as they finish, in ``effective_jobs(jobs)``
    spawned processes (in this process when that is 1), or on a Dask cluster
    when ``scheduler`` is given (:func:`imap_dask`).  ``fn`` must be a
    module-level function.  On any exception or interrupt the workers are
    terminated (or the futures cancelled) before it propagates."""
    if scheduler is not None:
        yield from imap_dask(fn, payloads, scheduler)
        return
    n = effective_jobs(jobs, len(payloads))
    if n == 1:  # this process is the one worker: one BLAS thread, as in a pool
        for i, p in enumerate(payloads):
            with blas_threads(1):
                value = fn(p)
            yield i, value
        return
    with _single_threaded_children():
        # workers are spawned lazily (at submit): the variables stay set for the pool's life
        pool = ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
        )
        try:
            pending: dict[Future[Any], int] = {}
            queue = list(range(len(payloads)))
            # keep the pool busy without queueing everything (a kill leaves little in flight)
            while queue or pending:
                while queue and len(pending) < 2 * n:
                    i = queue.pop(0)
                    pending[pool.submit(fn, payloads[i])] = i
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = pending.pop(fut)
                    yield i, fut.result()
        except BaseException:
            for p in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    p.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def parse_scheduler(address: str) -> tuple[str, int | str]:
    """``("local", n)`` for ``local:N`` (a LocalCluster of N worker processes on
    this machine) or ``("remote", address)`` for a running scheduler
    (``tcp://host:8786`` or ``host:8786``).  Raises ``InputError`` otherwise.

    >>> parse_scheduler("local:1")
    ('local', 1)
    >>> parse_scheduler("tcp://10.0.0.5:8786")
    ('remote', 'tcp://10.0.0.5:8786')
    """
    from zascheck.errors import InputError

    if address.startswith("local:"):
        n = address[len("local:") :]
        cores = os.cpu_count() or 1
        if not n.isdigit() or not 1 <= int(n) <= cores:
            raise InputError(
                f"--scheduler {address}: expected local:N with 1 <= N <= {cores} "
                "(the cores of this machine)"
            )
        return "local", int(n)
    if "://" in address and address.split("://", 1)[0] != "tcp":
        raise InputError(
            f"--scheduler {address}: the scheme must be tcp:// (a tls:// cluster needs "
            "security settings zascheck does not take)"
        )
    host = address.split("://", 1)[-1]
    name, _, port = host.rpartition(":")
    if not name or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(
            f"--scheduler {address}: expected local:N or a scheduler address "
            "HOST:PORT (e.g. tcp://10.0.0.5:8786)"
        )
    return "remote", address


#: seconds to reach a scheduler, and to wait for its first worker
CONNECT_SECONDS = 10
WORKER_WAIT_SECONDS = 60


@contextlib.contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address`` (:func:`parse_scheduler`); a
    ``local:N`` cluster is started (one thread and one BLAS thread per worker
    process) and closed with the client.  Dask is imported only here."""
    from zascheck.errors import InputError

    kind, arg = parse_scheduler(address)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency
        raise InputError(f"--scheduler needs dask.distributed: {exc}") from None
    if kind == "local":
        with _single_threaded_children():
            cluster = LocalCluster(
                n_workers=int(arg),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=40,
            )
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    client = _connect(Client, address, str(arg))
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except (TimeoutError, OSError):
            raise InputError(
                f"--scheduler {address}: no worker joined the scheduler within "
                f"{WORKER_WAIT_SECONDS} s (start one: dask worker {address})"
            ) from None
        yield client
    finally:
        client.close()


def _connect(client_type: Any, address: str, arg: str) -> Any:
    """``Client(arg)``, given at most :data:`CONNECT_SECONDS` (plus a grace): a
    peer that accepts the connection but does not answer as a Dask scheduler
    would otherwise hang the handshake, so the client is made in a daemon
    thread and abandoned when it does not return in time."""
    import threading

    from zascheck.errors import InputError

    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = client_type(arg, timeout=f"{CONNECT_SECONDS}s")
        except BaseException as exc:  # reported below, in the calling thread
            box["error"] = exc

    t = threading.Thread(target=connect, daemon=True, name="zascheck-dask-connect")
    t.start()
    t.join(CONNECT_SECONDS + 5)
    if t.is_alive():
        raise InputError(
            f"--scheduler {address}: no Dask scheduler answered within {CONNECT_SECONDS + 5} s"
        )
    if "error" in box:
        raise InputError(f"--scheduler {address}: cannot reach the scheduler ({box['error']})")
    return box["client"]


def _on_worker(fn: Callable[[Any], Any], payload: Any) -> Any:
    """``fn(payload)`` on a Dask worker, with one BLAS thread
    (:func:`zascheck.threads.init_worker`: a remote worker's environment is not
    ours, so the limit is set here, in the task).  The worker's own threads draw from the
    ``random`` module while a hypothesis search runs, which hypothesis reports as
    a strategy using ``random`` (it is not: the searches seed their own
    generators); that one false warning is silenced here."""
    import warnings

    init_worker()
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Do not use the `random` module inside strategies"
        )
        return fn(payload)


def imap_dask(
    fn: Callable[[Any], Any],
    payloads: Sequence[Any],
    address: str,
) -> Iterator[tuple[int, Any]]:
    """``(i, fn(payloads[i]))`` as they finish on the Dask cluster at ``address``.

    Every payload is one task (``pure=False``: run even if identical).  A worker
    lost mid-task (killed, crashed machine) has its tasks rescheduled by the
    scheduler on the remaining workers; a task that kills its workers repeatedly
    fails with ``distributed.KilledWorker``.  On an interrupt the futures are
    cancelled and a ``local:N`` cluster is shut down."""
    if not payloads:
        return
    from distributed import as_completed

    with dask_client(address) as client:
        task = functools.partial(_on_worker, fn)
        futures = [client.submit(task, p, pure=False) for p in payloads]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                yield index[fut.key], fut.result()
        except BaseException:
            client.cancel(futures, force=True)
            raise
