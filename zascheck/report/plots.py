"""The report's figures (matplotlib, Agg).  Each function takes the numbers a
figure shows (already computed) and writes ``<name>.png`` and ``<name>.svg``
atomically; each figure has a title, labelled axes with units, and a legend."""

from __future__ import annotations

import contextlib
import io
import math
import pickle
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from zascheck.io import atomic_write_bytes

plt.rcParams.update({"svg.hashsalt": "zascheck", "figure.dpi": 110, "font.size": 9,
                     "axes.titlesize": 10, "legend.fontsize": 8})

__all__ = ["alpha", "any_layer", "drift", "fig1", "fig2", "fig2_planes", "fig3", "fig4", "last_ci", "shamir", "ssm", "thm41",
           "thm43"]


#: while :func:`saving_in_background` runs: its process pool and the writes submitted
_BACKGROUND: list[tuple[Any, list[Any]]] = []


@contextlib.contextmanager
def saving_in_background(workers: int) -> Iterator[None]:
    """Inside the block :func:`_save` hands each figure, pickled, to one of
    ``workers`` spawned processes that render and write its PNG and SVG, so
    that the report's figures render side by side instead of one after the
    other (issue 15: they are the serial tail of a report, about 17 s of CPU).
    The block ends when every file is written; the first error is raised
    then.  A figure that cannot be pickled, or ``workers < 2``, is written
    in this process.  The files are those this process would write
    (``tests/test_report_speed.py`` compares their bytes)."""
    if workers < 2:
        yield
        return
    import multiprocessing
    import signal

    # The workers are started here, all at once (multiprocessing.Pool), with
    # SIGINT ignored: a spawned child inherits the ignored disposition from its
    # first instruction, so a Ctrl-C (sent by the terminal to the whole process
    # group) reaches only this process, which stops the pool; an idle or
    # starting worker would otherwise print a KeyboardInterrupt traceback.
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = multiprocessing.get_context("spawn").Pool(workers)
    finally:
        signal.signal(signal.SIGINT, old)
    futures: list[Any] = []
    try:
        _BACKGROUND.append((pool, futures))
        try:
            yield
        finally:
            _BACKGROUND.pop()
        for f in futures:
            f.get()
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _save_pickled(blob: bytes, folder: Path, name: str) -> list[str]:
    return _save(pickle.loads(blob), folder, name)


def _save(fig: Any, folder: Path, name: str) -> list[str]:
    if _BACKGROUND:
        try:
            blob = pickle.dumps(fig)
        except Exception:  # not picklable: written here
            blob = None
        if blob is not None:
            pool, futures = _BACKGROUND[-1]
            futures.append(pool.apply_async(_save_pickled, (blob, folder, name)))
            plt.close(fig)
            return [f"figures/{name}.{ext}" for ext in ("png", "svg")]
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
            # shell-bracketed counts: a bar from the lower to the upper end
            bars = [(L, lo, n) for L, lo, n in zip(s["depths"], s.get("iterations_lo", s["iterations"]),
                                                   s["iterations"], strict=True) if n and lo and lo < n]
            if bars:
                ax.vlines([b[0] for b in bars], [b[1] for b in bars], [b[2] for b in bars], color=col,
                          lw=2.5, alpha=0.6, label=f"{name}: bracket [lo, hi] (shells)")
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


