"""The claim-card layout (issue 9): one card per claim id, loaded only by the engine;
`zascheck claims --json` describes every card; a user's card file runs like a built-in one."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import zascheck
from zascheck import cli, engine

PKG = Path(zascheck.__file__).resolve().parent
ROOT = PKG.parent
EXAMPLE = ROOT / "examples" / "balanced_norms.py"


@pytest.fixture(autouse=True)
def _forget_user_cards():
    yield
    engine.unload_user_cards()


def _imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.module:
            out.add(n.module)
            out |= {f"{n.module}.{a.name}" for a in n.names}
    return out


def test_no_module_imports_a_card_except_the_engine():
    offenders = []
    for f in sorted(PKG.rglob("*.py")):
        if f.name == "engine.py" and f.parent == PKG:
            continue
        for m in _imported_modules(f):
            if m.startswith("zascheck.claims.") or m == "zascheck.claims":
                offenders.append(f"{f.relative_to(ROOT)} imports {m}")
    for f in sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "properties").glob("*.py")):
        for m in _imported_modules(f):
            if m.startswith("zascheck.claims"):
                offenders.append(f"{f.relative_to(ROOT)} imports {m}")
    assert not offenders, offenders


def test_one_card_per_module_and_one_module_per_claim():
    ids = [c.id for c in engine.all_cards()]
    assert len(ids) == len(set(ids))
    files = [c.file for c in engine.all_cards()]
    assert len(files) == len(set(files))
    for c in engine.all_cards():
        assert Path(c.file).is_relative_to(PKG / "claims"), c.file
        assert c.quantifiers, f"{c.id} declares no quantifiers"


def test_claims_json_lists_file_quantifiers_inputs_methods_controls_dependencies(tmp_path):
    out = tmp_path / "claims.json"
    assert cli.main(["claims", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())["claims"]
    assert [d["id"] for d in doc] == [c.id for c in engine.all_cards()]
    for d in doc:
        assert (ROOT / d["file"]).is_file(), d
        for key in ("quantifiers", "inputs", "checks", "depends_on", "statement", "source", "bound"):
            assert key in d, (d["id"], key)
        assert all(q["name"] and q["over"] for q in d["quantifiers"])
        for k in d["checks"]:
            assert {"method", "inputs", "controls"} <= set(k)
        for dep in d["depends_on"]:
            engine.card(dep)  # every dependency is a known claim


def test_claims_prints_one_card_in_full(capsys):
    assert cli.main(["claims", "zas.thm4.3"]) == 0
    text = capsys.readouterr().out
    for word in ("statement:", "quantifiers:", "inputs:", "depends on:", "file:", "method gd"):
        assert word in text


def test_example_card_runs_from_the_readme_command_and_its_control_is_caught(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "zascheck check --cards examples/balanced_norms.py" in readme
    out = tmp_path / "r.json"
    assert cli.main(["check", "--cards", str(EXAMPLE), "--json", str(out), "--no-progress"]) == 0
    doc = json.loads(out.read_text())
    (r,) = doc["results"]
    assert r["claim"] == "user.balanced-norms" and r["verdict"] == "holds"
    assert r["scope"]["L"]["covered"].startswith("L in")
    assert doc["claims"][0]["verdict"] == "holds"
    ctl = tmp_path / "c.json"
    argv = ["check", "--cards", str(EXAMPLE), "--control", "unbalanced-init", "--json", str(ctl)]
    assert cli.main([*argv, "--no-progress"]) == 0
    assert json.loads(ctl.read_text())["results"][0]["verdict"] == "violated"


def test_bad_card_files_are_refused_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('no')\n")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    clash = tmp_path / "clash.py"
    clash.write_text(
        "from zascheck.card import Card\n"
        "CARD = Card(id='zas.thm4.3', section='U', kind='x', source='s', statement='s')\n"
    )
    for f in (bad, empty, clash, tmp_path / "missing.py"):
        assert cli.main(["check", "--cards", str(f), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("zascheck: error: --cards") and err.count("\n") == 1, err


@pytest.mark.parametrize("cid", ["zas.thm4.3", "zas.lemma4.4-4.6", "review.invariance"])
def test_dependencies_point_to_cards(cid):
    c = engine.card(cid)
    assert c.depends_on
    assert all(engine.card(d).id == d for d in c.depends_on)
