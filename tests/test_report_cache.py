"""The report cache key is computed from the import graph (issue 9, item 6): an edit to a
module a case can execute invalidates the case; an edit elsewhere does not."""

from __future__ import annotations

import shutil
from pathlib import Path

import zascheck
from zascheck.report.cache import code_fingerprint, module_closure
from zascheck.report.cases import KINDS, Case

PKG = Path(zascheck.__file__).resolve().parent


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "zascheck"
    shutil.copytree(PKG, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_editing_a_module_only_a_sweep_imports_recomputes_that_sweep(tmp_path):
    root = _copy(tmp_path)
    fig2, thm41 = Case("fig2", {}), Case("thm41", {})
    before = {c.kind: code_fingerprint(c.modules(), root) for c in (fig2, thm41)}
    f = root / "measure" / "figures.py"
    assert f in module_closure(fig2.modules(), root)
    assert f not in module_closure(thm41.modules(), root)
    f.write_text(f.read_text() + "\n# an edit\n")
    after = {c.kind: code_fingerprint(c.modules(), root) for c in (fig2, thm41)}
    assert after["fig2"] != before["fig2"]
    assert after["thm41"] == before["thm41"]


def test_a_check_case_hashes_its_card_and_the_search_engine(tmp_path):
    root = _copy(tmp_path)
    c = Case("check", {"key": "zas.thm4.3:search"})
    files = {p.relative_to(root).as_posix() for p in module_closure(c.modules(), root)}
    assert {"claims/zas/thm4_3.py", "search.py", "engine.py", "strategies.py", "escalate.py"} <= files
    before = code_fingerprint(c.modules(), root)
    (root / "escalate.py").write_text((root / "escalate.py").read_text() + "\n# edit\n")
    assert code_fingerprint(c.modules(), root) != before


def test_every_case_kind_has_a_worker_whose_imports_resolve():
    for kind in KINDS:
        mods = Case(kind, {"key": "zas.drift:exact"}).modules()
        assert all(m.startswith("zascheck") for m in mods), (kind, mods)
        assert module_closure(mods) or kind == "sleep", kind