def fig2_planes(folder: Path, planes: dict[str, dict[str, Any]], eps: float) -> list[str]:
    """Heat maps of Figure 2's (L, eta) plane, one panel per series: colour =
    log10 iterations to ``R <= eps``; grey = censored, black = diverged,
    white = not run; circles = protocol (a)'s tuned step; dashed = the
    stability limit of the first iterations; stars = ``eta = 1`` where it
    takes one iteration (the one-step valley)."""
    from matplotlib.colors import ListedColormap

    n = len(planes)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.9 * rows), squeeze=False)
    vmax = max((math.log10(c) for p in planes.values() for line in p["counts"] for c in line
                if c is not None and c > 0), default=1.0)
    for ax, (name, p) in zip(axes.ravel(), planes.items(), strict=False):
        x = np.asarray(p["log2_eta"], float)
        h = 0.5 / p["fine"]
        xe = np.concatenate([x - h, [x[-1] + h]])
        ye = np.arange(len(p["depths"]) + 1)
        c = np.array([[np.nan if v is None else v for v in line] for line in p["counts"]], float)
        val = np.where(c > 0, np.log10(np.where(c > 0, c, 1.0)), np.nan)
        ax.pcolormesh(xe, ye, np.where(c == -1, 1.0, np.nan), cmap=ListedColormap(["0.75"]), vmin=0, vmax=1)
        ax.pcolormesh(xe, ye, np.where(c == -2, 1.0, np.nan), cmap=ListedColormap(["black"]), vmin=0, vmax=1)
        im = ax.pcolormesh(xe, ye, val, cmap="viridis", vmin=0.0, vmax=vmax)
        yc = np.arange(len(p["depths"])) + 0.5
        tuned = [(math.log2(e), y) for e, y in zip(p["tuned"]["grid"], yc, strict=True) if e]
        if tuned:
            ax.plot(*zip(*tuned, strict=True), "o", mfc="none", mec="white", ms=6, label="protocol (a) tuned step")
        ax.step(np.log2(p["init_limit"]), yc, where="mid", color="tab:red", ls="--", lw=1.2,
                label=r"$2/\lambda_0$ (first iterations)")
        one = [y for y, line in zip(yc, p["counts"], strict=True)
               if 0.0 in x and line[int(np.flatnonzero(x == 0.0)[0])] == 1]  # fmt: skip
        if one:
            ax.plot([0.0] * len(one), one, "*", color="magenta", ms=8, label=r"$\eta = 1$: 1 iteration")
        ax.set_yticks(yc, [str(L) for L in p["depths"]])
        ax.set_xlabel(r"$\log_2 \eta$ (learning rate, dimensionless)")
        ax.set_ylabel("depth L (layers)")
        ax.set_title(f"{name}" + (f" (draw seed {p['phi_seed']})" if name.startswith("Gaussian") else ""))
        ax.legend(loc="lower left", fontsize=7)
        fig.colorbar(im, ax=ax, label=f"log10 iterations to R <= {eps:g}")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle("Figure 2 over the (L, eta) plane: grey = censored, black = diverged, white = not run",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, folder, "fig2-planes")


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
            f"95% Wilson CI [{lo:.2f}, {hi:.2f}]  (paper: 2/5, Fisher p = {stats['fisher_p']:.2g})\n"
            "ZAS trapped: never",
            transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.6"})
    ax.set_xlabel("GD iteration t")
    ax.set_ylabel("loss R (log scale)")
    ax.set_ylim(bottom=1e-12)
    ax.set_title(f"Figure 3 over {len(runs)} seeds: ZAS vs near-identity\n"
                 f"(L = {L}, d = {d}, $\\Phi$ = -I, $\\eta$ = {eta}, {max_steps} iterations; "
                 "escaped = R < 1/4, below every saddle value)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    return _save(fig, folder, "fig3")


# ---------------------------------------------------------------------------
# the reviewers' claims and Shamir's lower bound (drawn from CheckResult evidence)
# ---------------------------------------------------------------------------


def _fit_label(kind: str, fit: dict[str, Any]) -> str:
    se = fit.get("slope_se", math.nan)
    pm = f" $\\pm$ {se:.2g}" if isinstance(se, (int, float)) and math.isfinite(se) else ""
    what = f"rate {fit['slope']:.3g}{pm} /layer" if kind == "exponential" else f"degree {fit['slope']:.3g}{pm}"
    return f"{kind} fit: {what} (RSS {fit['rss']:.2g})"


def shamir(folder: Path, ev: dict[str, Any]) -> list[str]:
    """``shamir.lower``: iterations to converge against depth per init (seeds
    faint, censored runs as lower bounds), with both growth-law fits."""
    arms = ev["arms"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8))
    styles = {"near-identity": ("tab:blue", "o"), "xavier": ("tab:orange", "s")}
    rand_max = max((max(arm["depths"]) for k, arm in arms.items() if "hits" in arm), default=16)
    first_lb = True
    for j, (name, arm) in enumerate(arms.items()):
        col, mk = styles.get(name, ("tab:green" if j == 2 else f"C{j + 3}", "D"))
        Ls = np.asarray(arm["depths"], float)
        med = np.asarray(arm["median"], float)
        cens = np.asarray(arm.get("censored", [False] * len(Ls)), bool)
        stops = arm.get("stopped_at") or [max(arm["median"])] * len(Ls)
        for ax in (a, b):
            if "hits" in arm:  # seeds: converged (dots) and censored (lower bounds, triangles)
                for i, L in enumerate(arm["depths"]):
                    hs = arm["hits"].get(str(L), [])
                    xs = L + np.linspace(-0.3, 0.3, max(len(hs), 1)) * (1 if ax is a else 0.04 * L)
                    done = [(x, h) for x, h in zip(xs, hs, strict=False) if h is not None]
                    lbs = [x for x, h in zip(xs, hs, strict=False) if h is None]
                    if done:
                        ax.plot(*zip(*done, strict=True), ".", color=col, alpha=0.3, ms=4)
                    if lbs:
                        ax.plot(lbs, [stops[i]] * len(lbs), "^", mfc="none", mec=col, alpha=0.45, ms=4)
                        if first_lb and ax is a:
                            ax.plot([], [], ".", color="0.4", ms=4, label="one seed (converged)")
                            ax.plot([], [], "^", mfc="none", mec="0.4", ms=4,
                                    label="one seed, not converged when its batch stopped (lower bound)")
                            first_lb = False
            shown = Ls <= rand_max + 0.5 if ax is a else np.ones_like(Ls, bool)
            ok = shown & ~cens
            ax.plot(Ls[ok], med[ok], mk, color=col, ms=7, mec="k", mew=0.6,
                    label=f"{name}: median over seeds" if "hits" in arm else f"{name} (deterministic)")
            if (shown & cens).any():
                ax.plot(Ls[shown & cens], med[shown & cens], "^", color=col, ms=10, mec="k", mew=0.8,
                        label=f"{name}: median capped at the budget (lower bound)")
        fits = arm.get("fits", {})
        xx_a = np.linspace(Ls.min(), min(Ls.max(), rand_max), 100)
        xx_b = np.geomspace(Ls.min(), Ls.max(), 100)
        if "exponential" in fits:
            f = fits["exponential"]
            a.semilogy(xx_a, np.exp(f["intercept"] + f["slope"] * xx_a), "-", color=col, lw=1.4,
                       label=f"{name}: " + _fit_label("exponential", f))
            b.loglog(xx_b, np.exp(f["intercept"] + f["slope"] * xx_b), ":", color=col, lw=1.2)
        if "polynomial" in fits:
            f = fits["polynomial"]
            b.loglog(xx_b, np.exp(f["intercept"]) * xx_b ** f["slope"], "-", color=col, lw=1.4,
                     label=f"{name}: " + _fit_label("polynomial", f))
            a.semilogy(xx_a, np.exp(f["intercept"]) * xx_a ** f["slope"], ":", color=col, lw=1.2)
    ymax = max(max(arm["median"]) for arm in arms.values())
    for ax in (a, b):
        ax.set_yscale("log")
        ax.set_ylim(top=ymax * 30)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("depth L (layers)" + (" (log scale)" if ax is b else ""))
        ax.set_ylabel(f"GD iterations to R $\\leq$ {ev.get('rel_tol', 1e-10):g} R(0) (log scale)")
    b.set_xscale("log")
    ticks = sorted({L for arm in arms.values() for L in arm["depths"]} & {2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
    b.set_xticks(ticks)
    b.set_xticklabels([str(t) for t in ticks])
    b.minorticks_off()
    b.grid(True, which="major", alpha=0.3)
    a.set_title("straight here = exponential growth exp(rate L)\n(solid: exponential fit; dotted: power-law fit)")
    b.set_title("straight here = power law L^degree\n(solid: power-law fit; dotted: exponential fit)")
    a.legend(loc="upper left", fontsize=7)
    b.legend(loc="upper left", fontsize=7)
    fig.suptitle(f"shamir.lower: d = 1, $\\Phi$ = -1, $\\eta$ = {ev.get('eta0', 0.25):g}/L, at most "
                 f"{ev.get('max_steps', '?')} iterations: random inits grow exponentially in L, ZAS polynomially",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, folder, "shamir")


def alpha(folder: Path, flow_ev: dict[str, Any], gd_rows: list[dict[str, Any]]) -> list[str]:
    """``review.alpha``: (a) the flow bound exp(-2 alpha^{2(L-1)} t); (b) tuned GD
    iterations and (c) the largest convergent step against alpha."""
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.6))
    per = flow_ev.get("per_case", {})
    cases = []
    for key, e in per.items():
        al, L = key[len("alpha"):].split("_L")
        cases.append((float(al), int(L), e))
    if cases:
        Lshow = max(L for _, L, _ in cases)
        shown = sorted((x for x in cases if x[1] == Lshow), key=lambda x: x[0])
        tmax = max(max(e["times"]) for _, _, e in shown)
        tt = np.linspace(0, tmax, 300)
        for i, (al, _L, e) in enumerate(shown):
            col: str | tuple[float, float, float, float] = plt.get_cmap("viridis")(
                i / max(1, len(shown) - 1) * 0.85)
            r = e["rate"]
            t = np.asarray(e["times"], float)
            y = np.asarray(e["ratio"], float) * np.exp(-2 * r * t)
            a.semilogy(tt, np.exp(-2 * r * tt), "-", color=col, lw=1.3,
                       label=f"claim $\\alpha$ = {al:g}: exp(-2 $\\cdot$ {r:.3g} t)")
            a.semilogy(t, y, "o", color=col, mfc="none", ms=7, mew=1.4, label=f"flow, $\\alpha$ = {al:g}")
        a.semilogy(tt, np.exp(-2 * tt), "k:", lw=1.2, label="ZAS ($\\alpha$ = 1): exp(-2t)")
        a.set_ylim(1e-4, 1.5)
        a.set_title(f"(a) gradient flow, L = {Lshow}: $R(t)/R(0)$ vs the claimed rate $\\alpha^{{2(L-1)}}$\n"
                    "(circles: flow, ball arithmetic; lines: claimed bound)")
    a.set_xlabel("gradient-flow time t (dimensionless)")
    a.set_ylabel("loss ratio $R(t)/R(0)$ (log scale)")
    a.grid(True, which="both", alpha=0.3)
    a.legend(loc="upper right", fontsize=7, ncol=1)
    depths = sorted({r["L"] for r in gd_rows})
    for j, L in enumerate(depths):
        rows = sorted((r for r in gd_rows if r["L"] == L), key=lambda r: r["alpha"])
        col = f"C{j}"
        al = np.asarray([r["alpha"] for r in rows], float)
        n = [r["tuned_iterations"] for r in rows]
        ok = [i for i, v in enumerate(n) if v is not None]
        b.loglog(al[ok], [n[i] for i in ok], "o-", color=col, ms=6, label=f"GD, L = {L}: tuned $N^*$")
        if ok:
            n0, a0 = n[ok[0]], al[ok[0]]
            xx = np.geomspace(al.min(), al.max(), 50)
            b.loglog(xx, n0 * (xx / a0) ** (-2 * (L - 1)), "--", color=col, lw=1.2,
                     label=f"flow speedup carried over: $N^*(\\alpha_0)\\,(\\alpha/\\alpha_0)^{{-{2 * (L - 1)}}}$")
        em = [r["eta_max"] for r in rows]
        c.loglog(al, em, "s-", color=col, ms=6, label=f"L = {L}: largest convergent $\\eta$")
        c.loglog(al, [r["tuned_eta"] for r in rows], "o", color=col, mfc="none", ms=6,
                 label=f"L = {L}: tuned $\\eta$")
        c.loglog(al, [em[0] * (x / al[0]) ** (-2 * (L - 1)) for x in al], ":", color=col, lw=1.2,
                 label=f"L = {L}: $\\eta_{{max}}(\\alpha_0)\\,(\\alpha/\\alpha_0)^{{-{2 * (L - 1)}}}$")
    b.axhline(1, color="0.4", lw=0.8, label="1 iteration (the least possible)")
    b.set_ylim(bottom=0.5)
    for ax in (b, c):
        ax.set_xlabel(r"$\alpha$ (layers $\alpha I$, last layer 0; log scale)")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xticks(sorted({r["alpha"] for r in gd_rows}))
        ax.set_xticklabels([f"{x:g}" for x in sorted({r["alpha"] for r in gd_rows})])
        ax.minorticks_off()
    b.set_ylabel(r"GD iterations to R $\leq$ 1e-10 R(0) at the tuned step (log)")
    b.set_title("(b) GD: iterations at the tuned step\n(dashed: what the flow's speedup would give)")
    b.legend(loc="lower left", fontsize=7)
    c.set_ylabel(r"step size $\eta$ (log scale)")
    c.set_title("(c) GD: the stable step shrinks with $\\alpha$\n(dotted: shrinking like the inverse flow rate)")
    c.legend(loc="lower left", fontsize=7)
    fig.suptitle(r"review.alpha: layers $\alpha I$ speed the flow up by $\alpha^{2(L-1)}$; GD gains far less",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, folder, "alpha")


