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
from typing import Any

from zascheck import __version__
from zascheck.errors import InputError, ZascheckError

EXIT_OK, EXIT_STRICT, EXIT_INPUT, EXIT_CRASH, EXIT_INTERRUPT = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our input-error code and a one-line message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"zascheck: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def _precision(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"precision must be an integer number of bits, got {s!r}"
        ) from None
    if v < 53:
        raise argparse.ArgumentTypeError(f"precision {v} bits is too low: at least 53 is required")
    return v


def _parse_case(text: str) -> dict[str, Any]:
    src = text
    if text.startswith("@"):
        p = Path(text[1:])
        try:
            src = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read --case file {p}: {exc.strerror}") from None
    try:
        obj = json.loads(src)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--case is not valid JSON: {exc.msg} (line {exc.lineno} col {exc.colno})"
        ) from None
    if not isinstance(obj, dict):
        raise InputError("--case must be a JSON object of parameter overrides")
    return obj


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
    c.add_argument("-v", "--verbose", action="store_true",
                   help="every card in full: statement, quantifiers, inputs, methods, file")
    c.add_argument("--cards", metavar="FILE", action="append",
                   help="also load the claim cards in FILE (repeatable)")

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
    k.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    k.add_argument(
        "--phi", metavar="FILE", help="target matrix (.npy, .csv or .json) for checks that take one"
    )
    k.add_argument("--json", metavar="FILE", help="write the results as JSON (atomically)")
    k.add_argument(
        "--data",
        metavar="DIR",
        default=os.environ.get("ZASCHECK_DATA") or None,
        help="folder of data files for the checks that read real data (zas.fig4: the "
        "Fashion-MNIST train-*-idx*-ubyte[.gz] files); default $ZASCHECK_DATA, else the "
        "data an installed package ships",
    )
    k.add_argument(
        "--case", metavar="JSON", help="parameter overrides as JSON (or @file): reproduce one case"
    )
    k.add_argument("--control", metavar="NAME", help="run the named negative control instead")
    k.add_argument("--jobs", type=_positive_int, default=1, help="parallel worker processes")
    k.add_argument(
        "--strict", action="store_true", help="exit 1 if any verdict is violated or inconclusive"
    )
    k.add_argument("--no-progress", action="store_true", help="no progress bar")
    k.add_argument("--cards", metavar="FILE", action="append",
                   help="load the claim cards in FILE (repeatable); with no ID, run only them")

    d = sub.add_parser("derive", help="write the symbolic derivations document")
    d.add_argument("ids", nargs="*", metavar="ID")
    d.add_argument("--out", default="reports/derivations.md", help="output file")

    r = sub.add_parser("report", help="write the bound-check report (Markdown, JSON, figures)")
    r.add_argument("--budget", choices=["quick", "standard", "full"], default="standard")
    r.add_argument("--out", default="reports", help="output folder (default reports/)")
    r.add_argument(
        "--seeds", type=_positive_int, default=50, help="seeds for the multi-seed figures"
    )
    r.add_argument(
        "--jobs", type=_positive_int, default=None, help="worker processes (default: all cores)"
    )
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--cards", metavar="FILE", action="append",
                   help="also check the claim cards in FILE (repeatable)")
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


def format_table(results: list[Any]) -> str:
    """A fixed-width table of results (the CLI's only rendering of them)."""
    from zascheck.result import format_number

    from zascheck.result import scope_text

    rows = [
        ("claim", "method", "verdict", "measured", "rel", "bound", "margin", "arith", "bits", "s",
         "scope")
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
                    scope_text(x.scope),
                )
            )
    return _fixed_width(rows)


def format_claims_table(claims: list[dict[str, Any]]) -> str:
    """The claim-level table: one verdict per claim by the README's rule, with its scope."""
    rows = [("claim", "verdict", "scope", "from")]
    for c in claims:
        rows.append((c["claim"], c["verdict"], c["scope_text"] or "-", ", ".join(c["methods"])))
    return _fixed_width(rows)


