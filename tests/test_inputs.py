"""Every input honoured or refused (issue 11): bad input is exit 2 with one line, before any
work, with no traceback and no output file; inputs a check does not take are refused or listed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zascheck import cli
from zascheck.parallel import effective_jobs

FAST = "zas.drift:exact"


def _refused(argv, capsys, out=None):
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, (argv, code, err)
    lines = [x for x in err.splitlines() if x.startswith("zascheck: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    if out is not None:
        assert not os.path.exists(out), "a refused run wrote its output"
    return lines[0]


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ('{"eta": "abc"}', "eta"),
        ('{"eta": "1/0"}', "eta"),
        ('{"eta": -1}', "eta"),
        ('{"eta": 0}', "eta"),
        ('{"eta": NaN}', "NaN"),
        ('{"eta": 1e999}', "overflows"),
        ('{"L": true}', "L"),
        ('{"L": 2.0}', "L"),
        ('{"L": 1000000000}', "beyond"),
        ('{"L": 99999999999999999999999}', "2^53"),
        ('{"nope": 1}', "nope"),
        ('{"L": 2, "L": 3}', "twice"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_case_values_are_refused(case, words, capsys, tmp_path):
    out = tmp_path / "o.json"
    line = _refused(
        ["check", FAST, "--case", case, "--json", str(out), "--no-progress"], capsys, out
    )
    assert words in line


def test_empty_case_list_and_ragged_phi_are_refused(capsys):
    assert "non-empty" in _refused(["check", "zas.thm4.3:gd", "--case", '{"cases": []}'], capsys)
    line = _refused(["check", "zas.thm4.1:flow", "--case", '{"phi": [[1, 2], [3]]}'], capsys)
    assert "ragged" in line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('[["1", "2"], ["3", "4"]]', "a string"),
        ("[[1, 2], [3]]", "ragged"),
        ("[[true, 1], [0, 1]]", "a boolean"),
        ('{"phi": [[1, NaN], [0, 1]]}', "NaN"),
        ("[[1e999, 0], [0, 1]]", "overflows"),
        ("", "not valid JSON"),
        ("[[]]", "column"),
    ],
)
def test_bad_target_files_are_refused(content, words, capsys, tmp_path):
    f = tmp_path / "phi.json"
    f.write_text(content)
    assert words in _refused(["check", "zas.thm4.1:flow", "--phi", str(f)], capsys)


def test_empty_and_truncated_npy_are_refused(capsys, tmp_path):
    empty = tmp_path / "e.npy"
    empty.write_bytes(b"")
    _refused(["check", "zas.thm4.1:flow", "--phi", str(empty)], capsys)
    good = tmp_path / "g.npy"
    np.save(good, np.eye(3))
    cut = tmp_path / "c.npy"
    cut.write_bytes(good.read_bytes()[:-20])
    _refused(["check", "zas.thm4.1:flow", "--phi", str(cut)], capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["check", FAST, "--seed", "-1"],
        ["check", FAST, "--precision", "52"],
        ["check", FAST, "--precision", "100000"],
        ["check", FAST, "--time-limit", "-3"],
        ["check", FAST, "--jobs", "0"],
    ],
)
def test_bad_flags_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert capsys.readouterr().err.count("zascheck: error:") == 1


def test_unwritable_outputs_are_refused_before_any_work(capsys, tmp_path):
    missing = tmp_path / "nope" / "x.json"
    _refused(["check", FAST, "--json", str(missing)], capsys)
    _refused(["check", FAST, "--json", str(tmp_path)], capsys)
    _refused(["claims", "--json", str(missing)], capsys)
    _refused(["derive", "--out", str(missing)], capsys)
    f = tmp_path / "file"
    f.write_text("x")
    _refused(["report", "--out", str(f)], capsys)
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        _refused(["check", FAST, "--json", str(ro / "x.json")], capsys)


def test_phi_refused_by_a_check_that_takes_no_target_names_the_ones_that_do(capsys, tmp_path):
    f = tmp_path / "p.npy"
    np.save(f, np.eye(2))
    line = _refused(["check", "zas.drift:symbolic", "--phi", str(f)], capsys)
    assert "zas.drift:symbolic" in line and "--phi" in line and "zas.drift:exact" in line


def test_phi_over_several_checks_lists_where_it_was_not_applied(tmp_path):
    f = tmp_path / "p.npy"
    np.save(f, np.eye(2))
    out = tmp_path / "o.json"
    assert (
        cli.main(["check", "zas.drift", "--phi", str(f), "--json", str(out), "--no-progress"]) == 0
    )
    meta = json.loads(out.read_text())["meta"]
    entry = next(e for e in meta["inputs_not_applied"] if e["check"] == "zas.drift:symbolic")
    assert entry["input"] == "--phi" and entry["ran"] is True


def test_a_control_refuses_inputs_that_change_what_it_breaks(capsys, tmp_path):
    f = tmp_path / "p.npy"
    np.save(f, np.eye(2))
    line = _refused(
        ["check", "zas.thm4.1", "--control", "near-identity-init", "--phi", str(f)], capsys
    )
    assert "near-identity-init" in line
    line = _refused(
        ["check", "zas.thm4.3:gd", "--control", "eta-above-bound", "--case", '{"eta": 0.001}'],
        capsys,
    )
    assert "eta" in line


def test_time_limit_ends_a_check_inconclusive(tmp_path):
    out = tmp_path / "o.json"
    argv = ["check", "shamir.lower", "--time-limit", "0.2", "--json", str(out), "--no-progress"]
    assert cli.main(argv) == 0
    (r,) = json.loads(out.read_text())["results"]
    assert r["verdict"] == "inconclusive" and "time limit" in r["notes"]


def test_jobs_never_exceed_tasks_or_cores():
    assert effective_jobs(1000, 2) <= 2
    assert effective_jobs(1000, 10**6) <= (os.cpu_count() or 1)
    assert effective_jobs(None, 5) >= 1


def test_a_search_writes_no_hypothesis_folder_into_the_working_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    run = subprocess.run(
        [sys.executable, "-m", "zascheck", "check", "zas.drift:search", "--no-progress"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / ".hypothesis").exists()


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None)
@given(key=st.sampled_from(["eta", "L", "steps", "cases", "depths", "zzz"]), value=_json_values)
def test_generated_bad_cases_are_refused_cleanly_or_run(key, value, tmp_path_factory):
    """Any JSON value for any key: exit 0 (a valid case) or exit 2 with one clean line and
    no output file, never a crash (exit 3) or a traceback."""
    tmp = tmp_path_factory.mktemp("gen")
    out = tmp / "o.json"
    case = json.dumps({key: value})
    argv = [
        "check",
        "zas.thm4.3:gd",
        "--case",
        case,
        "--json",
        str(out),
        "--no-progress",
        "--time-limit",
        "30",
    ]
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    assert code in (0, 2), (case, code, err.getvalue())
    if code == 2:
        assert "Traceback" not in err.getvalue() and not out.exists()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_sigterm_ends_the_workers_of_check_jobs(tmp_path):
    import signal
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zascheck",
            "check",
            "zas.fig2",
            "shamir.lower",
            "review.multirun",
            "--jobs",
            "2",
            "--no-progress",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    kids: list[int] = []
    while time.time() < deadline and len(kids) < 2:
        time.sleep(0.2)
        kids = [k for k in _children(proc.pid) if "spawn" in _cmdline(k)]
    assert kids, "no worker processes were started"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    time.sleep(1.0)
    alive = [k for k in kids if os.path.exists(f"/proc/{k}") and "spawn" in _cmdline(k)]
    assert not alive, f"workers still running after SIGTERM: {alive}"
    assert proc.returncode == 130


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_outputs_never_replace_devices_or_links_and_get_the_usual_permissions(capsys, tmp_path):
    _refused(["check", FAST, "--json", "/dev/null"], capsys)
    target = tmp_path / "t.json"
    target.write_text("{}")
    link = tmp_path / "l.json"
    link.symlink_to(target)
    _refused(["check", FAST, "--json", str(link)], capsys)
    _refused(["check", FAST, "--json", ""], capsys)
    out = tmp_path / "o.json"
    assert cli.main(["check", FAST, "--json", str(out), "--no-progress"]) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (out.stat().st_mode & 0o777) == (0o666 & ~mask)


def test_special_files_and_deep_json_are_refused(capsys, tmp_path):
    fifo = tmp_path / "f.npy"
    os.mkfifo(fifo)
    _refused(["check", "zas.thm4.1:flow", "--phi", str(fifo)], capsys)
    _refused(["check", FAST, "--case", f"@{fifo}"], capsys)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    _refused(["check", "zas.thm4.1:flow", "--phi", str(deep)], capsys)
    _refused(["check", FAST, "--case", '{"a":' * 50000 + "1" + "}" * 50000], capsys)


def test_a_control_runs_its_own_setting_and_strict_passes_when_it_is_caught(capsys, tmp_path):
    f = tmp_path / "p.npy"
    np.save(f, np.eye(2))
    _refused(["check", "zas.thm4.3:gd", "--control", "eta-above-bound", "--phi", str(f)], capsys)
    argv = ["check", "zas.thm4.3:gd", "--control", "eta-above-bound", "--strict", "--no-progress"]
    assert cli.main(argv) == 0


def test_scheduler_and_time_limit_ranges(capsys):
    for argv in (
        ["check", FAST, "--scheduler", "local:99999"],
        ["check", FAST, "--scheduler", "http://127.0.0.1:8786"],
    ):
        _refused(argv, capsys)
    with pytest.raises(SystemExit) as e:
        cli.main(["check", FAST, "--time-limit", "1e300"])
    assert e.value.code == 2


def test_a_case_outside_the_claims_hypotheses_is_reported_not_counted(tmp_path):
    out = tmp_path / "o.json"
    case = '{"eta": 0.5, "max_steps": 200}'
    assert (
        cli.main(["check", "zas.thm4.3:gd", "--case", case, "--json", str(out), "--no-progress"])
        == 0
    )
    doc = json.loads(out.read_text())
    (r,) = doc["results"]
    assert "eta" in r["params"]["outside_hypotheses"]
    assert doc["claims"] == [] or doc["claims"][0]["verdict"] != "violated"


# --- zero targets, --case crashes, validation gaps (s3-inputs) -------------------------------


def _npy(tmp_path, name, m):
    f = tmp_path / name
    np.save(f, np.asarray(m, dtype=float))
    return str(f)


def _run_json(argv, tmp_path):
    out = tmp_path / "o.json"
    code = cli.main([*argv, "--json", str(out), "--no-progress"])
    return code, (json.loads(out.read_text()) if out.exists() else None)


def test_zero_target_thm43_is_decided_for_every_t(tmp_path):
    """R(0) = 0 from ZAS at Phi = 0: a global minimum, GD stays; (4.5) reads 0 <= 0."""
    f = _npy(tmp_path, "z.npy", np.zeros((2, 2)))
    code, doc = _run_json(["check", "zas.thm4.3:gd", "--phi", f], tmp_path)
    assert code == 0
    (r,) = doc["results"]
    assert r["verdict"] == "certified" and r["measured"] == 0.0 and r["bound"] == 0.0
    assert r["scope"]["t"]["universal"] is True and "R(0) = 0" in r["notes"]
    # the result says what ran: the user's target at each depth, not the budget's cases
    assert all(c["phi"] == "user target (as given)" for c in r["params"]["cases"])


def test_thm43_case_with_scale_zero_runs(tmp_path):
    case = '{"cases": [{"L": 2, "d": 2, "phi": "gaussian", "scale": 0}]}'
    code, doc = _run_json(["check", "zas.thm4.3:gd", "--case", case], tmp_path)
    assert code == 0
    (r,) = doc["results"]
    assert r["verdict"] == "certified" and r["measured"] == 0.0


def test_zero_target_near_zas_has_no_zas_rate(tmp_path):
    f = _npy(tmp_path, "z.npy", np.zeros((2, 2)))
    code, doc = _run_json(["check", "zas.near-zas:gd-bisection", "--phi", f], tmp_path)
    assert code == 0
    (r,) = doc["results"]
    assert r["verdict"] == "inconclusive" and "R(0) = 0" in r["notes"]


def test_zero_target_ssm_thm1(tmp_path, capsys):
    f = _npy(tmp_path, "z.npy", np.zeros((2, 2)))
    code, doc = _run_json(["check", "ssm.thm1:exact-hessian", "--phi", f], tmp_path)
    assert code == 0
    (r,) = doc["results"]
    assert r["params"]["outside_hypotheses"] and "rho = 0" in r["notes"]
    assert doc["claims"] == []  # reported, not counted
    line = _refused(["check", "ssm.thm1:gd-above-bound", "--phi", f], capsys)
    assert "zero target" in line


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ('{"times": [0]}', "no t > 0"),
        ('{"times": [1e308]}', "cannot be decided"),
        ('{"depths": [100000]}', "L = 100000"),
        ('{"d": 512}', "d = 512"),
    ],
)
def test_flow_requests_that_cannot_finish_are_refused(case, words, capsys):
    assert words in _refused(["check", "zas.thm4.1:flow", "--case", case], capsys)


def test_subnormal_time_is_undecided_not_a_crash(tmp_path):
    code, doc = _run_json(
        ["check", "zas.thm4.1:flow", "--case", '{"times": [1e-320], "depths": [2]}'], tmp_path
    )
    assert code == 0
    assert doc["results"][0]["verdict"] == "inconclusive"


@pytest.mark.parametrize("den", [0, -3])
def test_drift_denominator_must_be_positive(den, capsys):
    line = _refused(["check", FAST, "--case", f'{{"denominator": {den}}}'], capsys)
    assert "denominator" in line


def test_drift_exact_honours_a_named_target(tmp_path):
    code, doc = _run_json(["check", FAST, "--case", '{"phi": "gaussian"}'], tmp_path)
    assert code == 0
    r = doc["results"][0]
    assert r["verdict"] == "certified" and "gaussian" in r["scope"]["Phi"]["covered"]


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ('{"case": {"zzz": 1}}', "lacks"),
        ('{"case": {"ws": "abc", "phi": [[1.0]], "eta": 0.25}}', "case.ws"),
        ('{"case": [1, 2]}', "an object"),
    ],
)
def test_the_nested_case_of_a_search_is_validated(case, words, capsys):
    assert words in _refused(["check", "zas.drift:search", "--case", case], capsys)


def test_params_d_follows_the_users_target(tmp_path):
    f = _npy(tmp_path, "p.npy", np.diag([1.0, 0.5, 0.25]))
    code, doc = _run_json(
        ["check", "zas.thm4.1:flow", "--phi", f, "--case", '{"depths": [2]}'], tmp_path
    )
    assert code == 0 and doc["results"][0]["params"]["d"] == 3


def test_a_case_d_that_disagrees_with_the_target_is_refused(tmp_path, capsys):
    f = _npy(tmp_path, "p.npy", np.eye(3))
    assert "disagrees" in _refused(
        ["check", "zas.thm4.1:flow", "--phi", f, "--case", '{"d": 2}'], capsys
    )


def test_a_suite_run_lists_checks_that_refuse_the_target_as_not_applied(tmp_path, capsys):
    f = _npy(tmp_path, "ns.npy", [[1.0, 2.0], [0.0, 1.0]])
    code, doc = _run_json(["check", "ssm.thm2", FAST, "--phi", f], tmp_path)
    assert code == 0
    out = capsys.readouterr().out
    assert "not applied" in out
    refused = {e["check"]: e for e in doc["meta"]["inputs_not_applied"] if not e["ran"]}
    assert set(refused) == {"ssm.thm2:reduction", "ssm.thm2:bisection"}
    assert "symmetric" in refused["ssm.thm2:reduction"]["reason"]
    assert [r["claim"] for r in doc["results"]] == ["zas.drift"]
    # one check given an input it refuses still exits 2
    assert "symmetric" in _refused(["check", "ssm.thm2:reduction", "--phi", f], capsys)


def test_cards_takes_a_folder(tmp_path, capsys):
    from zascheck import engine

    folder = tmp_path / "cards"
    folder.mkdir()
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "balanced_norms.py")
    shutil.copy(example, folder / "balanced.py")
    try:
        code, doc = _run_json(["check", "--cards", str(folder)], tmp_path)
        assert code == 0 and doc["results"][0]["claim"] == "user.balanced-norms"
    finally:
        engine.unload_user_cards()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no *.py card file" in _refused(["check", "--cards", str(empty)], capsys)


BAD_CARD = """
from zascheck.card import Card, Quantifier, RunContext
from zascheck.result import CheckResult, Verdict, covers