def last_ci(folder: Path, rows: list[dict[str, Any]]) -> list[str]:
    """``review.last-cI``: measured decay rate against c per depth, the derived
    rate (1-c^2)^(L-1) and the ZAS rate 1."""
    fig, ax = plt.subplots(figsize=(7.4, 4.8))
    rows = [r for r in rows if "empirical_rate" in r and not r.get("outside_hypothesis")]
    depths = sorted({r["L"] for r in rows})
    cc = np.linspace(0, max(r["c"] for r in rows), 200)
    for j, L in enumerate(depths):
        col = f"C{j}"
        rs = sorted((r for r in rows if r["L"] == L), key=lambda r: r["c"])
        ax.semilogy(cc, (1 - cc**2) ** (L - 1), "-", color=col, lw=1.3,
                    label=f"L = {L}: derived $(1-c^2)^{{{L - 1}}}$ (line), measured (dots)")
        ax.semilogy([r["c"] for r in rs], [r["empirical_rate"] for r in rs], "o", color=col, ms=6)
    ax.axhline(1.0, color="k", ls="--", lw=1.2, label="ZAS rate 1 (exp(-2t))")
    ax.set_xlabel("c (last layer initialized to c I, the others I)")
    ax.set_ylabel("decay rate r in R(t) $\\leq$ exp(-2 r t) R(0) (log scale)")
    phis = sorted({str(r.get("phi")) for r in rows})
    ax.set_title("review.last-cI: measured rate min$_t$ -ln(R(t)/R(0))/(2t) (gradient flow, "
                 f"$\\Phi$ = {', '.join(phis)})\nstays above the derived $(1-c^2)^{{L-1}}$ and below 1 for larger c")
    ax.set_xlim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left", fontsize=7.5)
    return _save(fig, folder, "last-ci")


