"""The claim graph's files are the same bytes whatever the hash seed (a card's
``depends_on`` may be a set, and networkx groups layout layers in sets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import networkx as nx

from zascheck.report import graph

_DRAW = (
    "import sys; from pathlib import Path; from zascheck.report import graph; "
    "graph.draw(Path(sys.argv[1]), {'zas.thm4.3': 'certified', 'zas.drift': 'holds'})"
)


def _draw(folder: Path, seed: str) -> dict[str, bytes]:
    folder.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-c", _DRAW, str(folder)], check=True, env=env)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_claim_graph_files_do_not_depend_on_the_hash_seed(tmp_path):
    a, b = _draw(tmp_path / "a", "1"), _draw(tmp_path / "b", "2")
    assert set(a) == {"claim-graph.png", "claim-graph.svg"}
    assert a == b


def test_claim_graph_has_every_dependency_edge_and_colours_by_verdict():
    g = graph.claim_graph({"zas.thm4.3": "violated"})
    assert nx.is_directed_acyclic_graph(g)
    assert g.nodes["zas.thm4.3"]["verdict"] == "violated"
    assert all(g.nodes[n]["verdict"] in graph.COLOURS for n in g.nodes)
    assert g.in_degree("zas.thm4.3") > 0
