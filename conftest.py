"""Shared pytest set-up: the ``slow`` marker is honoured, never silent.

Tests marked ``slow`` run with ``--runslow`` (or ``HYPOTHESIS_PROFILE=thorough``);
otherwise they are reported as skipped with a reason naming ``--runslow``
(``.ci/run`` accepts only those skips).
"""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("HYPOTHESIS_PROFILE") == "thorough":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or HYPOTHESIS_PROFILE=thorough")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
