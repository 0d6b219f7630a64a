"""BLAS threads are chosen, not inherited (issue 15, item 1): one thread inside
every pool worker, inside the GD loop, and the caller's count restored after."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck import dynamics, inits, threads
from zascheck.arith import backend
from zascheck.model import Target
from zascheck.parallel import _on_worker, imap_processes


def _count(_payload: object) -> int:
    """BLAS threads in force where this runs (module level: the pool pickles it)."""
    return threads.blas_thread_count()


@pytest.fixture
def two_threads():
    """The test process at 2 BLAS threads (what numpy inherits on this machine),
    and the module state restored afterwards."""
    if threads.blas_thread_count() == 0:
        pytest.skip("no BLAS library reported by threadpoolctl")
    saved = dict(threads._state)
    lim = threads._controller().limit(limits=2, user_api="blas")
    try:
        yield
    finally:
        lim.restore_original_limits()
        threads._state.update(saved)


def test_policy_one_thread_for_small_products():
    assert threads.blas_threads_for(100) == 1
    assert threads.blas_threads_for(threads.MULTI_THREAD_MIN_D - 1) == 1
    assert threads.blas_threads_for(None) == 1


def test_context_sets_and_restores(two_threads):
    with threads.blas_threads(d=50) as n:
        assert n == 1
        assert threads.blas_thread_count() == 1
    assert threads.blas_thread_count() == 2


def test_gd_loop_runs_with_one_thread(two_threads):
    seen: list[int] = []

    def obs(t, ws, r, g):
        seen.append(threads.blas_thread_count())
        return False

    b = backend("float64")
    rng = np.random.default_rng(0)
    dynamics.gd(
        b,
        inits.near_identity(3, 4, rng),
        Target.whitened(b, np.eye(4)),
        0.01,
        max_steps=3,
        observers=[obs],
    )
    assert seen == [1, 1, 1, 1]
    assert threads.blas_thread_count() == 2


def test_pool_workers_run_with_one_thread(two_threads):
    got = dict(imap_processes(_count, list(range(4)), jobs=2))
    assert sorted(got) == [0, 1, 2, 3]
    assert set(got.values()) == {1}


def test_serial_path_runs_with_one_thread(two_threads):
    got = dict(imap_processes(_count, [0, 1], jobs=1))
    assert set(got.values()) == {1}
    assert threads.blas_thread_count() == 2


def test_dask_task_sets_one_thread(two_threads):
    assert _on_worker(_count, None) == 1
    assert threads.in_worker()
    assert threads.blas_threads_for(10_000) == 1


def test_init_worker_overrides_an_inherited_environment():
    """The braces without the belt: a process whose environment asks for 2 BLAS
    threads runs with 1 after :func:`zascheck.threads.init_worker`."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy; from zascheck import threads; a = threads.blas_thread_count(); threads.init_worker(); "
        "print(a, threads.blas_thread_count())"
    )
    env = os.environ | {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if out[0] == "0":
        pytest.skip("no BLAS library reported by threadpoolctl")
    assert out == ["2", "1"]
