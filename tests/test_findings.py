"""README's findings are generated from the reference report's claim-level verdicts (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

from zascheck.report.findings import END, START, render

ROOT = Path(__file__).resolve().parent.parent


def test_readme_findings_match_the_reference_report():
    doc = json.loads((ROOT / "reports" / "claims.json").read_text(encoding="utf-8"))
    assert doc.get("claims"), "the reference report has no claim-level verdicts: regenerate it"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = START + readme.split(START, 1)[1].split(END, 1)[0] + END
    assert block == render(doc), (
        "README's findings differ from reports/claims.json: run "
        "`python -m zascheck.report.findings README.md reports/claims.json`"
    )


def test_render_groups_by_verdict_with_scope():
    doc = {"claims": [{"claim": "a", "verdict": "holds", "scope_text": "t <= 3"},
                      {"claim": "b", "verdict": "violated", "scope_text": ""}], "meta": {}}
    text = render(doc)
    assert "`a`: t <= 3" in text and "`b`: -" in text
    assert text.index("Holds") < text.index("Violated")