def _fixed_width(rows: list[tuple[str, ...]]) -> str:
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

    if args.cards:
        engine.load_user_cards(args.cards)
    cards = engine.all_cards()
    if args.ids:
        cards = [engine.card(i.partition(":")[0]) for i in args.ids]
    data = [card_record(c) for c in cards]
    if args.json:
        atomic_write_json(args.json, {"claims": data})
    if args.verbose or args.ids:
        print("\n\n".join(_card_text(r) for r in data))
        return EXIT_OK
    rows = [("id", "sec", "kind", "bound", "checks", "source")]
    for r in data:
        methods = ",".join(k["method"] for k in r["checks"]) or "(none yet)"
        rows.append((r["id"], r["section"], r["kind"], r["bound"], methods, r["provenance"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5])
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
            {"method": k.method, "inputs": k.inputs, "controls": list(k.controls),
             "accepts_phi": k.accepts_phi, "summary": k.summary}
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


def cmd_check(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from zascheck.io import atomic_write_json, read_matrix
    from zascheck.engine import (
        RunContext,
        checks_for,
        claim_verdicts,
        load_user_cards,
        run_payload,
    )
    from zascheck.result import CheckResult

    started = time.time()
    phi = read_matrix(args.phi) if args.phi else None
    if args.data is not None and not Path(args.data).is_dir():
        raise InputError(f"--data {args.data}: no such folder")
    case = _parse_case(args.case) if args.case else None
    if args.json:
        jp = Path(args.json)
        if jp.exists() and jp.is_dir():
            raise InputError(f"--json {jp} is a directory")
        if not jp.parent.exists():
            raise InputError(f"--json: folder {jp.parent} does not exist")
    user = load_user_cards(args.cards) if args.cards else []
    ids = args.ids or ([c.id for c in user] if user else None)
    checks = checks_for(ids)
    if args.control:  # run every selected check that has this control
        having = [c for c in checks if args.control in c.controls]
        if not having:
            have = sorted({n for c in checks for n in c.controls})
            raise InputError(
                f"no selected check has a control {args.control!r} "
                f"(controls: {', '.join(have) or 'none'})"
            )
        checks = having
    if case and len(checks) != 1:
        keys = ", ".join(c.key for c in checks[:6])
        raise InputError(f"--case applies to exactly one check; name one of: {keys}")
    ctx_kw = {
        "budget": args.budget,
        "precision": args.precision,
        "seed": args.seed,
        "phi": phi,
        "data": str(Path(args.data).resolve()) if args.data is not None else None,
        # inner progress bars (long searches, sweeps) when they are worth showing
        "progress": not args.no_progress
        and args.jobs == 1
        and (len(checks) == 1 or args.budget != "quick"),
    }
    RunContext(**ctx_kw)  # validate once, before any work
    card_files = [str(Path(p).resolve()) for p in (args.cards or [])]
    payloads = [(c.key, ctx_kw, case, args.control, card_files) for c in checks]
    outs: list[dict[str, Any]] = []
    show = not args.no_progress and len(payloads) > 1
    bar = tqdm(
        total=len(payloads),
        desc="checks",
        unit="check",
        disable=not show or None,
        file=sys.stderr,
        leave=False,
    )
    try:
        if args.jobs > 1 and len(payloads) > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                for out in pool.map(run_payload, payloads):
                    outs.append(out)
                    bar.update()
        else:
            for p in payloads:
                bar.set_postfix_str(p[0])
                outs.append(run_payload(p))
                bar.update()
    finally:
        bar.close()
    input_errors = [o for o in outs if "input_error" in o]
    if input_errors:
        raise InputError(input_errors[0]["input_error"])
    results = [CheckResult.from_dict(o["result"]) for o in outs if o["ok"]]
    crashes = [o for o in outs if not o["ok"]]
    claims = claim_verdicts(results)
    print(format_table(results))
    print("\nClaim-level verdicts (rule: README, 'Verdicts'):\n")
    print(format_claims_table(claims))
    for o in crashes:
        print(f"zascheck: check {o['key']} crashed: {o['error']}", file=sys.stderr)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    ccounts: dict[str, int] = {}
    for c in claims:
        ccounts[c["verdict"]] = ccounts.get(c["verdict"], 0) + 1
    print("\n" + ", ".join(f"{n} {v}" for v, n in counts.items()) + f" ({len(results)} results); "
          "claims: " + ", ".join(f"{n} {v}" for v, n in ccounts.items()) + f" ({len(claims)} claims)")
    if args.json:
        doc = {
            "results": [o["result"] for o in outs if o["ok"]],
            "claims": claims,
            "errors": [{"check": o["key"], "error": o["error"]} for o in crashes],
            "meta": _meta(args, started),
        }
        atomic_write_json(args.json, doc)
    if crashes:
        return EXIT_CRASH
    bad = ("violated", "inconclusive")
    # a control run has no claim-level verdict: strict judges its results
    judged = [r.verdict.value for r in results] if args.control else [c["verdict"] for c in claims]
    if args.strict and any(v in bad for v in judged):
        return EXIT_STRICT
    return EXIT_OK


def cmd_derive(args: argparse.Namespace) -> int:
    try:
        from zascheck.report.derivations import write_derivations
    except ImportError as exc:
        raise InputError(f"the symbolic leg is not available: {exc}") from None
    from zascheck.engine import checks_for

    if args.ids:
        checks_for(args.ids)  # validates the ids
    out = write_derivations(args.ids or None, Path(args.out))
    print(f"wrote {out}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from zascheck.report import build_report
    except ImportError as exc:
        raise InputError(f"the report layer is not available: {exc}") from None
    out = build_report(
        budget=args.budget,
        out=Path(args.out),
        seeds=args.seeds,
        jobs=args.jobs,
        seed=args.seed,
        progress=not args.no_progress,
        cards=args.cards or [],
    )
    print(f"wrote {out}")
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
