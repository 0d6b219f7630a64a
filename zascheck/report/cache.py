"""On-disk cache of finished report cases.

Every case (one check, one sweep point, one seed) is stored as
``<root>/<sha256>.json``, written atomically (:mod:`zascheck.io`), under a key
that hashes the case's kind and parameters together with a fingerprint of
every package module the case can execute (computed from the import
graph: :func:`module_closure`).  A report that is interrupted therefore
resumes where it stopped, and an edit to the code that produced a number
invalidates exactly the cached numbers it could have changed.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from zascheck import __version__
from zascheck.io import atomic_write_json
from zascheck.result import jsonable

__all__ = ["STAGING_PREFIX", "Cache", "code_fingerprint", "file_imports", "module_closure", "remove_stale_tmp"]

_PKG = Path(__file__).resolve().parent.parent


def _file_hash(path: str) -> str:
    """SHA-256 of a file's bytes (memoized per path, size and mtime)."""
    try:
        st = Path(path).stat()
    except OSError:
        return "missing"
    return _hash_bytes(path, st.st_size, st.st_mtime_ns)


@cache
def _hash_bytes(path: str, size: int, mtime_ns: int) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def module_file(name: str, root: Path = _PKG) -> Path | None:
    """The source file of package module ``name`` (``zascheck.x.y``) under
    ``root`` (the ``zascheck`` folder), or ``None`` if it is not a module there."""
    parts = name.split(".")
    if parts[0] != "zascheck":
        return None
    base = root.joinpath(*parts[1:])
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports_of(node: ast.AST, here: str) -> set[str]:
    """Package modules named by the import statements anywhere under ``node``
    (module level and inside functions: a lazy import runs too)."""
    out: set[str] = set()
    pkg = here.rpartition(".")[0]
    for n in ast.walk(node):
        if isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            mod = n.module or ""
            if n.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (n.level - 1)]
                mod = ".".join([*base, mod] if mod else base)
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in n.names}
    return {m for m in out if m == "zascheck" or m.startswith("zascheck.")}


def module_closure(entries: Iterable[str], root: Path = _PKG) -> list[Path]:
    """Every package source file the modules ``entries`` import, transitively
    (module-level and in-function imports, and the packages on each path),
    sorted.  This is what a computation started in ``entries`` can execute."""
    seen: dict[str, Path] = {}
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        f = module_file(name, root)
        if f is None:
            continue
        seen[name] = f
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        todo += sorted(file_imports(f, name if f.name != "__init__.py" else name + ".x"))
    return sorted(set(seen.values()))


def file_imports(path: Path, here: str) -> frozenset[str]:
    """Package modules named by the imports of the source file ``path`` (module
    ``here``; :func:`_imports_of`), memoized per path, size and mtime: a report
    asks for the closure of about 50 sets of entry modules, which share most
    of their files, and parsing every file again for each costed 15 s of CPU
    before the first case started (issue 15)."""
    try:
        st = path.stat()
    except OSError:
        return frozenset()
    return _file_imports(str(path), here, st.st_size, st.st_mtime_ns)


@cache
def _file_imports(path: str, here: str, size: int, mtime_ns: int) -> frozenset[str]:
    return frozenset(_imports_of(ast.parse(Path(path).read_text(encoding="utf-8")), here))


def code_fingerprint(entries: Iterable[str], root: Path = _PKG,
                     files: Iterable[Path] = ()) -> str:
    """Hash of the package version, of every source file the modules
    ``entries`` import (:func:`module_closure`) and of ``files``: an edit
    anywhere in the code a case can run changes it, an edit elsewhere does not."""
    h = hashlib.sha256(__version__.encode())
    for f in sorted(set(module_closure(entries, root)) | {Path(x).resolve() for x in files}):
        # package files by their place in the package, others (a user's card) by absolute path
        name = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.as_posix()
        h.update(name.encode() + _file_hash(str(f)).encode())
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


#: the folders of a report that it writes files into (relative to ``--out``)
REPORT_FOLDERS = (".", "evidence", "figures", ".cache")
#: a report is written into ``--out/.staging-<pid>`` first, then moved into place
STAGING_PREFIX = ".staging-"


def remove_stale_tmp(folder: Path) -> int:
    """Delete the temporary files of the report's own atomic writes
    (:func:`zascheck.io.atomic_write_text`: ``.<name>.<random>.tmp``) that a
    hard kill (SIGKILL) may have left in the report's folders
    (:data:`REPORT_FOLDERS`, not their subfolders: a user's own files
    elsewhere under ``--out`` are never touched), and the staging folders
    (``.staging-<pid>``) of a report killed before it moved its files into
    place; returns how many.  Called with the report's lock held, so no
    staging folder found belongs to a live report."""
    n = 0
    for st in folder.glob(STAGING_PREFIX + "*"):
        if st.is_dir() and not st.is_symlink() and st.name[len(STAGING_PREFIX):].isdigit():
            shutil.rmtree(st, ignore_errors=True)
            n += 1
    for sub in REPORT_FOLDERS:
        d = folder / sub
        if not d.is_dir() or (d.is_symlink() and sub != "."):
            continue
        for p in d.glob(".*.*.tmp"):
            if p.is_file() and not p.is_symlink():
                with contextlib.suppress(OSError):
                    p.unlink()
                    n += 1
    return n
