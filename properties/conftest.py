"""Hypothesis profiles for the property suite, and the tightest-case report.

``HYPOTHESIS_PROFILE`` picks the profile: ``dev`` (default; few examples, the
local example database), ``ci`` (default when the ``CI`` variable is set:
derandomized, no database, no deadline), ``thorough`` (many examples; also
runs the properties marked ``slow``, see the top-level ``conftest.py``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("dev", max_examples=10, deadline=None, suppress_health_check=_SUPPRESS)
try:
    _ci_parent = settings.get_profile("ci")  # hypothesis' built-in ci profile
except Exception:  # pragma: no cover - older hypothesis
    _ci_parent = settings.default
settings.register_profile(
    "ci",
    parent=_ci_parent,
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_SUPPRESS,
)
settings.register_profile(
    "thorough", max_examples=250, deadline=None, suppress_health_check=_SUPPRESS
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    return f"hypothesis profile: {PROFILE} (max_examples={settings.default.max_examples})"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from _props import TIGHTEST

    if not TIGHTEST:
        return
    tr = terminalreporter
    tr.section("tightest cases found (smallest slack per property)")
    for key in sorted(TIGHTEST):
        rec = TIGHTEST[key]
        tr.write_line(
            f"{key:34s} slack {rec['slack']:<12.6g} {rec['verdict']:<11s} "
            f"{rec['arithmetic']}@{rec['bits']}  margin {rec['margin']:.4g}"
        )
    path = os.environ.get("ZASCHECK_TIGHTEST_JSON")
    if path:
        from zascheck.io import atomic_write_json

        atomic_write_json(path, {"profile": PROFILE, "tightest": TIGHTEST})
        tr.write_line(f"written to {path}")
