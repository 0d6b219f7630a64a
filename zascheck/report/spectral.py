"""The report's spectral content: the tight-step table and figure, the class-certificate table.

* ``zas.thm4.3.tight``: the table ``(L, F, eta_lo, eta_hi, digits, every_step,
  eta*, eta_lo / eta*)`` and a log-log figure of the certified bracket and
  Theorem 4.3's ``eta*`` against ``L`` with the fitted growth law
  ``eta_tight ~ C L^-gamma``.  The full table (``L = 1..64``) takes about an
  hour; it is generated once, by the command :data:`TIGHT_COMMAND`, into
  ``reports/spectral/tight-full.json`` (committed; rows are appended as they
  finish, so the command resumes), and every report draws it when present.
  Without it the report draws the rows of the ``zas.thm4.3.tight`` check it
  ran (a few depths).
* ``zas.thm4.3``: the table of the ``class-certificate`` check (per ``(L, F)``:
  certified or not, seconds, boxes, smallest certified rate).

Reads :class:`~zascheck.result.CheckResult` objects and the JSON table only.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from zascheck.io import atomic_write_json
from zascheck.result import jsonable

__all__ = [
    "TIGHT_COMMAND",
    "TIGHT_FILE",
    "class_table_markdown",
    "coarse_first",
    "draw",
    "generate_tight_table",
    "main",
    "markdown_section",
    "tight_plot",
    "tight_rows",
    "tight_table_markdown",
]

#: where the full tight-step table lives, relative to the report folder
TIGHT_FILE = Path("spectral") / "tight-full.json"
#: the command that (re)generates it (the README prints it)
TIGHT_COMMAND = (
    "python -m zascheck.report.spectral --out reports/spectral/tight-full.json "
    "--F 1 --depths 1-64 --time-limit 240 --stretch-limit 60"
)


def coarse_first(depths: list[int]) -> list[int]:
    """``depths`` reordered so that an interrupted run still spans the range:
    powers of two first, then 3 x powers of two, then the rest ascending.

    >>> coarse_first(list(range(1, 9)))
    [1, 2, 4, 8, 3, 6, 5, 7]
    """
    pow2 = [L for L in depths if L & (L - 1) == 0]
    three = [L for L in depths if L % 3 == 0 and (L // 3) & (L // 3 - 1) == 0 and L not in pow2]
    rest = [L for L in depths if L not in pow2 and L not in three]
    return pow2 + three + rest


def generate_tight_table(
    out: Path,
    depths: list[int],
    F: float,
    *,
    time_limit: float,
    stretch_limit: float,
    rel: float = 2.5e-4,
) -> dict[str, Any]:
    """Compute the tight-step rows (:func:`~zascheck.measure.certify_tight.tight_row`)
    for ``depths`` at radius ``F`` into the JSON file ``out``, one row at a time
    (resumes: depths already certified in the file are skipped, others are
    recomputed); returns the table."""
    from zascheck.measure.certify_tight import tight_row

    table: dict[str, Any] = {"rows": []}
    if out.exists():
        table = json.loads(out.read_text())
    done = {(r["L"], r["F"]) for r in table["rows"] if r["verdict"] == "certified"}
    table["command"] = TIGHT_COMMAND
    table["params"] = {"F": F, "time_limit": time_limit, "stretch_limit": stretch_limit, "rel": rel}
    for L in coarse_first(depths):
        if (L, F) in done:
            continue
        t0 = time.time()
        row = tight_row(L, F, rel, time_limit, stretch_limit)
        row["wall_seconds"] = round(time.time() - t0, 1)
        # the budgets of this row's run (the table's "params" are those of the last run)
        row["params"] = {"time_limit": time_limit, "stretch_limit": stretch_limit, "rel": rel}
        keep = [r for r in table["rows"] if (r["L"], r["F"]) != (L, F)]
        table["rows"] = sorted([*keep, row], key=lambda r: (r["F"], r["L"]))
        atomic_write_json(out, jsonable(table))
    return table


def tight_rows(
    out: Path | None, by_claim: dict[tuple[str, str], Any]
) -> tuple[list[dict[str, Any]], str]:
    """The tight-step rows the report shows and where they come from: the committed
    full table ``<out>/spectral/tight-full.json`` when present, else the rows of
    the ``zas.thm4.3.tight`` check this report ran (``([], "")`` if neither)."""
    full = None if out is None else out / TIGHT_FILE
    if full is not None and full.exists():
        table = json.loads(full.read_text())
        return table[
            "rows"
        ], f"the committed full table `{TIGHT_FILE.as_posix()}` (`{TIGHT_COMMAND}`)"
    chk = by_claim.get(("zas.thm4.3.tight", "bracket"))
    if chk is None or "table" not in chk.evidence:
        return [], ""
    return list(chk.evidence["table"]), "the zas.thm4.3.tight check of this report (a few depths)"


def tight_plot(folder: Path, rows: list[dict[str, Any]], law: dict[str, Any]) -> list[str]:
    """Log-log figure: the certified bracket ``[eta_lo, eta_hi]`` and Theorem 4.3's
    ``eta*`` against ``L``, per radius ``F``, with the fitted ``C L^-gamma``;
    writes ``tight-step.png`` / ``.svg`` into ``folder``."""
    import matplotlib.pyplot as plt
    import numpy as np

    from zascheck.measure.certify_thm43 import eta_star_upper
    from zascheck.report.plots import _save

    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    cmap = plt.get_cmap("tab10")
    for i, F in enumerate(sorted({r["F"] for r in rows})):
        col = cmap(i)
        rs = [r for r in rows if r["F"] == F and r["eta_lo"] and r["eta_hi"]]
        Ls = np.array([r["L"] for r in rs], dtype=float)
        lo = np.array([r["eta_lo"] for r in rs])
        hi = np.array([r["eta_hi"] for r in rs])
        ax.errorbar(
            Ls,
            lo,
            yerr=[np.zeros_like(lo), hi - lo],
            fmt="o",
            ms=3.5,
            color=col,
            capsize=2,
            label=f"certified bracket [eta_lo, eta_hi], F = {F:g}",
        )
        grid = np.arange(1, max(64, int(Ls.max()) if Ls.size else 1) + 1)
        star = [float(eta_star_upper(int(L), np.array([F]))[0]) for L in grid]
        ax.loglog(grid, star, "--", color=col, lw=1.2, label=f"Theorem 4.3's eta*, F = {F:g}")
        fit = law.get(str(F))
        if fit:
            xs = np.array([min(fit["depths"]), max(fit["depths"])], dtype=float)
            ax.loglog(
                xs,
                fit["C"] * xs ** -fit["gamma"],
                ":",
                color="k",
                lw=1.4,
                label=f"fit {fit['C']:.3g} L^-{fit['gamma']:.3f} (L >= {min(fit['depths'])})",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("depth L (log scale)")
    ax.set_ylabel("step size eta (log scale)")
    ax.set_title(
        "Theorem 4.3: the tight step (every Phi with ||Phi||_F <= F, every t)\n"
        "against the theorem's step eta*"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left", fontsize=7)
    return _save(fig, folder, "tight-step")


def draw(folder: Path, by_claim: dict[tuple[str, str], Any], record: Any) -> None:
    """The report's tight-step figure (``record``-ed with caption and data), when
    there are rows (:func:`tight_rows`; the report folder is ``folder.parent``)."""
    from zascheck.measure.certify_tight import growth_law

    rows, source = tight_rows(folder.parent, by_claim)
    if not [r for r in rows if r.get("eta_lo") and r.get("eta_hi")]:
        return
    law = growth_law(rows)
    files = tight_plot(folder, rows, law)
    fits = (
        "; ".join(
            f"F = {F}: eta_tight ~ {f['C']:.3g} L^-{f['gamma']:.3f} (L in {min(f['depths'])}..{max(f['depths'])}; "
            f"gamma from the lower / mid / upper ends {', '.join(f'{g:.3f}' for g in f['gamma_lo_hi'])})"
            for F, f in law.items()
        )
        or "too few depths for a fit"
    )
    ratios = [r["ratio_to_eta_star"] for r in rows if r.get("ratio_to_eta_star")]
    record(
        "tight-step",
        files,
        f"The tight step of Theorem 4.3's conclusion: certified brackets [eta_lo, eta_hi] (every Phi with "
        f"||Phi||_F <= F and every t are safe at eta_lo; a rank-one counterexample at eta_hi) against the "
        f"theorem's eta*, from {source}. Growth law: {fits}. eta_lo / eta* ranges from "
        f"{min(ratios):.3g} to {max(ratios):.3g}: Theorem 4.3's step is that conservative.",
        {"rows": rows, "growth_law": law, "source": source},
    )


def tight_table_markdown(rows: list[dict[str, Any]], source: str) -> list[str]:
    """The tight-step table (Markdown lines)."""
    out = [
        f"Source: {source}. `every step` = every step in (0, eta_lo] certified, not only eta_lo.\n",
        "| L | F | eta_lo | eta_hi | digits | every step | eta* | eta_lo / eta* | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r.get("ratio_to_eta_star")
        out.append(
            f"| {r['L']} | {r['F']:g} | {_g(r['eta_lo'])} | {_g(r['eta_hi'])} | {r['digits']} | "
            f"{'yes' if r['every_step'] else 'no'} | {r['eta_star']:.4g} | "
            f"{'-' if ratio is None else f'{ratio:.4g}'} | {r['seconds']:.0f} |"
        )
    return out


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def class_table_markdown(res: Any) -> list[str]:
    """The class-certificate table of ``zas.thm4.3`` (rows L, columns F): ``yes``
    with seconds, or ``no`` (with the counterexample's kind when one is certified)."""
    cases = res.evidence.get("cases", [])
    radii = sorted({c["F"] for c in cases})
    cell = {(c["L"], c["F"]): c for c in cases}
    out = [
        f"`zas.thm4.3:class-certificate` ({res.verdict.value}): every Phi with ||Phi||_F <= F (every d), "
        "every t, the theorem's step and every smaller one. Cell: certified, seconds, smallest "
        "certified rate c (R(t+1) <= (1 - c eta) R(t)).\n",
        "| L | " + " | ".join(f"F = {F:g}" for F in radii) + " |",
        "|---|" + "---|" * len(radii),
    ]
    for L in sorted({c["L"] for c in cases}):
        cells = []
        for F in radii:
            c = cell.get((L, F))
            if c is None:
                cells.append("-")
            elif c["certified"]:
                cells.append(f"yes, {c['seconds']:.2f} s, c >= {c['min_rate']:.3g}")
            else:
                cx = c.get("counterexample")
                cells.append("no" + (f" (counterexample: {cx['kind']})" if cx else ", undecided"))
        out.append(f"| {L} | " + " | ".join(cells) + " |")
    return out


def markdown_section(results: list[Any], out: Path | None) -> list[str]:
    """The report's section "Theorem 4.3 for whole classes of targets" (Markdown lines)."""
    by_claim = {(r.claim, r.method): r for r in results}
    lines: list[str] = []
    cls = by_claim.get(("zas.thm4.3", "class-certificate"))
    rows, source = tight_rows(out, by_claim)
    if cls is None and not rows:
        return lines
    lines.append("\n## Theorem 4.3 for whole classes of targets\n")
    if cls is not None:
        lines += class_table_markdown(cls)
    if rows:
        lines.append("\n### The tight step (zas.thm4.3.tight)\n")
        lines.append(
            f"The full table is generated once by `{TIGHT_COMMAND}` (rows are appended as they "
            "finish, so it resumes; `--budget full` runs the same rows as the check's `thorough` "
            "budget); figure: `tight-step` above.\n"
        )
        lines += tight_table_markdown(rows, source)
    return lines


def _depths(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m zascheck.report.spectral``: generate the full tight-step table
    (and its figure ``tight-step.png`` / ``.svg`` beside it)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("reports") / TIGHT_FILE)
    ap.add_argument("--F", type=float, default=1.0)
    ap.add_argument("--depths", default="1-64")
    ap.add_argument("--time-limit", type=float, default=240.0)
    ap.add_argument("--stretch-limit", type=float, default=60.0)
    a = ap.parse_args(argv)
    table = generate_tight_table(
        a.out, _depths(a.depths), a.F, time_limit=a.time_limit, stretch_limit=a.stretch_limit
    )
    n = sum(r["verdict"] == "certified" for r in table["rows"])
    print(f"{len(table['rows'])} rows ({n} certified) in {a.out}")
    if n:
        from zascheck.measure.certify_tight import growth_law

        files = tight_plot(a.out.parent, table["rows"], growth_law(table["rows"]))
        print("figure:", ", ".join(str(a.out.parent / Path(f).name) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