def any_layer(folder: Path, ev: dict[str, Any]) -> list[str]:
    """``review.any-layer``: R(t)/R(0) for each position k of the zero layer."""
    per = ev.get("per_case", {})
    by_L: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for key, e in per.items():
        L, k = key[1:].split("_k")
        by_L.setdefault(int(L), []).append((int(k), e))
    depths = sorted(by_L)
    fig, axes = plt.subplots(1, len(depths), figsize=(5.4 * len(depths), 4.4), squeeze=False)
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    for ax, L in zip(axes[0], depths, strict=True):
        ks = sorted(by_L[L], key=lambda x: x[0])
        tmax = max(max(e["times"]) for _, e in ks)
        tt = np.linspace(0, tmax, 200)
        ax.semilogy(tt, np.exp(-2 * tt), "k--", lw=1.4, label="claimed bound exp(-2t)")
        for i, (k, e) in enumerate(ks):
            t = np.asarray(e["times"], float)
            y = np.asarray(e["ratio"], float) * np.exp(-2 * t)
            ax.semilogy(t, y, markers[i % len(markers)], ls="-" if i == 0 else "", color=f"C{i}", mfc="none",
                        ms=11 - 2 * i if 11 - 2 * i > 3 else 4, mew=1.3, lw=1.0,
                        label=f"zero layer at k = {k}" + (" (k = L: ZAS)" if k == L else ""))
        tc = ev.get("trajectory_comparison", {}).get(str(L))
        if tc:
            ax.text(0.98, 0.97, f"max over k, t of |P_k(t) - P_L(t)|: {tc['max_abs_P_diff']:.1e}\n"
                    f"(tolerance {tc['tolerance_max']:.1e})", transform=ax.transAxes, ha="right", va="top",
                    fontsize=7.5, bbox={"boxstyle": "round", "fc": "white", "ec": "0.6"})
        ax.set_xlabel("gradient-flow time t (dimensionless)")
        ax.set_ylabel("loss ratio $R(t)/R(0)$ (log scale)")
        ax.set_title(f"L = {L}: one zero layer at position k, the others I")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower left", fontsize=7.5)
    fig.suptitle("review.any-layer: the zero layer can sit anywhere; the flows coincide and decay "
                 "at least like exp(-2t)", fontsize=10)
    fig.tight_layout()
    return _save(fig, folder, "any-layer")


