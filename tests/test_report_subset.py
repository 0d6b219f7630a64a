"""``zascheck report ID...``: a report of some claims only (their checks, sweeps and figures)."""

from __future__ import annotations

import pytest

from zascheck import engine
from zascheck.cli import main
from zascheck.errors import InputError
from zascheck.report import SWEEP_OWNER, plan


@pytest.mark.parametrize("budget", ["quick", "standard", "full"])
def test_every_sweep_group_has_an_owning_claim(budget):
    groups = set(plan(budget, 2, 0)) - {"checks"}
    assert groups <= set(SWEEP_OWNER), groups - set(SWEEP_OWNER)
    assert set(SWEEP_OWNER.values()) <= {c.id for c in engine.all_cards()}


def test_a_subset_plan_has_only_the_chosen_claims_checks_and_sweeps():
    p = plan("quick", 2, 0, claims=["zas.fig2", "zas.drift"])
    assert {c.params["key"].split(":")[0] for c in p["checks"]} == {"zas.fig2", "zas.drift"}
    assert set(p) - {"checks"} == {g for g, o in SWEEP_OWNER.items() if o in ("zas.fig2", "zas.drift")}
    assert all(p[g] for g in p)


def test_an_unknown_claim_is_an_input_error():
    with pytest.raises(InputError, match=r"zas\.nope"):
        plan("quick", 2, 0, claims=["zas.nope"])


@pytest.mark.parametrize(("argv", "needle"), [
    (["report", "zas.nope"], "unknown claim id 'zas.nope'"),
    (["report", "zas.drift:exact"], "claim ids, not methods"),
])
def test_the_cli_refuses_bad_claim_ids_before_any_work(argv, needle, tmp_path, capsys):
    out = tmp_path / "r"
    assert main([*argv, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not out.exists()
