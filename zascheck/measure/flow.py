"""Shared measurements (moved from ``checks/flow.py``).

Flow decay family: Theorem 4.1 and Remark (1) (rectangular layers).
"""

from __future__ import annotations

from typing import Any

from zascheck import inits

THM41_TIMES = (0.25, 0.5, 1.0, 2.0, 3.0)


def _init(name: str, L: int, d: int, seed: int) -> list[Any]:
    return inits.make(name, L, d, seed=seed)