def ssm(folder: Path, thm1: dict[str, Any] | None, sharp: dict[str, Any] | None,
        ex1: dict[str, Any] | None) -> list[str]:
    """SSM reviews: (left) top Hessian eigenvalue at global minima (``ssm.thm1``)
    and at GD limits (``ssm.sharpness``), both normalized by the bound
    ``L rho^{2(L-1)/L}``; (right) Example 1's period-2 orbit and the
    diminishing-step run (``ssm.example1``)."""
    fig = plt.figure(figsize=(14, 5.4))
    gs = fig.add_gridspec(1, 3, width_ratios=[0.75, 2.0, 3.0], wspace=0.1, top=0.82)
    a0 = fig.add_subplot(gs[0])
    a1 = fig.add_subplot(gs[1], sharey=a0)
    a2 = fig.add_subplot(gs[2])
    _ssm_minima(a0, thm1)
    _ssm_sharpness(a1, sharp)
    lo, hi = a0.get_ylim()
    a0.set_ylim(min(lo, 0.7), max(hi, 3.0))
    _ssm_example1(a2, ex1)
    fig.suptitle("Step Size Matters (reviews): the step size selects the minimum, and a constant step "
                 "can end on a cycle", fontsize=10, y=0.99)
    return _save(fig, folder, "ssm")