CARD = Card(id="user.bad", section="U", kind="inequality", source="test", statement="x <= 1",
            bound="upper", quantifiers=(Quantifier("x", "every x"),))


@CARD.check("nan", budgets={"quick": {}})
def f(ctx: RunContext) -> CheckResult:
    return CheckResult(verdict=Verdict.HOLDS, measured=float("nan"), bound=1.0,
                       scope={"x": covers("one x")})


@CARD.check("string", budgets={"quick": {}})
def g(ctx: RunContext) -> CheckResult:
    return CheckResult(verdict="holds", measured=0.5, bound=1.0, scope={"x": covers("one x")})


@CARD.check("noscope", budgets={"quick": {}})
def h(ctx: RunContext) -> CheckResult:
    return CheckResult(verdict=Verdict.HOLDS, measured=0.5, bound=1.0)


@CARD.check("raises", budgets={"quick": {}})
def k(ctx: RunContext) -> CheckResult:
    raise RuntimeError("boom")


@CARD.check("ok", budgets={"quick": {}})
def m(ctx: RunContext) -> CheckResult:
    return CheckResult(verdict=Verdict.HOLDS, measured=0.5, bound=1.0, scope={"x": covers("one x")})
"""


def test_invalid_user_card_results_are_errors_naming_the_card(tmp_path, capsys):
    from zascheck import engine

    f = tmp_path / "bad.py"
    f.write_text(BAD_CARD)
    try:
        code, doc = _run_json(["check", "--cards", str(f)], tmp_path)
    finally:
        engine.unload_user_cards()
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert [r["method"] for r in doc["results"]] == ["ok"]
    errors = {e["check"]: e["error"] for e in doc["errors"]}
    assert set(errors) == {"user.bad:nan", "user.bad:string", "user.bad:noscope", "user.bad:raises"}
    assert all("user card user.bad" in e and "bad.py" in e for e in errors.values())
    assert "nan" in errors["user.bad:nan"] and "not a Verdict" in errors["user.bad:string"]
    assert "scope" in errors["user.bad:noscope"] and "boom" in errors["user.bad:raises"]


def test_duplicate_ids_run_once(tmp_path, capsys):
    code, doc = _run_json(["check", FAST, FAST], tmp_path)
    assert code == 0 and len(doc["results"]) == 1
    assert "more than once" in capsys.readouterr().err


def test_claims_refuses_an_unknown_method(capsys):
    line = _refused(["claims", "zas.thm4.3:nope"], capsys)
    assert "nope" in line and "gd" in line


@pytest.mark.parametrize("scale", [1e150, 1e300])
@pytest.mark.parametrize(
    "key", ["zas.lemma4.2:flow", "review.invariance:flow+exact-gd", "zas.thm4.1.steps:numeric"]
)
def test_huge_targets_are_refused_by_stiff_flows(key, scale, tmp_path, capsys):
    f = _npy(tmp_path, "h.npy", scale * np.eye(2))
    assert "stiff" in _refused(["check", key, "--phi", f], capsys)


def test_near_zas_refuses_a_target_whose_loss_underflows(tmp_path, capsys):
    f = _npy(tmp_path, "t.npy", 1e-300 * np.eye(2))
    line = _refused(["check", "zas.near-zas:gd-bisection", "--phi", f], capsys)
    assert "underflows" in line and "1.41e-300" in line


@pytest.mark.parametrize(
    ("key", "case", "words"),
    [
        ("zas.thm4.1.steps:numeric", '{"d": 512}', "d = 512"),
        ("review.invariance:flow+exact-gd", '{"d": 512}', "d = 512"),
        ("review.invariance:flow+exact-gd", '{"times": [0]}', "no t > 0"),
    ],
)
def test_flow_work_guards(key, case, words, capsys):
    assert words in _refused(["check", key, "--case", case], capsys)
