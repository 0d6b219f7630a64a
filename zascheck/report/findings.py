"""README's "What the checks found", generated from a report's claim-level verdicts.

The block between ``<!-- findings:start -->`` and ``<!-- findings:end -->`` in the
repository README is :func:`render` of the reference report's ``claims.json``, so the
two cannot disagree (``tests/test_findings.py``).  Regenerate it with::

    python -m zascheck.report.findings README.md reports/claims.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from zascheck.io import atomic_write_text

__all__ = ["END", "START", "render", "update"]

START, END = "<!-- findings:start -->", "<!-- findings:end -->"

_ORDER = ("certified", "holds", "violated", "inconclusive")
_MEANING = {
    "certified": "Certified for the whole claim (every quantifier covered by a proof or enclosure)",
    "holds": "Holds on the scope checked (not a proof of the whole claim)",
    "violated": "Violated: a counterexample is established",
    "inconclusive": "Inconclusive: the evidence cannot decide",
}


def render(doc: dict[str, Any]) -> str:
    """The findings block for a report's ``claims.json`` document."""
    claims = doc.get("claims", [])
    meta = doc.get("meta", {})
    lines = [START,
             f"Claim-level verdicts of the reference report (`{meta.get('command', 'zascheck report')}`), "
             "by the rule in \"Verdicts\"; the scope says what the evidence covers.", ""]
    for v in _ORDER:
        group = [c for c in claims if c["verdict"] == v]
        if not group:
            continue
        lines.append(f"**{_MEANING[v]}** ({len(group)}):\n")
        for c in group:
            scope = c.get("scope_text") or "-"
            lines.append(f"- `{c['claim']}`: {scope}")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def update(readme: Path, claims_json: Path) -> bool:
    """Rewrite the findings block of ``readme`` from ``claims_json``; True if it changed."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + render(json.loads(claims_json.read_text(encoding="utf-8"))) + tail
    if new != text:
        atomic_write_text(readme, new)
    return new != text


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    changed = update(Path(sys.argv[1]), Path(sys.argv[2]))
    print("updated" if changed else "unchanged")