def _ssm_minima(a0: Any, thm1: dict[str, Any] | None) -> None:
    if thm1:
        bound = thm1["bound"]
        for pos, kind, mk in ((0, "balanced", "o"), (1, "unbalanced", "s")):
            ys = [m["top"] / bound for m in thm1["minima"] if m["kind"] == kind]
            a0.plot([pos] * len(ys), ys, mk, color="tab:purple", ms=8, mfc="none" if pos else "tab:purple", mew=1.4)
        a0.axhline(1.0, color="k", lw=1.4)
        a0.set_xticks([0, 1])
        nb = sum(m["kind"] == "balanced" for m in thm1["minima"])
        a0.set_xticklabels([f"balanced ({nb})", f"unbalanced ({len(thm1['minima']) - nb})"], rotation=30)
        a0.set_xlim(-0.6, 1.6)
        a0.set_title(f"ssm.thm1:\nexact minima\n(L = {thm1['L']}, bound {bound:g})", fontsize=9)
    a0.set_ylabel(r"$\lambda_{max}$(Hessian) / $L\rho^{2(L-1)/L}$ (log scale)")
    a0.set_yscale("log")
    a0.grid(True, which="both", alpha=0.3)


def _ssm_sharpness(a1: Any, sharp: dict[str, Any] | None) -> None:
    if sharp:
        ff = np.linspace(0.05, 2.0, 200)
        a1.fill_between(ff, 1.0, np.maximum(1.0 / ff, 1.0), where=1.0 / ff >= 1.0, color="tab:green", alpha=0.12,
                        label="reachable: minima ($\\geq$ 1) GD can stay at ($\\eta\\lambda_{max} \\leq$ 2)")
        a1.plot(ff, 1.0 / ff, "-", color="tab:red", lw=1.3,
                label=r"$\eta\,\lambda_{max}$ = 2, i.e. $\lambda_{max}/(L\rho^{2(L-1)/L}) = \eta_1/\eta$")
        a1.axhline(1.0, color="k", lw=1.4, label=r"Thm 1 bound: every minimum has ratio $\geq$ 1")
        conv = [r for r in sharp["runs"] if "eta_lambda_max" in r]
        a1.plot([r["eta_frac"] for r in conv], [r["eta_lambda_max"] / (2 * r["eta_frac"]) for r in conv], "o",
                color="tab:blue", ms=7, label=f"GD limit (converged, {len(conv)} runs)")
        fail = [r for r in sharp["runs"] if "eta_lambda_max" not in r]
        if fail:
            a1.plot([r["eta_frac"] for r in fail], [0.04] * len(fail), "x", color="tab:red", ms=9, mew=2,
                    transform=a1.get_xaxis_transform(), clip_on=False,
                    label=f"GD did not converge ({len(fail)} runs; drawn on the axis)")
        a1.axvline(1.0, color="0.5", ls=":", lw=1)
        a1.set_xlim(0, max(1.6, max(r["eta_frac"] for r in sharp["runs"]) + 0.2))
        a1.set_xlabel(r"step size $\eta/\eta_1$, $\eta_1 = 2/(L\rho^{2(L-1)/L})$")
        a1.set_title(f"ssm.sharpness: where GD ends (L = {sharp.get('L', '?')},\n"
                     f"Gaussian target, $\\rho$ = {sharp['rho']:.3g})", fontsize=9)
        a1.legend(loc="upper right", fontsize=7)
    a1.tick_params(labelleft=False)
    a1.grid(True, which="both", alpha=0.3)


