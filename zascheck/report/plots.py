"""The report's figures (matplotlib, Agg).  Each function takes the numbers a
figure shows (already computed) and writes ``<name>.png`` and ``<name>.svg``
atomically; each figure has a title, labelled axes with units, and a legend."""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from zascheck.io import atomic_write_bytes

plt.rcParams.update({"svg.hashsalt": "zascheck", "figure.dpi": 110, "font.size": 9,
                     "axes.titlesize": 10, "legend.fontsize": 8})

__all__ = ["drift", "fig1", "fig2", "fig3", "thm41", "thm43"]


def _save(fig: Any, folder: Path, name: str) -> list[str]:
    out = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        meta = {"Software": None} if ext == "png" else {"Date": None}
        fig.savefig(buf, format=ext, bbox_inches="tight", metadata=meta)
        atomic_write_bytes(folder / f"{name}.{ext}", buf.getvalue())
        out.append(f"figures/{name}.{ext}")
    plt.close(fig)
    return out


def thm41(folder: Path, curves: list[dict[str, Any]], check_points: dict[str, Any] | None, d: int) -> list[str]:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    t = np.linspace(0, max(curves[0]["times"]), 200)
    ax.semilogy(t, np.exp(-2 * t), "k--", lw=2, label=r"bound $e^{-2t}$")
    cmap = plt.get_cmap("viridis")
    for i, c in enumerate(curves):
        ax.semilogy(c["times"], c["ratio"], color=cmap(i / max(1, len(curves) - 1)), lw=1.4,
                    label=f"L = {c['L']}" + (" (tight)" if c["L"] == 1 else ""))
    if check_points:
        first = True
        for _L, ev in check_points.items():
            ax.semilogy(ev["times"], [r * math.exp(-2 * s) for r, s in zip(ev["ratio"], ev["times"], strict=True)],
                        "o", mfc="none", mec="tab:red", ms=6,
                        label="zas.thm4.1 check points (its own d, Phi; L = "
                        + ", ".join(str(k) for k in check_points) + ")" if first else None)
            first = False
    ax.set_xlabel("gradient-flow time t (dimensionless)")
    ax.set_ylabel(r"loss ratio $R(t)/R(0)$ (log scale)")
    ax.set_title(f"Theorem 4.1: gradient flow from ZAS, Gaussian $\\Phi$, d = {d}\n"
                 r"$R(t)/R(0)$ stays below $e^{-2t}$; equality at L = 1")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    return _save(fig, folder, "thm41")


def thm43(folder: Path, runs: list[dict[str, Any]], etas: list[dict[str, Any]], fro: float, d: int) -> list[str]:
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    cmap = plt.get_cmap("plasma")
    for i, r in enumerate(runs):
        col = cmap(i / max(1, len(runs)))
        tt = np.asarray(r["curve"]["t"], dtype=float)
        R = np.asarray(r["curve"]["R"], dtype=float)
        a.semilogy(tt * r["eta"], R / R[0], color=col, lw=1.4, label=f"GD, L = {r['L']}")
        env = np.exp(tt * math.log1p(-r["eta"] / 2))
        a.semilogy(tt * r["eta"], env, color=col, ls=":", lw=1.2)
    a.plot([], [], "k:", label=r"envelope $(1-\eta/2)^t$")
    a.set_xlabel(r"rescaled iterations $\eta\,t$ (dimensionless)")
    a.set_ylabel(r"loss ratio $R(t)/R(0)$ (log scale)")
    a.set_title(f"Theorem 4.3: GD from ZAS at the theorem's step\n"
                f"(Gaussian $\\Phi$, d = {d}, $||\\Phi||_F$ = {fro:g}; $\\eta$ = {runs[0]['eta']:.3g})")
    a.grid(True, which="both", alpha=0.3)
    a.legend(loc="lower left")
    L = [e["L"] for e in etas]
    b.loglog(L, [e["eta_theorem"] for e in etas], "o-", color="tab:blue", label=r"Theorem 4.3 $\eta^*$")
    b.loglog(L, [e["eta_max"] for e in etas], "s-", color="tab:orange",
             label="largest convergent $\\eta$ (bisection)")
    for e in etas:
        b.annotate(f"{e['ratio']:.1e}", (e["L"], math.sqrt(e["eta_theorem"] * e["eta_max"])),
                   fontsize=7, ha="center", color="0.3")
    b.set_xlabel("depth L (layers)")
    b.set_ylabel(r"step size $\eta$ (log scale)")
    b.set_title("How conservative is the theorem's step?\n(grey: ratio theorem / largest convergent)")
    b.grid(True, which="both", alpha=0.3)
    b.legend(loc="lower left")
    return _save(fig, folder, "thm43")


