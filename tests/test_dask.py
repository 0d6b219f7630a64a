"""Sweeps on a Dask cluster (issue 14): the same cache, resume and numbers as the local pool,
and a worker killed mid-case does not lose its case."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from zascheck.errors import InputError
from zascheck.parallel import dask_client, parse_scheduler
from zascheck.report.cache import Cache
from zascheck.report.cases import Case
from zascheck.report.runner import run_cases


@pytest.fixture(scope="module")
def cluster_address():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=40) as cluster:
        yield cluster.scheduler_address


def _cases() -> list[Case]:
    return [
        Case("check", {"key": "zas.drift:exact", "budget": "quick", "seed": 0}),
        Case("check", {"key": "zas.fig1:gd", "budget": "quick", "seed": 0}),
        Case("fig3", {"L": 3, "d": 3, "eta": 0.05, "max_steps": 300, "rel_tol": 1e-6, "seed": 0,
                      "init": "near-identity", "index": 1}),
    ]


def _strip(v):
    """The numbers of a case, without the fields that record time or place."""
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in ("_seconds", "seconds")}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def test_dask_gives_the_local_pools_numbers_and_fills_the_same_cache(cluster_address, tmp_path):
    local = run_cases(_cases(), Cache(tmp_path / "local"), jobs=1)
    cache = Cache(tmp_path / "dask")
    remote = run_cases(_cases(), cache, scheduler=cluster_address)
    assert _strip(remote) == _strip(local)
    assert cache.stored == len(_cases())
    again = Cache(tmp_path / "dask")
    run_cases(_cases(), again, scheduler=cluster_address)
    assert again.hits == len(_cases()) and again.stored == 0  # resumed: nothing recomputed


def test_a_worker_killed_mid_case_has_its_case_resubmitted(tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=50) as cluster:
        from distributed import Client

        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        cases = [Case("sleep", {"seconds": 1.5, "value": i}) for i in range(6)]
        killer = threading.Timer(0.8 + 1.5, lambda: os.kill(pids[0], signal.SIGKILL))
        killer.start()
        t0 = time.time()
        out = run_cases(cases, Cache(tmp_path / "c"), scheduler=cluster.scheduler_address)
        killer.join()
    assert sorted(v["value"] for v in out) == list(range(6))
    assert time.time() - t0 < 120


def test_scheduler_addresses_are_validated():
    assert parse_scheduler("local:1") == ("local", 1)
    for bad in ("local:0", "local:x", "local:100000", "nowhere", "host:99999", "tcp://:8786",
                "http://127.0.0.1:8786"):
        with pytest.raises(InputError):
            parse_scheduler(bad)


def test_an_unreachable_scheduler_is_an_input_error():
    with pytest.raises(InputError, match="cannot reach"), dask_client("tcp://127.0.0.1:1"):
        pass
