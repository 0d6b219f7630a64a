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
import math
import time
from pathlib import Path
from typing import Any

from zascheck.io import atomic_write_json

__all__ = ["TIGHT_COMMAND", "TIGHT_FILE", "coarse_first", "generate_tight_table", "main"]

#: where the full tight-step table lives, relative to the report folder
TIGHT_FILE = Path("spectral") / "tight-full.json"
#: the command that (re)generates it (the README prints it)
TIGHT_COMMAND = (
    "python -m zascheck.report.spectral --out reports/spectral/tight-full.json "
    "--F 1 --depths 1-64 --time-limit 90 --stretch-limit 60"
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
    (resumes: depths already in the file are skipped); returns the table."""
    from zascheck.measure.certify_tight import tight_row

    table: dict[str, Any] = {"rows": []}
    if out.exists():
        table = json.loads(out.read_text())
    done = {(r["L"], r["F"]) for r in table["rows"]}
    table["command"] = TIGHT_COMMAND
    table["params"] = {"F": F, "time_limit": time_limit, "stretch_limit": stretch_limit, "rel": rel}
    for L in coarse_first(depths):
        if (L, F) in done:
            continue
        t0 = time.time()
        row = tight_row(L, F, rel, time_limit, stretch_limit)
        row["wall_seconds"] = round(time.time() - t0, 1)
        table["rows"] = sorted([*table["rows"], row], key=lambda r: (r["F"], r["L"]))
        atomic_write_json(out, table)
    return table


def _depths(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m zascheck.report.spectral``: generate the full tight-step table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("reports") / TIGHT_FILE)
    ap.add_argument("--F", type=float, default=1.0)
    ap.add_argument("--depths", default="1-64")
    ap.add_argument("--time-limit", type=float, default=90.0)
    ap.add_argument("--stretch-limit", type=float, default=60.0)
    a = ap.parse_args(argv)
    table = generate_tight_table(
        a.out, _depths(a.depths), a.F, time_limit=a.time_limit, stretch_limit=a.stretch_limit
    )
    n = sum(r["verdict"] == "certified" for r in table["rows"])
    print(f"{len(table['rows'])} rows ({n} certified) in {a.out}")
    return 0 if math.isfinite(n) else 1


if __name__ == "__main__":
    raise SystemExit(main())
