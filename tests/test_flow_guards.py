"""A flow the integrator cannot finish is refused up front (exit 2, one line), never
run until the time limit (issue 11: resource guards instead of hangs)."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck.cli import main


@pytest.mark.parametrize("check", ["review.any-layer:flow", "review.alpha:flow", "review.last-cI:flow"])
def test_a_512_wide_target_is_refused_before_any_flow(check, tmp_path, capsys):
    f = tmp_path / "g512.npy"
    np.save(f, np.random.default_rng(0).normal(size=(512, 512)))
    assert main(["check", check, "--phi", str(f), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "d = 512" in err[0] and "limit" in err[0]
