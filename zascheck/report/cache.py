"""On-disk cache of finished report cases.

Every case (one check, one sweep point, one seed) is stored as
``<root>/<sha256>.json``, written atomically (:mod:`zascheck.io`), under a key
that hashes the case's kind and parameters together with a fingerprint of
the source code that computes it.  A report that is interrupted therefore
resumes where it stopped, and an edit to the code that produced a number
invalidates exactly the cached numbers it could have changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from zascheck import __version__
from zascheck.io import atomic_write_json
from zascheck.result import jsonable

__all__ = ["Cache", "code_fingerprint", "remove_stale_tmp"]

_PKG = Path(__file__).resolve().parent.parent

#: the modules every computation depends on
CORE = ("arith.py", "model.py", "dynamics.py", "inits.py", "targets.py", "bounds.py", "result.py",
        "registry.py", "experiments.py", "catalogue.py", "checks/common.py")


@cache
def _file_hash(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def code_fingerprint(*extra: str | os.PathLike[str]) -> str:
    """Hash of the package version, the core modules and ``extra`` source files."""
    h = hashlib.sha256(__version__.encode())
    for rel in CORE:
        h.update(rel.encode() + _file_hash(str(_PKG / rel)).encode())
    for p in extra:
        h.update(str(Path(p).name).encode() + _file_hash(str(Path(p).resolve())).encode())
    return h.hexdigest()


class Cache:
    """``get``/``put`` JSON results by a case key; ``root=None`` disables caching."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.stored = 0

    @staticmethod
    def key(kind: str, params: dict[str, Any], fingerprint: str) -> str:
        blob = json.dumps({"kind": kind, "params": jsonable(params), "code": fingerprint},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        p = self.path(key)
        if p is None or not p.exists():
            return None
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # unreadable: recompute (and overwrite atomically)
        if not isinstance(obj, dict) or "value" not in obj:
            return None
        self.hits += 1
        return obj["value"]

    def put(self, key: str, kind: str, params: dict[str, Any], value: dict[str, Any]) -> None:
        p = self.path(key)
        if p is None:
            return
        atomic_write_json(p, {"kind": kind, "params": jsonable(params), "value": jsonable(value)})
        self.stored += 1


def remove_stale_tmp(folder: Path) -> int:
    """Delete temporary files (``.*.tmp``) a hard kill (SIGKILL) may have left
    in ``folder`` and its subfolders; returns how many were removed."""
    n = 0
    if not folder.exists():
        return 0
    for p in folder.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
