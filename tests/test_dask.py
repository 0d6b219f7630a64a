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
                      "init": "near-identity", "indices": [1, 2]}),
    ]


def _strip(v):
    """The numbers of a case, without the fields that record time or place."""
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in ("_seconds", "_cpu_seconds", "seconds")}
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


#: fields of claims.json that record time or place, not numbers (issue 14, item 3)
_PLACE = {"seconds", "_seconds", "_cpu_seconds", "search_seconds", "started", "jobs", "scheduler", "cache_hits", "command", "out",
          "machine"}


def _numbers(v):
    if isinstance(v, dict):
        return {k: _numbers(x) for k, x in v.items() if k not in _PLACE}
    if isinstance(v, list):
        return [_numbers(x) for x in v]
    return v


def test_a_small_report_on_a_dask_cluster_writes_the_local_pools_claims_json(cluster_address, tmp_path):
    """``zascheck report ID... --scheduler ADDRESS`` and the local pool give the same
    claims.json for the same seed (time and place excepted); the claims chosen
    have a check and a report sweep each, so both kinds of case go through Dask."""
    import json

    from zascheck.report import build_report

    kw = {"budget": "quick", "seeds": 2, "seed": 0, "claims": ["zas.drift", "zas.fig1", "zas.thm4.1"]}
    build_report(out=tmp_path / "local", jobs=1, **kw)
    build_report(out=tmp_path / "dask", scheduler=cluster_address, **kw)
    local = json.loads((tmp_path / "local" / "claims.json").read_text())
    dask = json.loads((tmp_path / "dask" / "claims.json").read_text())
    assert dask["meta"]["scheduler"] == cluster_address and local["meta"]["scheduler"] == "local pool"
    assert {c["claim"] for c in local["claims"]} == set(kw["claims"])
    assert _numbers(dask) == _numbers(local)
    # the sweeps' numbers are in the figures' data files
    figs = sorted(p.name for p in (tmp_path / "local" / "figures").glob("*.json"))
    assert {"drift.json", "fig1.json", "thm41.json"} <= set(figs)
    for name in figs:
        a = json.loads((tmp_path / "local" / "figures" / name).read_text())
        b = json.loads((tmp_path / "dask" / "figures" / name).read_text())
        assert _numbers(b) == _numbers(a), name
