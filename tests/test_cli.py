"""The CLI: exit codes, one-line errors without tracebacks, atomic JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from zascheck import cli
from zascheck import engine
from zascheck.card import Card
from zascheck.result import CheckResult, Verdict

FAST = "zas.drift:exact"


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "zascheck", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_claims_lists_every_catalogue_id(capsys):
    CATALOGUE = [c.id for c in engine.all_cards()]

    assert cli.main(["claims"]) == 0
    out = capsys.readouterr().out
    for cid in CATALOGUE:
        assert cid in out


def test_check_writes_json_with_results_and_meta(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli.main(["check", FAST, "zas.thm4.1", "--json", str(out), "--no-progress"]) == 0
    doc = json.loads(out.read_text())
    assert set(doc) == {"results", "claims", "errors", "meta"}
    keys = {
        "claim",
        "verdict",
        "measured",
        "bound",
        "margin",
        "params",
        "arithmetic",
        "precision_bits",
        "seconds",
        "provenance",
        "method",
    }
    for r in doc["results"]:
        assert keys <= set(r)
        assert r["verdict"] in {v.value for v in Verdict}
    assert doc["meta"]["budget"] == "quick"
    assert {r["claim"] for r in doc["results"]} == {"zas.drift", "zas.thm4.1"}
    assert "zas.thm4.1" in capsys.readouterr().out


def test_control_is_caught_from_the_cli(tmp_path):
    out = tmp_path / "c.json"
    assert (
        cli.main(
            [
                "check",
                "zas.thm4.3",
                "--control",
                "eta-above-bound",
                "--json",
                str(out),
                "--no-progress",
                "--strict",
            ]
        )
        == 0  # --strict with --control passes when every control is caught
    )
    results = json.loads(out.read_text())["results"]
    assert results
    for r in results:
        assert r["verdict"] == "violated" and r["control"] == "eta-above-bound"
        assert r["counterexample"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "zas.nope"], "unknown claim id"),
        (["check", FAST, "--precision", "20"], "too low"),
        (["check", FAST, "--budget", "huge"], "invalid choice"),
        (["check", FAST, "--case", "{bad json"], "not valid JSON"),
        (["check", FAST, "--case", '{"L": 0}'], "L: expected an integer >= 1"),
        (["check", FAST, "--case", '{"eta": "-1/8"}'], "eta: expected a positive rational"),
        (["check", FAST, "--case", '{"nonsense": 1}'], "is not taken here"),
        (["check", FAST, "--control", "nope"], "no selected check has a control"),
        (["check", "zas.thm4.1", "--phi", "missing.npy"], "no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle, tmp_path):
    p = run(*args, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr
    assert "Traceback" not in p.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("nan.csv", "1,nan\n0,1\n", "NaN"),
        ("rect.csv", "1,2,3\n4,5,6\n", "square"),
        ("bad.json", "{not json", "cannot read"),
        ("nokey.json", '{"psi": [[1]]}', "no 'phi' key"),
        ("three.json", "[[[1]]]", "2-D"),
        ("x.txt", "1", "unknown format"),
        ("text.npy", "hello", "not a .npy file"),  # numpy called it pickled data
        ("empty.csv", "", "the target is empty"),  # numpy warned on two more lines
    ],
)
def test_bad_phi_files_are_named(tmp_path, name, content, needle):
    f = tmp_path / name
    f.write_text(content)
    out = tmp_path / "out.json"
    p = run("check", "zas.thm4.1", "--phi", str(f), "--json", str(out), cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not out.exists()


def test_phi_file_is_used(tmp_path):
    phi = np.array([[0.5, -1.0], [0.25, 2.0]])
    f = tmp_path / "phi.npy"
    np.save(f, phi)
    out = tmp_path / "o.json"
    assert (
        cli.main(["check", "zas.thm4.1", "--phi", str(f), "--json", str(out), "--no-progress"]) == 0
    )
    r = json.loads(out.read_text())["results"][0]
    assert np.allclose(np.array(r["params"]["phi"]), phi)


def test_crashing_check_exits_3_and_still_writes(tmp_path, monkeypatch):
    def boom(ctx):
        raise RuntimeError("deliberate")

    fake = Card(id="user.boom", section="U", kind="identity", source="test", statement="boom")
    fake.check("boom", budgets={"quick": {}})(boom)
    monkeypatch.setitem(engine._CARDS, "user.boom", fake)
    out = tmp_path / "o.json"
    assert cli.main(["check", "user.boom", FAST, "--json", str(out), "--no-progress"]) == 3
    doc = json.loads(out.read_text())
    assert doc["errors"][0]["check"] == "user.boom:boom"
    assert len(doc["results"]) == 1


def test_json_write_is_atomic_on_failure(tmp_path, monkeypatch):
    """If serialisation fails half-way, the old file stays and no temp file is left."""
    from zascheck import io

    target = tmp_path / "keep.json"
    target.write_text('{"old": true}\n')
    with pytest.raises(ValueError, match="JSON compliant"):
        io.atomic_write_json(target, {"x": float("nan")})
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_result_round_trips_through_json():
    r = CheckResult(
        claim="zas.drift",
        verdict=Verdict.HOLDS,
        measured=float("inf"),
        bound=1.0,
        params={"phi": np.eye(2)},
    )
    d = json.loads(json.dumps(r.to_dict()))
    back = CheckResult.from_dict(d)
    assert back.verdict is Verdict.HOLDS and back.measured == float("inf")


@pytest.mark.parametrize(
    ("dtype", "value", "ok"),
    [
        ("int64", 2**60 + 1, False),  # float64 would round it
        ("int64", 2**60, True),
        ("int64", 2**53 + 1, False),  # rounds to 2^53: not above it as a double
        ("int64", -(2**53), True),
        ("uint64", 2**64 - 1, False),
        ("longdouble", "1e-4000", False),  # would underflow to 0
        ("longdouble", "0.5", True),
        ("float32", 0.1, True),  # every float32 is a double
    ],
)
def test_a_target_float64_would_change_is_refused_not_rounded(tmp_path, dtype, value, ok):
    """An input is honoured or refused: an ``.npy`` target that float64 cannot
    hold exactly is refused with the entry named, never checked rounded
    (adversary, session 6)."""
    from zascheck.errors import InputError
    from zascheck.io import read_matrix

    f = tmp_path / "phi.npy"
    phi = np.eye(2, dtype=dtype)
    phi[0, 0] = np.array(value).astype(dtype) if dtype != "longdouble" else np.longdouble(value)
    np.save(f, phi)
    if ok:
        assert read_matrix(f)[0, 0] == phi[0, 0]
    else:
        with pytest.raises(InputError, match="is not a double"):
            read_matrix(f)
