"""The report's folder: one report at a time, never a mix of two reports, the
user's own files untouched, crashes never cached, user cards reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zascheck.cli import main
from zascheck.errors import InputError
from zascheck.report import _report_lock, build_report
from zascheck.report import cases as report_cases
from zascheck.report.cache import Cache, remove_stale_tmp
from zascheck.report.cases import Case
from zascheck.report.runner import run_cases

ROOT = Path(__file__).resolve().parent.parent


def test_a_second_report_into_a_folder_in_use_is_refused(tmp_path):
    with _report_lock(tmp_path), pytest.raises(InputError, match="another zascheck report"):
        build_report(out=tmp_path, budget="quick", seeds=1, claims=["zas.drift"])


def test_only_the_reports_own_temporary_files_are_removed(tmp_path):
    mine = tmp_path / "evidence" / ".x.json.abc123.tmp"
    theirs = tmp_path / "notes" / "deep" / ".draft.tmp"
    for p in (mine, theirs):
        p.parent.mkdir(parents=True)
        p.write_text("x")
    assert remove_stale_tmp(tmp_path) == 1
    assert theirs.exists() and not mine.exists()


def test_a_failed_case_is_reported_but_never_cached(tmp_path, monkeypatch):
    calls = []

    def flaky(**kw):
        calls.append(kw)
        return {"ok": False, "error": "MemoryError: simulated"}

    monkeypatch.setitem(report_cases.KINDS, "flaky", flaky)
    cache = Cache(tmp_path)
    case = [Case("flaky", {"n": 1})]
    for _ in range(2):
        assert run_cases(case, cache, jobs=1)[0]["ok"] is False
    assert len(calls) == 2 and cache.stored == 0


def test_a_report_of_fewer_claims_leaves_no_evidence_of_the_earlier_one(tmp_path):
    out = tmp_path / "r"
    build_report(out=out, budget="quick", seeds=1, claims=["zas.drift", "zas.fig1"])
    assert list((out / "evidence").glob("zas.fig1--*.json"))
    assert (out / "figures" / "fig1.png").exists()
    user = out / "figures" / "notes.txt"
    user.write_text("mine")
    build_report(out=out, budget="quick", seeds=1, claims=["zas.drift"])
    assert not list((out / "evidence").glob("zas.fig1--*.json"))
    assert not (out / "figures" / "fig1.png").exists()
    assert user.exists()  # not a report file: untouched
    meta = json.loads((out / "claims.json").read_text())["meta"]
    assert meta["claims_selected"] == ["zas.drift"] and meta["jobs"] <= 2


def test_the_readmes_user_card_example_makes_a_report(tmp_path, capsys):
    card = str(ROOT / "examples" / "balanced_norms.py")
    out = tmp_path / "u"
    code = main(["report", "user.balanced-norms", "--cards", card, "--budget", "quick", "--seeds", "1",
                 "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    got = json.loads((out / "claims.json").read_text())
    assert {c["claim"] for c in got["claims"]} == {"user.balanced-norms"}
    assert "--cards" in got["meta"]["command"]


@pytest.mark.parametrize("seeds", ["0", "99999999999999999999999"])
def test_seeds_out_of_range_are_refused_before_any_work(seeds, tmp_path, capsys):
    out = tmp_path / "s"
    try:
        code = main(["report", "zas.drift", "--seeds", seeds, "--out", str(out), "--no-progress"])
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    assert code == 2
    assert "--seeds" in capsys.readouterr().err and not out.exists()


def test_a_claim_whose_every_check_crashed_is_inconclusive_not_missing():
    from zascheck.engine import claim_verdicts

    rows = claim_verdicts([], crashed=["zas.drift:exact", "zas.drift:mp"])
    assert [(r["claim"], r["verdict"]) for r in rows] == [("zas.drift", "inconclusive")]
    assert rows[0]["methods"] == ["exact: crashed", "mp: crashed"]


def test_a_claim_id_that_could_name_a_path_is_refused(tmp_path):
    from zascheck import engine

    f = tmp_path / "bad_card.py"
    f.write_text("from zascheck.card import Card\nCARD = Card(id='../../x', section='U', kind='identity', "
                 "source='me', statement='s')\n")
    with pytest.raises(InputError, match="letters, digits"):
        engine.load_user_cards([str(f)])
    engine.unload_user_cards()


@pytest.mark.parametrize("target", ["-", "sub/"])
def test_json_to_stdout_or_a_folder_path_is_refused(target, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "zas.drift:exact", "--json", target, "--no-progress"]) == 2
    assert "give a file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_report_leaves_the_earlier_one_whole(tmp_path, monkeypatch):
    """A report interrupted while it draws its figures moves nothing into place:
    the earlier report's figures, evidence and claims.json stay as they were
    (no figures beside a claims.json that does not describe them), and the
    staging folder is removed."""
    from zascheck.report import graph

    out = tmp_path / "r"
    build_report(out=out, budget="quick", seeds=1, claims=["zas.drift"])
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
              if p.is_file() and ".cache" not in p.parts and p.name != ".lock"}

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(graph, "draw", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report(out=out, budget="quick", seeds=1, claims=["zas.drift", "zas.fig1"])
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
             if p.is_file() and ".cache" not in p.parts and p.name != ".lock"}
    assert after == before
    assert not list(out.glob(".staging-*"))


def test_a_killed_reports_staging_folder_is_removed_by_the_next(tmp_path):
    stale = tmp_path / ".staging-999999" / "figures"
    stale.mkdir(parents=True)
    (stale / "fig1.png").write_bytes(b"x")
    user = tmp_path / ".staging-notes"
    user.mkdir()
    assert remove_stale_tmp(tmp_path) == 1
    assert not stale.parent.exists() and user.exists()
