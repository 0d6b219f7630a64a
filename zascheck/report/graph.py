"""The claim graph: the dependency graph of the claims (from the cards' ``depends_on``),
each node coloured by its claim-level verdict, drawn as PNG and SVG and listed in Markdown.

An edge ``A -> B`` means "the proof of B uses A" (Thm 4.3 <- Lemmas 4.4-4.6 <- drift
identity; Thm 4.1 <- proof steps <- Lemma 4.2 <- gradient, ...).  Layout: networkx's
topological generations (a claim sits one layer above everything it uses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx

from zascheck import engine
from zascheck.report.plots import _save

__all__ = ["COLOURS", "claim_graph", "draw", "markdown"]

#: node colour of each claim-level verdict
COLOURS = {"certified": "#1a9850", "holds": "#91cf60", "violated": "#d73027",
           "inconclusive": "#fee08b", "not run": "#dddddd"}


def claim_graph(verdicts: dict[str, str]) -> nx.DiGraph:
    """Directed graph of every card with a dependency or a dependant: edge
    ``dep -> claim``; node attribute ``verdict`` from ``verdicts`` (``not run``
    where absent).  Nodes and edges are inserted in sorted order, so the graph,
    its layout and the drawn files do not depend on ``PYTHONHASHSEED`` (a
    card's ``depends_on`` may be a set)."""
    g = nx.DiGraph()
    edges = sorted((dep, c.id) for c in engine.all_cards() for dep in c.depends_on)
    g.add_nodes_from(sorted({n for e in edges for n in e}))
    g.add_edges_from(edges)
    for n in g.nodes:
        g.nodes[n]["verdict"] = verdicts.get(n, "not run")
    return g


def draw(folder: Path, verdicts: dict[str, str]) -> list[str]:
    """Draw the claim graph into ``folder/claim-graph.{png,svg}``; returns the file names."""
    g = claim_graph(verdicts)
    # layers as sorted lists: with a node attribute networkx groups them in sets,
    # whose order (and so the layout) would follow the hash seed
    layers = {i: sorted(ns) for i, ns in enumerate(nx.topological_generations(g))}
    pos = nx.multipartite_layout(g, subset_key=layers, align="horizontal", scale=1.0)
    pos = {n: (x, y) for n, (x, y) in pos.items()}
    fig, ax = plt.subplots(figsize=(16, 8))
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowstyle="-|>", arrowsize=10,
                           edge_color="#999999", min_source_margin=12, min_target_margin=12,
                           connectionstyle="arc3,rad=0.05")
    for n, (x, y) in pos.items():
        ax.text(x, y, n, ha="center", va="center", fontsize=7.5, zorder=3,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": COLOURS[g.nodes[n]["verdict"]],
                      "edgecolor": "#333333"})
    handles = [plt.Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor=c,
                          markeredgecolor="#333333", label=v) for v, c in COLOURS.items()]
    ax.legend(handles=handles, loc="upper left", fontsize=8, title="claim-level verdict")
    ax.set_title("Claim graph: an arrow A -> B means the proof of B uses A")
    ax.axis("off")
    return _save(fig, folder, "claim-graph")


def markdown(verdicts: dict[str, str]) -> list[str]:
    """The claim graph as Markdown lines: each claim with its verdict and what it rests on."""
    g = claim_graph(verdicts)
    lines = ["| claim | claim-level verdict | rests on |", "|---|---|---|"]
    for n in nx.topological_sort(g):
        deps = sorted(g.predecessors(n))
        rests = ", ".join(f"`{d}` ({g.nodes[d]['verdict']})" for d in deps) or "-"
        lines.append(f"| `{n}` | {g.nodes[n]['verdict']} | {rests} |")
    return lines


def verdict_map(claims: list[dict[str, Any]]) -> dict[str, str]:
    """``{claim: verdict}`` from :func:`zascheck.engine.claim_verdicts` records."""
    return {c["claim"]: c["verdict"] for c in claims}
