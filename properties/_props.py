"""Shared helpers of the property modules (not a test module).

* :func:`decide` decides one case with the library's escalation, steers the
  search with ``target()``, records the tightest case, and fails with the case
  and the one-line command that reproduces it.
* :func:`must_find` runs a *negative* property (one hypothesis dropped) and
  asserts a counterexample is found, re-decided ``violated`` on the
  escalation ladder, and reproduced by its printed command.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import tempfile
from typing import Any

from hypothesis import note, target

from zascheck import engine, search
from zascheck.escalate import Escalated
from zascheck.result import Verdict

TIGHTEST: dict[str, dict[str, Any]] = {}

#: examples a negative property may use to find its counterexample, per profile
NEG_EXAMPLES = {"dev": 40, "ci": 40, "thorough": 200}


def profile() -> str:
    return os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def _record(key: str, case: dict[str, Any], out: Escalated) -> None:
    if not math.isfinite(out.slack) or out.verdict is Verdict.VIOLATED:
        return
    old = TIGHTEST.get(key)
    if old is None or out.slack < old["slack"]:
        TIGHTEST[key] = {
            "slack": out.slack,
            "verdict": out.verdict.value,
            "arithmetic": out.arithmetic,
            "bits": out.precision_bits,
            "margin": out.margin,
            "case": case,
            "command": search.command(engine.prop(key), case),
        }


def decide(key: str, case: dict[str, Any], *, want: tuple[Verdict, ...] | None = None) -> Escalated:
    """Decide ``case`` of property ``key``; fail unless the verdict is in
    ``want`` (default: anything but ``violated``)."""
    out = search.check_case(engine.prop(key), case)
    msg = search.failure_message(engine.prop(key), case, out)
    note(msg)
    if math.isfinite(out.slack):
        target(-out.slack, label=f"{key}: negated slack")
    _record(key, case, out)
    assert out.verdict is not Verdict.VIOLATED, msg
    if want is not None:
        assert out.verdict in want, msg
    return out


def run_command(cmd: str) -> dict[str, Any]:
    """Run a printed ``zascheck check ...`` command in-process; return its one result."""
    from zascheck import cli

    argv = shlex.split(cmd)
    assert argv[0] == "zascheck"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        code = cli.main([*argv[1:], "--json", out, "--no-progress"])
        assert code == 0, f"{cmd} exited {code}"
        with open(out, encoding="utf-8") as fh:
            doc = json.load(fh)
    assert len(doc["results"]) == 1, doc
    return doc["results"][0]


def must_find(key: str, *, examples: int | None = None, seed: int = 0) -> search.SearchOutcome:
    """The negative property ``key`` must find a counterexample, and its
    printed command must reproduce the violation."""
    n = examples or NEG_EXAMPLES.get(profile(), 40)
    so = search.run_search(engine.prop(key), examples=n, seed=seed, shrink_seconds=3.0)
    assert so.counterexample is not None, (
        f"{key}: no counterexample in {so.examples} examples ({so.verdicts}): the property has no teeth"
    )
    rec = so.counterexample_record()
    assert so.counterexample.verdict is Verdict.VIOLATED, (
        f"{key}: the counterexample was not confirmed on the escalation ladder: {rec}"
    )
    res = run_command(rec["command"])
    assert res["verdict"] == "violated", f"{rec['command']} gave {res['verdict']}, not violated"
    assert res["counterexample"]["case"] == so.counterexample_case
    return so