def _ssm_example1(a2: Any, ex1: dict[str, Any] | None) -> None:
    if ex1:
        amp = ex1["amplitude"]
        cols = ["tab:blue", "tab:orange", "tab:green", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
        for i, (s, xs) in enumerate(ex1.get("constant_step_iterates", {}).items()):
            t = np.arange(len(xs))[1:]
            x = np.asarray(xs[1:], float)
            col = cols[i % len(cols)]
            a2.loglog(t, np.abs(x), "-", color=col, lw=1.0, alpha=0.8,
                      label=f"constant $\\eta$ = {ex1['eta']:g}, $x_0$ = {s}")
            a2.loglog(t[x > 0], x[x > 0], "o", color=col, ms=4)
            a2.loglog(t[x < 0], -x[x < 0], "o", color=col, ms=4, mfc="white")
        a2.axhline(amp, color="k", ls="--", lw=1.2,
                   label=f"period-2 orbit $\\pm\\eta^2/4$ = $\\pm${amp:g} (exact)")
        ds = ex1.get("diminishing_series")
        if ds:
            t = np.asarray(ds["t"][1:], float)
            x = np.asarray(ds["x"][1:], float)
            a2.loglog(t, np.abs(x), "-", color="tab:purple", lw=2.2,
                      label=f"diminishing $\\eta_t$ = {ex1['schedule']}, $x_0$ = {ds['x'][0]:.3g}")
            a2.loglog(t[x > 0], x[x > 0], "o", color="tab:purple", ms=3.5)
            a2.loglog(t[x < 0], -x[x < 0], "o", color="tab:purple", ms=3.5, mfc="white")
            a2.loglog(t, ds["envelope"][1:], ":", color="k", lw=1.2,
                      label=r"envelope $\eta_t^2/4$ $\to$ 0")
        a2.plot([], [], "o", color="0.3", ms=4, label="filled: $x_t$ > 0, open: $x_t$ < 0")
        a2.set_xlabel("GD iteration t (log scale)")
        a2.set_ylabel(r"$|x_t|$ (log scale)")
        a2.set_title(r"ssm.example1: $f(x) = \frac{2}{3}|x|^{3/2}$; constant step ends on the orbit $\pm\eta^2/4$,"
                     "\na diminishing step goes to the minimum 0", fontsize=9)
        a2.grid(True, which="both", alpha=0.3)
        a2.legend(loc="lower left", fontsize=7)


def fig4(folder: Path, per_depth: list[dict[str, Any]], title: str, note: str) -> list[str]:
    """Figure 4 of the ZAS paper redrawn from zas.fig4's evidence: training
    accuracy against GD iterations per depth and init (left, the paper's
    layout, linear axes) and the training loss against iterations + 1 (right,
    log-log, so the first iterations of the deepest runs and the blow-ups
    show); a run that ended on a non-finite value ends in a cross."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8))
    cmap = plt.get_cmap("viridis")
    depths = [e["L"] for e in per_depth]
    styles = {"mzas": "-", "xavier": "--", "mzas-u": ":"}
    names = {"mzas": "mZAS", "xavier": "Xavier", "mzas-u": "mZAS, U != 0"}
    for i, e in enumerate(per_depth):
        col = cmap(i / max(1, len(depths) - 1) * 0.85)
        for role in e["roles"].values():
            side = e[role]
            tuned = side.get("tuned")
            if tuned is None:
                why = ("non-finite at t = 0" if side.get("log10_forward_growth") is not None
                       else "diverged")
                a.plot([], [], "x", color=col, ms=8, mew=2,
                       label=f"L = {e['L']}, {names.get(role, role)}: {why} at every rate (not drawn)")
                continue
            c = tuned["curves"]
            t = np.asarray(c["t"], float)
            acc = 100 * np.asarray(c["accuracy"], float)
            loss = np.asarray([x if isinstance(x, (int, float)) else math.nan for x in c["loss"]], float)
            lab = f"L = {e['L']}, lr = {tuned['eta']:.0e}, {names.get(role, role)} ({tuned['status']})"
            a.plot(t, acc, styles.get(role, "-"), color=col, lw=1.5, label=lab)
            b.loglog(t + 1, np.where(np.isfinite(loss), loss, np.nan), styles.get(role, "-"), color=col, lw=1.5)
            if tuned.get("stopped"):
                b.plot(t[-1] + 1, np.nanmax(loss[np.isfinite(loss)]) if np.isfinite(loss).any() else 1.0,
                       "x", color=col, ms=9, mew=2)
    a.set_xlabel("GD iteration t")
    a.set_ylabel("training accuracy (%)")
    a.set_ylim(0, 100)
    a.set_title("Training accuracy (the paper's Figure 4 layout)")
    a.grid(True, alpha=0.3)
    a.legend(loc="lower right", fontsize=7, framealpha=0.9)
    b.set_xlabel("GD iteration t + 1 (log scale)")
    b.set_ylabel("training loss: mean cross-entropy (log scale)")
    b.set_title("Training loss (solid: mZAS, dashed: Xavier; x: ended non-finite)")
    b.grid(True, which="both", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.text(0.5, -0.02, "\n".join(textwrap.wrap(note, 190)), ha="center", va="top", fontsize=7)
    return _save(fig, folder, "fig4")
