"""Wall time of one report on the local process pool and on a Dask LocalCluster, back to back.

    python benchmarks/report_schedulers.py                      # the default report (standard)
    python benchmarks/report_schedulers.py --budget quick
    python benchmarks/report_schedulers.py zas.fig2 zas.drift   # a report of some claims only

Runs ``zascheck report`` twice from an empty output folder (no cache), first
on the local pool (``--jobs N``), then on ``--scheduler local:N`` (a
``dask.distributed`` LocalCluster of ``N`` single-threaded workers started by
the report), and prints both wall times, their ratio, and whether the two
``claims.json`` hold the same numbers (fields that record time or place
excepted: issue 14).  Both runs use the same machine, budget, seeds and seed;
other load on the machine adds to both, so run it on a quiet machine.
Exit code 1 if the numbers differ or a report failed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: fields of claims.json that record time or place, not numbers
PLACE = {"seconds", "_seconds", "search_seconds", "started", "jobs", "scheduler", "cache_hits", "out",
         "command", "machine"}


#: durations written into prose ("slowest 0.046 s")
_DURATION = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)? ?s\b")


def numbers(v: Any) -> Any:
    """``v`` without the fields that record time or place: the keys in
    :data:`PLACE`, any key naming seconds (``*second*``, ``*_s``), Figure 2's
    ``full_check`` (which points the full model re-runs is chosen by a wall-time
    budget), prose (``notes``, ``caption``: it quotes those counts and, for the
    tight-step figure, whether ``--out`` holds the committed full table), and
    durations inside other text."""
    if isinstance(v, dict):
        return {k: numbers(x) for k, x in v.items()
                if k not in PLACE and "second" not in k and not k.endswith("_s")
                and k not in ("full_check", "notes", "caption")}
    if isinstance(v, list):
        return [numbers(x) for x in v]
    if isinstance(v, str):
        return _DURATION.sub("<duration>", v)
    return v


def report(out: Path, args: argparse.Namespace, extra: list[str]) -> float:
    """Wall seconds of one ``zascheck report`` into ``out``."""
    cmd = [sys.executable, "-m", "zascheck", "report", *args.ids, "--budget", args.budget,
           "--seeds", str(args.seeds), "--seed", "0", "--out", str(out), "--no-progress", *extra]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ids", nargs="*", help="claim ids (default: every claim)")
    p.add_argument("--budget", default="standard", choices=["quick", "standard", "full"])
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--workers", type=int, default=2, help="pool processes = LocalCluster workers")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="zascheck-bench-") as tmp:
        local, dask = Path(tmp) / "local", Path(tmp) / "dask"
        t_local = report(local, args, ["--jobs", str(args.workers)])
        t_dask = report(dask, args, ["--scheduler", f"local:{args.workers}"])
        same = numbers(json.loads((local / "claims.json").read_text())) == numbers(
            json.loads((dask / "claims.json").read_text()))
    what = f"zascheck report {' '.join(args.ids) + ' ' if args.ids else ''}--budget {args.budget}"
    print(f"{what} --seeds {args.seeds}, {args.workers} workers, back to back, no cache:")
    rows = [(f"local pool (--jobs {args.workers})", f"{t_local:.1f} s"),
            (f"Dask LocalCluster (--scheduler local:{args.workers})", f"{t_dask:.1f} s"),
            ("ratio Dask / local pool", f"{t_dask / t_local:.2f}"),
            ("same numbers in claims.json", str(same))]
    for k, v in rows:
        print(f"  {k:<44} {v:>10}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
