"""The spectral reduction's speed, and the certificates' tables, in one script.

    python benchmarks/spectral.py                 # speed: reduced vs full GD step (d = 100, L = 1000)
    python benchmarks/spectral.py class           # Thm 4.3 class certificates, L = 1..64, F in {0.5, 1, 2, 5}
    python benchmarks/spectral.py tight --F 1     # tight-step brackets, L = 1..64 (resumable)
    python benchmarks/spectral.py stretch --L 2 4 # every smaller step too, for saved rows
    python benchmarks/spectral.py plot            # the tight-step figure from the saved table

``speed`` prints the time of one GD step of the full float64 model
(``model.loss_and_grads`` + ``model.gd_update``: 3(L - 1) products of
100 x 100 matrices) against one step of the reduced engine
(:func:`zascheck.measure.spectral.reduced_gd`: O(d) numpy operations after one
SVD), at ``d = 100``, ``L = 1000``, best of several repeats, and checks that
the two losses agree after a few steps.  ``class`` and ``tight`` write JSON
tables under ``reports/spectral/`` (``tight`` appends one row per (L, F) as it
goes and skips rows already there); ``plot`` draws ``tight_steps.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import best_time

from zascheck import inits, model
from zascheck.arith import backend
from zascheck.bounds import thm43_eta
from zascheck.measure import spectral
from zascheck.model import Target

OUT = Path(__file__).resolve().parent.parent / "reports" / "spectral"


def speed(d: int = 100, L: int = 1000) -> dict[str, Any]:
    """Seconds per GD step, full float64 model vs the reduced engine, and the loss gap."""
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((d, d))
    b = backend("float64")
    target = Target.whitened(b, phi)
    eta = 1e-6
    ws = [b.matrix(w) for w in inits.zas(L, d)]

    def full() -> None:
        _r, g = model.loss_and_grads(b, ws, target)
        model.gd_update(b, ws, g, eta)

    t_svd0 = time.perf_counter()
    _u, sig, _v = spectral.aligned_svd(phi)
    t_svd = time.perf_counter() - t_svd0
    init = spectral.mode_init("zas", L)
    state = spectral.mode_start(sig, init)

    def reduced() -> None:
        spectral.mode_step(*state, sig, eta, init.p, init.q)

    t_full = best_time(full, repeats=3, min_seconds=0.5)
    t_red = best_time(reduced, repeats=5, min_seconds=0.1)
    steps = 5
    wsf = [b.matrix(w) for w in inits.zas(L, d)]
    for _ in range(steps):
        _r, g = model.loss_and_grads(b, wsf, target)
        wsf = model.gd_update(b, wsf, g, eta)
    r_full = float(model.loss(b, wsf, target))
    r_red = spectral.reduced_gd(sig, init, eta, steps).losses[-1]
    return {
        "d": d,
        "L": L,
        "full_step_s": t_full,
        "reduced_step_s": t_red,
        "speedup": t_full / t_red,
        "svd_s": t_svd,
        "loss_full": r_full,
        "loss_reduced": r_red,
        "rel_gap": abs(r_full - r_red) / r_full,
    }


def class_table(depths: list[int], radii: list[float]) -> list[dict[str, Any]]:
    from zascheck.measure.certify_thm43 import certify_per_step

    rows = []
    for L in depths:
        for F in radii:
            c = certify_per_step(L, F)
            rows.append(
                {
                    "L": L,
                    "F": F,
                    "certified": c.certified,
                    "seconds": c.seconds,
                    "boxes": c.boxes,
                    "min_rate": c.min_rate,
                    "eta_max": c.eta_max,
                }
            )
            print(
                f"L={L:3d} F={F:4g}: certified={c.certified} in {c.seconds:.2f} s, "
                f"{c.boxes} boxes, rate c >= {c.min_rate:.4f}",
                flush=True,
            )
    return rows


def tight_rows(depths: list[int], radii: list[float], path: Path, limit: float) -> None:
    from zascheck.measure.certify_tight import tight_bracket

    rows = json.loads(path.read_text()) if path.exists() else []
    have = {(r["L"], r["F"]) for r in rows}
    for F in radii:
        for L in depths:
            if (L, F) in have:
                continue
            br = tight_bracket(L, F, time_limit=limit)
            eta_star = float(thm43_eta(backend("float64"), F, L))
            row = {
                "L": L,
                "F": F,
                "eta_lo": br.eta_lo,
                "eta_hi": br.eta_hi,
                "estimate": br.estimate,
                "digits": br.digits,
                "seconds": br.seconds,
                "eta_region": br.lower.eta_region if br.lower else None,
                "violation": br.upper,
                "eta_star": eta_star,
                "ratio_to_eta_star": (br.eta_lo / eta_star) if br.eta_lo else None,
            }
            rows.append(row)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(rows, indent=1))
            print(
                f"L={L:3d} F={F:4g}: [{br.eta_lo}, {br.eta_hi}] ({br.digits} digits) "
                f"in {br.seconds:.1f} s; eta* = {eta_star:.3g}",
                flush=True,
            )


def stretch_rows(path: Path, depths: list[int], limit: float) -> None:
    """Certify every step in ``[eta_region, eta_lo]`` for the saved rows (``every_step``)."""
    from zascheck.measure.certify_tight import stretch

    rows = json.loads(path.read_text())
    for r in rows:
        if r["L"] not in depths or "every_step" in r or not r["eta_lo"]:
            continue
        if r["L"] == 1:
            r["every_step"], r["stretch_seconds"] = True, 0.0
        else:
            tr = stretch(r["L"], r["F"], r["eta_region"], r["eta_lo"], time_limit=limit)
            r["every_step"], r["stretch_seconds"] = tr.certified, tr.seconds
            r["stretch_boxes"] = tr.boxes
        path.write_text(json.dumps(rows, indent=1))
        print(
            f"L={r['L']:3d} F={r['F']:4g}: every step in (0, {r['eta_lo']:.6g}]: "
            f"{r['every_step']} ({r['stretch_seconds']:.1f} s)",
            flush=True,
        )


def plot(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = json.loads(path.read_text())
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for F in sorted({r["F"] for r in rows}):
        rs = sorted((r for r in rows if r["F"] == F and r["eta_lo"]), key=lambda r: r["L"])
        Ls = [r["L"] for r in rs]
        ax.loglog(Ls, [r["eta_lo"] for r in rs], "o-", ms=3, label=f"tight eta, F = {F:g}")
        ax.loglog(Ls, [r["eta_star"] for r in rs], "--", lw=1, label=f"Thm 4.3 eta*, F = {F:g}")
    ax.set_xlabel("depth L")
    ax.set_ylabel("step size eta")
    ax.set_title("Largest step keeping R(t) <= (1 - eta/2)^t R(0), every ||Phi||_F <= F")
    ax.legend(fontsize=7)
    out = path.with_suffix(".png")
    fig.savefig(out, dpi=120, bbox_inches="tight")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "what", nargs="?", default="speed", choices=("speed", "class", "tight", "stretch", "plot")
    )
    p.add_argument("--F", type=float, nargs="*", default=None, help="radii ||Phi||_F <= F")
    p.add_argument("--L", type=int, nargs="*", default=None, help="depths")
    p.add_argument("--limit", type=float, default=120.0, help="seconds per tight bracket")
    args = p.parse_args(argv)
    depths = args.L or list(range(1, 65))
    if args.what == "speed":
        r = speed()
        print(
            f"d = {r['d']}, L = {r['L']}: full float64 GD step {r['full_step_s'] * 1e3:.1f} ms, "
            f"reduced step {r['reduced_step_s'] * 1e6:.1f} us (x{r['speedup']:.0f}); "
            f"one SVD {r['svd_s'] * 1e3:.1f} ms; losses after 5 steps agree to "
            f"{r['rel_gap']:.1e} (relative)"
        )
    elif args.what == "class":
        rows = class_table(depths, args.F or [0.5, 1.0, 2.0, 5.0])
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "class_certificates.json").write_text(json.dumps(rows, indent=1))
    elif args.what == "tight":
        tight_rows(depths, args.F or [1.0], OUT / "tight_steps.json", args.limit)
    elif args.what == "stretch":
        stretch_rows(OUT / "tight_steps.json", depths, args.limit)
    else:
        print(plot(OUT / "tight_steps.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
