"""Issue 15, target 4 (the standard report in <= 3 minutes): the speed-ups of
the report's machinery compute what the plain code computes.

* the cache keys: :func:`zascheck.report.cache.module_closure` reads each file
  once per run (memoized per path, size and mtime) and returns what parsing
  every file again returns;
* ``zas.fig4:gd`` split into one case per depth (run by the pool side by side)
  and handed to the check gives the same result as the check run whole;
* :func:`zascheck.report.runner._phases` runs the split cases before the
  check that takes them, and drops them when the check is cached.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from zascheck import engine
from zascheck.card import RunContext
from zascheck.report import cache as C
from zascheck.report.cases import Case, split_checks
from zascheck.report.runner import _phases


def _closure_by_parsing(entries: list[str]) -> list:
    """:func:`module_closure` as it was: every file parsed on every visit."""
    seen: dict = {}
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        f = C.module_file(name)
        if f is None:
            continue
        seen[name] = f
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        here = name if f.name != "__init__.py" else name + ".x"
        todo += sorted(C._imports_of(ast.parse(f.read_text(encoding="utf-8")), here))
    return sorted(set(seen.values()))


@pytest.mark.parametrize(
    "entries",
    [
        ["zascheck.engine", "zascheck.claims.zas.fig4"],
        ["zascheck.report.cases"],
        ["zascheck", "zascheck.measure.figures", "zascheck.report"],
    ],
)
def test_the_memoized_closure_is_the_parsed_one(entries):
    assert C.module_closure(entries) == _closure_by_parsing(entries)
    assert C.module_closure(entries) == _closure_by_parsing(entries)  # and again, from the memo


def test_an_edited_file_is_parsed_again(tmp_path):
    (tmp_path / "zascheck").mkdir()
    root = tmp_path / "zascheck"
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("import zascheck.b\n")
    (root / "b.py").write_text("")
    (root / "c.py").write_text("")
    assert [p.name for p in C.module_closure(["zascheck.a"], root)] == [
        "__init__.py",
        "a.py",
        "b.py",
    ]
    (root / "a.py").write_text("import zascheck.b\nimport zascheck.c\n")  # another size
    assert [p.name for p in C.module_closure(["zascheck.a"], root)] == [
        "__init__.py",
        "a.py",
        "b.py",
        "c.py",
    ]


def _fig4():
    """The zas.fig4 card module, as the engine loaded it (tests import no card)."""
    import sys

    return sys.modules[engine.checks_for(["zas.fig4:gd"])[0].fn.__module__]


def _strip_seconds(x):
    if isinstance(x, dict):
        return {k: _strip_seconds(v) for k, v in x.items() if k != "seconds"}
    if isinstance(x, list):
        return [_strip_seconds(v) for v in x]
    return x


def test_fig4_split_by_depth_gives_the_whole_checks_result():
    """The quick budget (depths 16 and 40, Xavier diverging: non-finite
    numbers go through JSON as the cache stores them)."""
    fig4 = _fig4()

    chk = engine.checks_for(["zas.fig4:gd"])[0]
    ctx = RunContext(budget="quick", seed=0)
    whole = engine.run_check(chk, ctx).to_dict()
    params = engine.resolve_params(chk, ctx)
    kws = fig4.split_cases(params, 0, None)
    assert [kw["L"] for kw in kws] == params["depths"]
    parts = [json.loads(json.dumps(fig4.split_evidence(**kw))) for kw in kws]
    fig4.prime(parts)
    split = engine.run_check(chk, ctx).to_dict()
    assert not fig4._PRIMED  # every depth was taken
    assert _strip_seconds(split) == _strip_seconds(whole)


_DEPTH_ARGS: dict[str, Any] = {
    "seed": 0,
    "L": 16,
    "T": 20,
    "Tt": 20,
    "etas": [0.1],
    "data_sha256": "x",
    "alpha": 0.01,
    "D": 16,
    "m": 16,
    "dtype": "float32",
    "inits": ["mzas", "xavier"],
    "blowup": False,
}


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("seed", 1),
        ("L", 40),
        ("T", 21),
        ("Tt", 19),
        ("etas", [0.2]),
        ("data_sha256", "y"),
        ("alpha", 0.02),
        ("D", 8),
        ("m", 8),
        ("dtype", "float64"),
        ("inits", ["mzas"]),
        ("blowup", True),
    ],
)
def test_fig4_primed_for_other_arguments_is_not_taken(name: str, other: Any):
    """Evidence primed for one depth is keyed by every argument it depends
    on: changing any one of them gives another key, so it is never taken."""
    fig4 = _fig4()
    changed = {**_DEPTH_ARGS, name: other}
    assert fig4.depth_key(**_DEPTH_ARGS) == fig4.depth_key(**dict(_DEPTH_ARGS))
    assert fig4.depth_key(**changed) != fig4.depth_key(**_DEPTH_ARGS)


def test_the_report_splits_fig4_and_runs_the_check_after_its_depths():
    from zascheck.report import plan

    p = plan("standard", 2, 0)
    (check,) = [c for c in p["checks"] if c.params["key"] == "zas.fig4:gd"]
    assert [c.params["part"]["L"] for c in check.needs] == [100, 200, 2000, 10000]
    assert all(c in p["fig4-depth"] for c in check.needs)
    other = Case("sleep", {"seconds": 0.0, "value": 1})
    cases = [check, *check.needs, other]
    first, then = _phases(cases, list(range(len(cases))))
    assert then == [0] and first == [1, 2, 3, 4, 5]
    first, then = _phases(cases, [1, 2, 3, 4, 5])  # the check cached: its depths are not run
    assert then == [] and first == [5]


def test_a_check_with_a_case_override_is_not_split():
    c = Case(
        "check",
        {
            "key": "zas.fig4:gd",
            "budget": "quick",
            "seed": 0,
            "case": {"depths": [16], "iterations": [20], "tune_iterations": [20]},
        },
    )
    assert split_checks([c]) == [] and c.needs == ()


def _figure():
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(4, 3))
    t = np.linspace(0, 3, 50)
    ax.semilogy(t, np.exp(-2 * t), label=r"$e^{-2t} R(0)$")
    ax.set_xlabel("t (time units)")
    ax.set_ylabel(r"$R(t)$")
    ax.set_title("a figure with mathtext, a legend and a log axis")
    ax.legend()
    return fig


def test_figures_written_in_the_background_are_the_same_bytes(tmp_path):
    from zascheck.report import plots

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    inline = plots._save(_figure(), tmp_path / "a", "f")
    with plots.saving_in_background(2):
        background = plots._save(_figure(), tmp_path / "b", "f")
    assert inline == background == ["figures/f.png", "figures/f.svg"]
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"f.{ext}").read_bytes() == (
            tmp_path / "b" / f"f.{ext}"
        ).read_bytes()


def test_workers_get_the_malloc_tunables_unless_the_user_set_some(monkeypatch):
    import os

    from zascheck import parallel

    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    with parallel._single_threaded_children():
        assert os.environ["GLIBC_TUNABLES"] == parallel.MALLOC_TUNABLES
    assert "GLIBC_TUNABLES" not in os.environ
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.check=0")
    with parallel._single_threaded_children():
        assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.check=0"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.check=0"


def test_figure_workers_ignore_ctrl_c():
    """The figure pool's workers are started with SIGINT ignored: a Ctrl-C
    reaches the report's own process only (which stops the pool), and no idle
    worker prints a KeyboardInterrupt traceback (adversary, session 5)."""
    import signal

    from zascheck.report import plots

    with plots.saving_in_background(2):
        pool, _ = plots._BACKGROUND[-1]
        seen = pool.apply_async(signal.getsignal, (signal.SIGINT,)).get(timeout=120)
    assert seen == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_report_refuses_a_folder_that_holds_other_files(tmp_path):
    """A folder with README.md / figures / evidence that no zascheck report
    wrote is refused before any work (nothing deleted or overwritten); an
    empty folder, one with other files only, or an earlier report is taken
    (adversary, session 5)."""
    from zascheck.errors import InputError
    from zascheck.report import refuse_foreign_folder

    mine = tmp_path / "mine"
    (mine / "figures").mkdir(parents=True)
    (mine / "figures" / "mine.png").write_text("mine")
    (mine / "README.md").write_text("my readme")
    with pytest.raises(InputError, match="no earlier zascheck report"):
        refuse_foreign_folder(mine)
    (mine / ".lock").write_text("")  # an empty lock can be anybody's (adversary, session 6)
    with pytest.raises(InputError, match="no earlier zascheck report"):
        refuse_foreign_folder(mine)
    # results and meta as `zascheck check --json` writes them: not a report's claims.json
    (mine / "claims.json").write_text(json.dumps({"results": [], "meta": {"budget": "quick"}}))
    with pytest.raises(InputError, match="no earlier zascheck report"):
        refuse_foreign_folder(mine)
    assert (mine / "figures" / "mine.png").read_text() == "mine"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    refuse_foreign_folder(other)  # nothing a report would replace
    refuse_foreign_folder(tmp_path / "new")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "README.md").write_text("# report")
    (earlier / "claims.json").write_text(
        json.dumps({"results": [], "meta": {"report_budget": "standard"}})
    )
    refuse_foreign_folder(earlier)
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    (interrupted / "README.md").write_text("x")
    from zascheck.report import LOCK_SIGNATURE, _report_lock

    with _report_lock(interrupted):  # a report's lock signs the folder
        pass
    assert (interrupted / ".lock").read_text() == LOCK_SIGNATURE
    refuse_foreign_folder(interrupted)
    with _report_lock(interrupted):  # signed once, not once per report
        pass
    assert (interrupted / ".lock").read_text() == LOCK_SIGNATURE
