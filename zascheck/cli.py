"""Command line: ``zascheck claims | check | derive | report``.

Exit codes
----------
0  every requested check ran to a verdict (whatever the verdict; add
   ``--strict`` to make ``violated`` / ``inconclusive`` fail)
1  ``--strict`` and some verdict was ``violated`` or ``inconclusive``
2  bad input: usage, unknown claim id, unreadable or malformed file,
   impossible parameter (``L < 1``, ``eta <= 0``, precision below 53 bits, ...)
3  a check crashed (a bug): the other results are still printed and written
130 interrupted (Ctrl-C); nothing half-written is left behind
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from zascheck import __version__
from zascheck.errors import InputError, ZascheckError

EXIT_OK, EXIT_STRICT, EXIT_INPUT, EXIT_CRASH, EXIT_INTERRUPT = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our input-error code and a one-line message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(
            f"zascheck: error: {message} (see 'zascheck {self.prog.split()[-1]} -h')\n"
            if " " in self.prog
            else f"zascheck: error: {message} (see 'zascheck -h')\n"
        )
        raise SystemExit(EXIT_INPUT)


def _shown(x: object, limit: int = 40) -> str:
    """``repr`` of a value a user gave, cut to ``limit`` characters (a message
    stays one readable line for a 5000-digit argument)."""
    r = repr(x) if isinstance(x, str) else str(x)
    return r if len(r) <= limit else f"{r[: limit - 10]}... ({len(r)} characters)"


def positive_int(s: str) -> int:
    """An argparse type: an integer >= 1 (``ArgumentTypeError`` otherwise: exit 2, one line)."""
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {_shown(s)}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {_shown(v)}")
    return v


def _precision(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"precision must be an integer number of bits, got {_shown(s)}"
        ) from None
    from zascheck.spec import MAX_PRECISION

    if v < 53:
        raise argparse.ArgumentTypeError(
            f"precision {_shown(v)} bits is too low: at least 53 is required"
        )
    if v > MAX_PRECISION:
        raise argparse.ArgumentTypeError(
            f"precision {_shown(v)} bits is more than the mp and ball code paths are tested at "
            f"(at most {MAX_PRECISION})"
        )
    return v


def _seconds(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {_shown(s)}") from None
    if not (v >= 0 and v <= 10**7):
        raise argparse.ArgumentTypeError(f"expected a number of seconds in [0, 10^7], got {s}")
    return v


def _seed(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {_shown(s)}") from None
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"the seed must be an integer in [0, 2^63), got {v}")
    return v


def _parse_case(text: str) -> dict[str, Any]:
    src = text
    if text.startswith("@"):
        p = Path(text[1:])
        if p.exists() and not p.is_file():
            raise InputError(f"--case file {p}: not a regular file")
        try:
            src = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read --case file {p}: {exc.strerror}") from None
    from zascheck.spec import parse_json

    obj = parse_json(src, "--case")
    if not isinstance(obj, dict):
        raise InputError("--case must be a JSON object of parameter overrides")
    return obj


def _add_derive_and_report(sub: Any) -> None:
    """The ``derive`` and ``report`` subcommands."""
    d = sub.add_parser("derive", help="write the symbolic derivations document")
    d.add_argument("ids", nargs="*", metavar="ID")
    d.add_argument("--out", default="reports/derivations.md", help="output file")

    r = sub.add_parser("report", help="write the bound-check report (Markdown, JSON, figures)")
    r.add_argument("ids", nargs="*", metavar="ID",
                   help="claim ids: a report of these claims only (default: every claim)")
    r.add_argument("--budget", choices=["quick", "standard", "full"], default="standard")
    r.add_argument("--out", default="reports", help="output folder (default reports/)")
    r.add_argument(
        "--seeds", type=positive_int, default=50, help="seeds for the multi-seed figures"
    )
    r.add_argument(
        "--jobs", type=positive_int, default=None, help="worker processes (default: all cores)"
    )
    r.add_argument("--seed", type=_seed, default=0)
    r.add_argument("--no-progress", action="store_true")
    r.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the cases on a Dask cluster: local:N (N workers here) or HOST:PORT",
    )
    r.add_argument(
        "--cards",
        metavar="PATH",
        action="append",
        help="also check the claim cards in PATH: a .py file defining CARD, or a folder of "
        "them (repeatable)",
    )


def _add_check(sub: Any) -> None:
    """The ``check`` subcommand."""
    k = sub.add_parser("check", help="run checks and print a verdict table")
    k.add_argument("ids", nargs="*", metavar="ID", help="claim ids (or id:method); default: all")
    k.add_argument(
        "--budget",
        choices=["quick", "standard", "thorough"],
        default="quick",
        help="problem sizes and step budgets (default: quick)",
    )
    k.add_argument(
        "--precision",
        type=_precision,
        metavar="BITS",
        help="working precision of the mp/ball checks (default: each check's, >= 113)",
    )
    k.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    k.add_argument(
        "--phi", metavar="FILE", help="target matrix (.npy, .csv or .json) for checks that take one"
    )
    k.add_argument("--json", metavar="FILE", help="write the results as JSON (atomically)")
    k.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="folder of data files for the checks that read real data (zas.fig4: the "
        "Fashion-MNIST train-*-idx*-ubyte[.gz] files); default $ZASCHECK_DATA, else the "
        "data an installed package ships",
    )
    k.add_argument(
        "--case", metavar="JSON", help="parameter overrides as JSON (or @file): reproduce one case"
    )
    k.add_argument("--control", metavar="NAME", help="run the named negative control instead")
    k.add_argument("--jobs", type=positive_int, default=1, help="parallel worker processes")
    k.add_argument(
        "--strict", action="store_true", help="exit 1 if any verdict is violated or inconclusive"
    )
    k.add_argument("--no-progress", action="store_true", help="no progress bar")
    k.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the checks on a Dask cluster: local:N (N workers here) or HOST:PORT",
    )
    k.add_argument(
        "--time-limit",
        metavar="SECONDS",
        type=_seconds,
        default=None,
        help="end a check that runs longer with an inconclusive result "
        "(default: 300 s quick, 3600 s standard, none thorough; 0 = none)",
    )
    k.add_argument(
        "--cards",
        metavar="PATH",
        action="append",
        help="load the claim cards in PATH: a .py file defining CARD, or a folder of them "
        "(repeatable); with no ID, run only them",
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="zascheck",
        description="Check the claims of the ZAS paper (NeurIPS 2019) and its reviews.",
        epilog="Exit codes: 0 ran; 1 --strict and a claim failed; 2 bad input; 3 a check crashed.",
    )
    p.add_argument("--version", action="version", version=f"zascheck {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    c = sub.add_parser("claims", help="list every claim id with source, kind and its checks")
    c.add_argument("ids", nargs="*", metavar="ID", help="show these cards in full")
    c.add_argument("--json", metavar="FILE", help="also write the cards as JSON")
    c.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="every card in full: statement, quantifiers, inputs, methods, file",
    )
    c.add_argument(
        "--cards",
        metavar="PATH",
        action="append",
        help="also load the claim cards in PATH: a .py file defining CARD, or a folder of "
        "them (repeatable)",
    )

    _add_check(sub)
    _add_derive_and_report(sub)
    return p


# ---------------------------------------------------------------------------


def _meta(args: argparse.Namespace, started: float) -> dict[str, Any]:
    import flint
    import mpmath
    import numpy
    import sympy

    return {
        "zascheck": __version__,
        "command": "zascheck " + " ".join(sys.argv[1:]) if sys.argv else "zascheck",
        "budget": getattr(args, "budget", None),
        "seed": getattr(args, "seed", None),
        "precision_bits": getattr(args, "precision", None),
        "phi": getattr(args, "phi", None),
        "data": getattr(args, "data", None),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mpmath": mpmath.__version__,
        "sympy": sympy.__version__,
        "python-flint": flint.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
    }


def format_table(results: list[Any], not_applied: Sequence[dict[str, Any]] = ()) -> str:
    """A fixed-width table of results (the CLI's only rendering of them), then
    one ``not applied`` row per check that did not take the user's input
    (``{check, input, reason}``)."""
    from zascheck.result import format_number

    from zascheck.result import scope_text

    rows = [
        (
            "claim",
            "method",
            "verdict",
            "measured",
            "rel",
            "bound",
            "margin",
            "arith",
            "bits",
            "s",
            "scope",
        )
    ]
    for r in results:
        for x, name in [(r, r.method)] + [(p, f"  part {p.part}") for p in r.parts]:
            rows.append(
                (
                    r.claim + (f" [control: {r.control}]" if r.control else ""),
                    name,
                    x.verdict.value,
                    format_number(x.measured),
                    x.relation,
                    format_number(x.bound),
                    format_number(x.margin),
                    x.arithmetic,
                    str(x.precision_bits),
                    f"{r.seconds:.2f}" if x is r else "",
                    _short(scope_text(x.scope)),
                )
            )
    for e in not_applied:
        if e.get("ran"):
            continue  # it has its own row: it ran without the input
        claim, _, method = e["check"].partition(":")
        rows.append(
            (
                claim,
                method,
                "not applied",
                "-",
                "",
                "",
                "",
                "",
                "",
                "",
                _short(f"{e['input']}: {e['reason']}"),
            )
        )
    return _fixed_width(rows)


def _short(text: str, width: int = 60) -> str:
    """A table cell of at most ``width`` characters (the JSON keeps the whole text)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def format_claims_table(claims: list[dict[str, Any]]) -> str:
    """The claim-level table: one verdict per claim by the README's rule, with its scope."""
    rows = [("claim", "verdict", "scope", "from")]
    for c in claims:
        rows.append(
            (
                c["claim"],
                c["verdict"],
                _short(c["scope_text"] or "-", 70),
                _short(", ".join(c["methods"]), 70),
            )
        )
    return _fixed_width(rows)


def _fixed_width(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_claims(args: argparse.Namespace) -> int:
    from zascheck import engine
    from zascheck.io import atomic_write_json

    if args.json is not None:
        from zascheck.spec import check_output_path

        check_output_path(args.json, "--json")
    if args.cards:
        engine.load_user_cards(args.cards)
    cards = engine.all_cards()
    if args.ids:
        engine.checks_for([i for i in args.ids if ":" in i])  # an unknown method is refused
        cards = list(
            {i.partition(":")[0]: engine.card(i.partition(":")[0]) for i in args.ids}.values()
        )
    data = [card_record(c) for c in cards]
    if args.json is not None:
        atomic_write_json(args.json, {"claims": data})
    if args.verbose or args.ids:
        print("\n\n".join(_card_text(r) for r in data))
        return EXIT_OK
    rows = [("id", "sec", "kind", "bound", "checks", "source")]
    for rec in data:
        methods = ",".join(k["method"] for k in rec["checks"]) or "(none yet)"
        rows.append(
            (rec["id"], rec["section"], rec["kind"], rec["bound"], methods, rec["provenance"])
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) + "  " + row[5])
    return EXIT_OK


def card_record(c: Any) -> dict[str, Any]:
    """What ``zascheck claims --json`` says of one card (fields only added)."""
    import os

    rel = os.path.relpath(c.file, Path(__file__).resolve().parent.parent)
    return {
        "id": c.id,
        "section": c.section,
        "kind": c.kind,
        "bound": c.bound,
        "source": c.source,
        "provenance": c.provenance,
        "reconstructed": c.reconstructed,
        "statement": c.statement,
        "quantifiers": [{"name": q.name, "over": q.over} for q in c.quantifiers],
        "inputs": c.inputs,
        "depends_on": list(c.depends_on),
        "parts": list(c.parts),
        "figure": c.figure,
        "file": rel if not rel.startswith("..") else c.file,
        "checks": [
            {
                "method": k.method,
                "inputs": k.inputs,
                "controls": list(k.controls),
                "accepts_phi": k.accepts_phi,
                "summary": k.summary,
            }
            for k in c.checks
        ],
        "properties": [{"key": p.key, "summary": p.summary} for p in c.props],
    }


def _card_text(r: dict[str, Any]) -> str:
    lines = [
        f"{r['id']}  ({r['kind']}; bound: {r['bound']})",
        f"  statement:   {r['statement']}",
        f"  source:      {r['provenance']}",
        "  quantifiers: " + "; ".join(f"{q['name']}: {q['over']}" for q in r["quantifiers"]),
        f"  inputs:      {', '.join(r['inputs']) or '-'}",
        f"  depends on:  {', '.join(r['depends_on']) or '-'}",
        f"  file:        {r['file']}",
    ]
    for k in r["checks"]:
        ctl = f"; controls: {', '.join(k['controls'])}" if k["controls"] else ""
        lines.append(f"  method {k['method']}: inputs {', '.join(k['inputs']) or '-'}{ctl}")
    return "\n".join(lines)


def _select_checks(args: argparse.Namespace) -> list[Any]:
    """The checks a ``check`` run asks for (ids, user cards, a control)."""
    from zascheck.engine import checks_for, load_user_cards

    user = load_user_cards(args.cards) if args.cards else []
    checks = checks_for(args.ids or ([c.id for c in user] if user else None))
    seen: dict[str, Any] = {}
    for c in checks:
        seen.setdefault(c.key, c)
    if len(seen) < len(checks):  # an id named twice (or inside a claim also named) runs once
        twice = sorted({c.key for c in checks if sum(k.key == c.key for k in checks) > 1})
        print(
            f"zascheck: note: {', '.join(twice)} named more than once on the command line: "
            "each check runs once",
            file=sys.stderr,
        )
        checks = list(seen.values())
    if args.control:  # run every selected check that has this control
        having = [c for c in checks if args.control in c.controls]
        if not having:
            have = sorted({n for c in checks for n in c.controls})
            raise InputError(
                f"no selected check has a control {args.control!r} "
                f"(controls: {', '.join(have) or 'none'})"
            )
        checks = having
    return checks


def _phi_not_applied(args: argparse.Namespace, checks: list[Any]) -> list[dict[str, Any]]:
    """Where ``--phi`` is not taken: refused (exit 2) when no selected check
    takes it or a check named by ``id:method`` does not; otherwise one entry
    ``{check, input, reason}`` per check it is not applied to (listed in the
    table and the JSON)."""
    from zascheck.engine import card

    if not args.phi:
        return []
    refusing = [c for c in checks if not c.accepts_phi]
    named = {i for i in (args.ids or []) if ":" in i}
    explicit = [c for c in refusing if c.key in named]
    if explicit or len(refusing) == len(checks):
        c = (explicit or refusing)[0]
        takers = [k.key for k in card(c.claim).checks if k.accepts_phi]
        where = (
            f"; of {c.claim}, {', '.join(takers)} {'takes' if len(takers) == 1 else 'take'} it"
            if takers
            else f"; no check of {c.claim} takes a target"
        )
        raise InputError(f"{c.key} does not take a target (--phi){where}")
    return [
        {
            "check": c.key,
            "input": "--phi",
            "reason": "takes no target: it ran on its own",
            "ran": True,
        }
        for c in refusing
    ]


def _resolve_all(
    checks: list[Any],
    ctx: Any,
    case: dict[str, Any] | None,
    control: str | None,
    not_applied: list[dict[str, Any]],
    several: bool,
) -> list[Any]:
    """Validate every check's parameters before any work.  With ``several``
    (a run over several checks with ``--phi``) a check that refuses the input
    is listed in ``not_applied`` and left out; otherwise its refusal is the
    run's (exit 2).  Returns the checks to run."""
    from zascheck.engine import resolve_params

    out = []
    for c in checks:
        try:
            resolve_params(c, ctx, case=case, control=control)
        except InputError as exc:
            if not several:
                raise
            not_applied.append({"check": c.key, "input": "--phi", "reason": str(exc), "ran": False})
            continue
        out.append(c)
    return out


def _run_payloads(
    payloads: list[Any], jobs: int, progress: bool, scheduler: str | None = None
) -> list[dict[str, Any]]:
    """Run every payload through :func:`zascheck.engine.run_payload`, in
    worker processes when ``jobs > 1``, with a progress bar."""
    from tqdm import tqdm

    from zascheck.engine import run_payload
    from zascheck.parallel import imap_processes, sigterm_as_interrupt

    outs: list[dict[str, Any]] = [{} for _ in payloads]
    bar = tqdm(
        total=len(payloads),
        desc="checks",
        unit="check",
        file=sys.stderr,
        leave=False,
        disable=not (progress and len(payloads) > 1) or None,
    )
    try:
        with sigterm_as_interrupt():
            for i, out in imap_processes(run_payload, payloads, jobs, scheduler):
                outs[i] = out
                bar.set_postfix_str(payloads[i][0])
                bar.update()
    finally:
        bar.close()
    return outs


def _summary(results: list[Any], claims: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    ccounts: dict[str, int] = {}
    for c in claims:
        ccounts[c["verdict"]] = ccounts.get(c["verdict"], 0) + 1
    return (
        ", ".join(f"{n} {v}" for v, n in counts.items()) + f" ({len(results)} results); "
        "claims: " + ", ".join(f"{n} {v}" for v, n in ccounts.items()) + f" ({len(claims)} claims)"
    )


def _report_check(
    args: argparse.Namespace,
    started: float,
    outs: list[dict[str, Any]],
    not_applied: list[dict[str, Any]],
) -> tuple[list[Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Print the tables of a ``check`` run and write its JSON; returns the
    results, the crashes, the invalid user-card results and the claim verdicts."""
    from zascheck.engine import claim_verdicts
    from zascheck.io import atomic_write_json
    from zascheck.result import CheckResult

    results = [CheckResult.from_dict(o["result"]) for o in outs if o["ok"]]
    crashes = [o for o in outs if not o["ok"] and "error" in o]
    card_errors = [o for o in outs if "card_error" in o]
    claims = claim_verdicts(results, crashed=[o.get("key", "") for o in crashes + card_errors])
    print(format_table(results, not_applied))
    print("\nClaim-level verdicts (rule: README, 'Verdicts'):\n")
    print(format_claims_table(claims))
    ran = [e["check"] for e in not_applied if e.get("ran")]
    if ran:
        print(f"\n--phi was not applied to (they take no target): {', '.join(ran)}")
    if len(ran) < len(not_applied):
        print(
            f"\n--phi was refused by {len(not_applied) - len(ran)} check(s): rows 'not applied' "
            "above (the JSON lists every one with its reason in meta.inputs_not_applied)"
        )
    for o in crashes:
        print(f"zascheck: check {o['key']} crashed: {o['error']}", file=sys.stderr)
    for o in card_errors:
        print(f"zascheck: error: {o['card_error']}", file=sys.stderr)
    print("\n" + _summary(results, claims))
    if args.json is not None:
        meta = _meta(args, started) | {"inputs_not_applied": not_applied}
        atomic_write_json(
            args.json,
            {
                "results": [o["result"] for o in outs if o["ok"]],
                "claims": claims,
                "errors": [{"check": o["key"], "error": o["error"]} for o in crashes]
                + [
                    {
                        "check": o["key"],
                        "error": o["card_error"],
                        "kind": "invalid user card result",
                    }
                    for o in card_errors
                ],
                "meta": meta,
            },
        )
    return results, crashes, card_errors, claims


def cmd_check(args: argparse.Namespace) -> int:
    from zascheck.engine import RunContext
    from zascheck.io import read_matrix
    from zascheck.spec import check_output_path

    started = time.time()
    if args.json is not None:
        check_output_path(args.json, "--json")
        for flag, given in (("--phi", args.phi), ("--case", args.case), ("--data", args.data)):
            if given and not str(given).lstrip().startswith(("{", "[")) and \
                    Path(str(given).lstrip("@")).resolve() == Path(args.json).resolve():
                raise InputError(f"--json {args.json} is the {flag} input file: it would be overwritten")
    if args.scheduler:
        from zascheck.parallel import parse_scheduler

        parse_scheduler(args.scheduler)
    phi = read_matrix(args.phi) if args.phi else None
    if phi is not None:
        from zascheck.spec import MAX_WIDTH

        if max(phi.shape) > MAX_WIDTH:
            raise InputError(
                f"--phi {args.phi}: a {phi.shape[0]} x {phi.shape[1]} target is beyond "
                f"what the checks can finish (at most {MAX_WIDTH} x {MAX_WIDTH})"
            )
    data = args.data if args.data is not None else os.environ.get("ZASCHECK_DATA") or None
    if data is not None and not Path(data).is_dir():
        flag = "--data" if args.data is not None else "$ZASCHECK_DATA"
        raise InputError(f"{flag} {data}: no such folder")
    case = _parse_case(args.case) if args.case else None
    checks = _select_checks(args)
    if args.control and (args.phi or args.data):
        raise InputError(
            f"--control {args.control} runs the control's own setting (what it breaks "
            "is part of it); drop --phi / --data to run it"
        )
    if case and len(checks) != 1:
        keys = ", ".join(c.key for c in checks[:6])
        raise InputError(f"--case applies to exactly one check; name one of: {keys}")
    not_applied = _phi_not_applied(args, checks)
    if args.data is not None and not any(c.accepts_data for c in checks):
        raise InputError("--data: none of the selected checks reads data (zas.fig4 does)")
    ctx_kw = {
        "budget": args.budget,
        "precision": args.precision,
        "seed": args.seed,
        "phi": phi,
        "time_limit": args.time_limit,
        "data": str(Path(data).resolve()) if data is not None else None,
        # inner progress bars (long searches, sweeps) when they are worth showing
        "progress": not args.no_progress
        and args.jobs == 1
        and (len(checks) == 1 or args.budget != "quick"),
    }
    ctx = RunContext(**ctx_kw)  # validate everything once, before any work
    several = len(checks) > 1 and phi is not None
    checks = _resolve_all(checks, ctx, case, args.control, not_applied, several)
    card_files = [str(Path(p).resolve()) for p in (args.cards or [])]
    payloads = [(c.key, ctx_kw, case, args.control, card_files) for c in checks]
    outs = _run_payloads(payloads, args.jobs, not args.no_progress, args.scheduler)
    for o in outs:  # a check that refuses the user's target once it reads it
        if "input_error" in o:
            if not several:
                raise InputError(o["input_error"])
            not_applied.append(
                {"check": o["key"], "input": "--phi", "reason": o["input_error"], "ran": False}
            )
    results, crashes, card_errors, claims = _report_check(args, started, outs, not_applied)
    if crashes:
        return EXIT_CRASH
    if card_errors:
        return EXIT_INPUT
    if args.control:  # a control run passes when every control is caught (violated)
        failed = any(r.verdict.value != "violated" for r in results)
    else:
        failed = any(c["verdict"] in ("violated", "inconclusive") for c in claims)
    return EXIT_STRICT if args.strict and failed else EXIT_OK


def cmd_derive(args: argparse.Namespace) -> int:
    try:
        from zascheck.report.derivations import write_derivations
    except ImportError as exc:
        raise InputError(f"the symbolic leg is not available: {exc}") from None
    from zascheck.engine import checks_for

    from zascheck.spec import check_output_path

    check_output_path(args.out, "--out")
    if args.ids:
        checks_for(args.ids)  # validates the ids
    out = write_derivations(args.ids or None, Path(args.out))
    print(f"wrote {out}")
    return EXIT_OK


def _report_claims(ids: list[str], cards: list[str]) -> list[str] | None:
    """The claim ids of ``zascheck report ID...`` (None: every claim), checked
    before any work: each a known claim (built in or from ``--cards``), no method
    suffix, duplicates dropped."""
    if not ids:
        return None
    from zascheck import engine

    if cards:
        engine.load_user_cards(cards)
    known = {c.id for c in engine.all_cards()}
    out: list[str] = []
    for i in ids:
        if ":" in i:
            raise InputError(f"report takes claim ids, not methods: {i!r} (try {i.split(':')[0]!r})")
        if i not in known:
            raise InputError(f"unknown claim id {i!r} (zascheck claims lists them)")
        if i not in out:
            out.append(i)
    return out


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from zascheck.report import build_report
    except ImportError as exc:
        raise InputError(f"the report layer is not available: {exc}") from None
    from zascheck.spec import check_output_path

    check_output_path(args.out, "--out", folder=True)
    if args.scheduler:
        from zascheck.parallel import parse_scheduler

        parse_scheduler(args.scheduler)
    claims = _report_claims(args.ids, args.cards or [])
    out = build_report(
        budget=args.budget,
        out=Path(args.out),
        seeds=args.seeds,
        jobs=args.jobs,
        seed=args.seed,
        progress=not args.no_progress,
        cards=args.cards or [],
        scheduler=args.scheduler,
        claims=claims,
    )
    print(f"wrote {out}")
    crashed = json.loads((Path(args.out) / "claims.json").read_text(encoding="utf-8")).get("errors") or []
    if crashed:
        print(f"zascheck: {len(crashed)} check(s) crashed (listed in {out}): "
              + ", ".join(str(e.get("check")) for e in crashed), file=sys.stderr)
        return EXIT_CRASH
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    handlers = {
        "claims": cmd_claims,
        "check": cmd_check,
        "derive": cmd_derive,
        "report": cmd_report,
    }
    try:
        return handlers[args.command](args)
    except ZascheckError as exc:
        print(f"zascheck: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("zascheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPT


if __name__ == "__main__":
    sys.exit(main())
