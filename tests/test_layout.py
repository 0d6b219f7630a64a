"""Layout rules of the package (CONTRIBUTING.md): no function over 80 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import zascheck

PKG = Path(zascheck.__file__).resolve().parent
MAX_LINES = 80


def test_no_function_over_80_lines():
    long = []
    for f in sorted(PKG.rglob("*.py")):
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = n.end_lineno - n.lineno + 1
                if size > MAX_LINES:
                    long.append(f"{f.relative_to(PKG.parent)}:{n.lineno} {n.name} ({size} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)
