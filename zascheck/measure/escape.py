"""Measurements behind the escape / growth-law claims (Fig. 3, the review's multi-run comparison, Shamir's lower bound): thinned loss curves and fit comparisons."""

from __future__ import annotations

import math
from typing import Any
import numpy as np
from zascheck import experiments


def _sample(losses: list[Any], n: int = 40) -> dict[str, list[float]]:
    """A loss curve thinned to about ``n`` log-spaced iterations (for figures)."""
    T = len(losses) - 1
    idx = sorted({0, T} | {round(x) for x in np.geomspace(1, max(T, 1), n)})
    return {"t": idx, "R": [float(losses[i]) for i in idx]}


def _log_rss_ratio(fits: dict[str, experiments.LinearFit], better: str) -> float:
    """``log(RSS_other / RSS_better)``: positive when ``better`` fits better."""
    other = "polynomial" if better == "exponential" else "exponential"
    a, c = fits[better].rss, fits[other].rss
    if a == 0:
        return math.inf if c > 0 else 0.0
    if c == 0:
        return -math.inf
    return math.log(c / a)