def drift(folder: Path, rows: list[dict[str, Any]], d: int, fro: float, bits: int) -> list[str]:
    fig, ax = plt.subplots(figsize=(6.6, 4.4))
    L = [r["L"] for r in rows]

    def series(arith: str, key: str) -> list[float]:
        out = []
        for r in rows:
            lay = r["layers"][arith]
            kk = f"{key}_{r['L'] - 1}"
            vals = lay.get(kk, [])
            out.append(float(np.median(vals[1:] if len(vals) > 1 else vals)) if vals else math.nan)
        return out

    pred = series("mp", "predicted")
    ax.loglog(L, pred, "k-", lw=2, label=r"$\eta^2\,||G_L^TG_L-G_{L-1}G_{L-1}^T||_F$ (identity, mp)")
    ax.loglog(L, series("mp", "measured"), "o", color="tab:green", ms=7, mfc="none",
              label=f"measured in mp ({bits} bits)")
    f64 = [max(v, 1e-19) for v in series("float64", "measured")]
    ax.loglog(L, f64, "x", color="tab:red", ms=8, mew=2, label="measured in float64 (0 drawn at 1e-19)")
    size = series("float64", "size")
    u = 2.0 ** -53
    ax.loglog(L, [u * s for s in size], ":", color="tab:red", label=r"float64 resolution $u\,||D_{L-1}||_F$")
    ax.set_xticks(L)
    ax.set_xticklabels([str(x) for x in L])
    ax.minorticks_off()
    ax.set_xlabel("depth L (layers)")
    ax.set_ylabel(r"per-step change $||D_{L-1}(t+1)-D_{L-1}(t)||_F$")
    ax.set_title(f"Drift of $D_{{L-1}}$ under GD at Theorem 4.3's $\\eta$ (ZAS, Gaussian $\\Phi$, d = {d},\n"
                 f"$||\\Phi||_F$ = {fro:g}; median over steps 2..5): float64 cannot resolve $O(\\eta^2)$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    return _save(fig, folder, "drift")


def fig1(folder: Path, landscape: dict[str, Any], runs: dict[str, Any], lr: float, eps: float) -> list[str]:
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6))
    X, Y, Z = (np.asarray(landscape[k]) for k in ("w1", "w2", "R"))
    levels = [0.01, 0.05, 0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    cs = a.contour(X, Y, Z, levels=levels, cmap="Greys", linewidths=0.8)
    a.clabel(cs, fontsize=6, fmt="%g")
    styles = {"zas": ("tab:red", "ZAS (1, 0)"), "near-identity": ("tab:blue", "near-identity (0.999, 1.001)")}
    for k, r in runs.items():
        col, lab = styles[k]
        a.plot(r["w1"], r["w2"], "-", color=col, lw=1.6, label=lab)
        a.plot(r["w1"][0], r["w2"][0], "o", color=col)
        b.semilogy(range(len(r["R"])), np.maximum(r["R"], 1e-300), color=col, lw=1.6, label=lab)
    a.plot(0, 0, "k*", ms=10, label="saddle (0, 0)")
    a.set_xlabel("$w_1$ (first-layer weight)")
    a.set_ylabel("$w_2$ (second-layer weight)")
    a.set_aspect("equal")
    a.set_title(r"Figure 1 (left): $R(w_1,w_2)=(w_1w_2+1)^2/2$, GD trajectories" + f"\n(L = 2, d = 1, $\\Phi$ = -1, lr = {lr})")
    a.legend(loc="lower left")
    b.axhline(eps, color="0.4", ls="--", lw=1, label=f"R = {eps:g}")
    b.set_xlabel("GD iteration t")
    b.set_ylabel("loss R (log scale)")
    b.set_title("Figure 1 (right): loss along the two trajectories")
    b.grid(True, which="both", alpha=0.3)
    b.legend(loc="lower left")
    return _save(fig, folder, "fig1")


def fig2(folder: Path, panels: dict[str, dict[str, Any]], eps: float, caption_note: str) -> list[str]:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    markers = ["o", "s", "^", "D"]
    for ax, (title, series) in zip(axes, panels.items(), strict=True):
        for j, (name, s) in enumerate(series.items()):
            col = f"C{j}"
            for draw in s.get("draws", []):
                pts = [(L, n) for L, n in zip(draw["depths"], draw["iterations"], strict=True) if n]
                if pts:
                    ax.loglog(*zip(*pts, strict=True), marker=".", ls="", color=col, alpha=0.35, ms=5)
            pts = [(L, n) for L, n in zip(s["depths"], s["iterations"], strict=True) if n]
            if not pts:
                continue
            Ls = np.asarray([p[0] for p in pts], float)
            ax.loglog(Ls, [p[1] for p in pts], marker=markers[j % 4], ls="", color=col, ms=6,
                      label=f"{name}" + (" (geo. mean of draws)" if s.get("draws") else ""))
            fit = s.get("fit")
            if fit and "gamma" in fit:
                xx = np.geomspace(Ls.min(), Ls.max(), 50)
                ax.loglog(xx, np.exp(fit["intercept"]) * xx ** fit["gamma"], "-", color=col, lw=1.2,
                          label=(f"fit: $\\gamma$ = {fit['gamma']:.2f} "
                                 f"[95% {fit['ci95'][0]:.2f}, {fit['ci95'][1]:.2f}]"))
        ax.set_xlabel("depth L (layers)")
        ax.set_ylabel(f"GD iterations to R $\\leq$ {eps:g} (tuned lr)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best")
    fig.suptitle("Figure 2: iterations from ZAS against depth, learning rate tuned per depth", fontsize=10)
    fig.text(0.5, -0.02, "\n".join(textwrap.wrap(caption_note, 170)), ha="center", va="top", fontsize=7)
    return _save(fig, folder, "fig2")


def fig3(folder: Path, zas: dict[str, Any], runs: list[dict[str, Any]], stats: dict[str, Any],
         L: int, d: int, eta: float, max_steps: int) -> list[str]:
    fig, ax = plt.subplots(figsize=(7.6, 4.6))
    grid = np.arange(0, max_steps + 1, 50)

    def on_grid(curve: dict[str, list[float]]) -> np.ndarray:
        t = np.asarray(curve["t"], float)
        R = np.asarray(curve["R"], float)
        v = np.interp(grid, t, np.log(np.maximum(R, 1e-300)), right=np.log(max(R[-1], 1e-300)))
        return np.exp(v)

    allc = []
    for r in runs:
        c = on_grid(r["curve"])
        allc.append(c)
        ax.semilogy(grid, c, color="tab:blue", alpha=0.25, lw=0.8)
    if allc:
        ax.semilogy(grid, np.median(np.vstack(allc), axis=0), color="tab:blue", lw=2.4,
                    label=f"near-identity (5.1): median of {len(runs)} seeds (faint: each seed)")
    ax.semilogy(zas["curve"]["t"], np.maximum(zas["curve"]["R"], 1e-300), color="tab:red", lw=2.4,
                label=f"ZAS (deterministic; R <= 1e-10 R(0) at t = {zas['iterations']})")
    lo, hi = stats["wilson95"]
    ax.text(0.98, 0.97,
            f"near-identity escaped: {stats['escaped']}/{stats['runs']} = {stats['escaped'] / stats['runs']:.2f}\n"
            f"95% Wilson CI [{lo:.2f}, {hi:.2f}]  (paper: 2/5)\nZAS trapped: never",
            transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.6"})
    ax.set_xlabel("GD iteration t")
    ax.set_ylabel("loss R (log scale)")
    ax.set_ylim(bottom=1e-12)
    ax.set_title(f"Figure 3 over {len(runs)} seeds: ZAS vs near-identity\n"
                 f"(L = {L}, d = {d}, $\\Phi$ = -I, $\\eta$ = {eta}, {max_steps} iterations; "
                 "escaped = R <= 1e-10 R(0))")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    return _save(fig, folder, "fig3")
