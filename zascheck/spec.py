"""The problem specification: every user input validated once, before any work.

What a user gives (``--phi FILE``, ``--case JSON``, ``--precision``, ``--seed``,
output paths) is checked here and either accepted exactly or refused with an
:class:`~zascheck.errors.InputError` whose one-line message names the input,
what was expected and what was given.  Nothing is coerced silently: a number
given as a string, a boolean where a number is expected, a ragged matrix, an
empty list where the check needs cases, an integer too large for a double, a
non-finite number, a key no method of the check uses, are all refused.

The schema of a check's ``--case`` is inferred from its own budgets and
controls (the value types it runs with), refined by :data:`KNOWN` for the
parameters every family shares (``eta``, ``L``, ``depths``, ``times``, ...).
"""

from __future__ import annotations

import contextlib

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zascheck.arith import MIN_PRECISION
from zascheck.errors import InputError

__all__ = [
    "KNOWN",
    "MAX_DEPTH",
    "MAX_PRECISION",
    "check_matrix",
    "check_output_path",
    "parse_json",
    "validate_case",
    "validate_nested_case",
]

#: the highest working precision the mp and ball code paths are tested at (bits)
MAX_PRECISION = 1024
#: the largest depth any check accepts (a GD step at depth L costs 3(L-1) products)
MAX_DEPTH = 100_000
#: the largest width (d x d matrices; ball products cost O(d^3) at high precision)
MAX_WIDTH = 512
#: integers beyond this are refused: they cannot be held exactly by a double
MAX_INT = 2**53

#: shared parameters: (kind, lower bound or None)
KNOWN: dict[str, tuple[str, float | None]] = {
    "eta": ("pos-number", None),
    "L": ("int", 1),
    "d": ("int", 1),
    "depths": ("int-list", 1),
    "steps": ("int", 0),
    "max_steps": ("int", 0),
    "iters": ("int", 1),
    "examples": ("int", 1),
    "times": ("num-list", 0),
    "bits": ("int", MIN_PRECISION),
    "prec": ("int", MIN_PRECISION),
    "seed": ("int", 0),
    "seeds": ("int", 1),
    "n_random": ("int", 0),
    "denominator": ("int", 1),
    "samples": ("int", 1),
    "n_inits": ("int", 1),
    "bisections": ("int", 0),
    "eps": ("unit-open", None),
}


def _refuse(where: str, expected: str, got: Any) -> InputError:
    shown = json.dumps(got) if isinstance(got, (str, bool)) or got is None else repr(got)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    kind = type(got).__name__
    kind = {
        "str": "a string",
        "bool": "a boolean",
        "NoneType": "null",
        "list": "a list",
        "dict": "an object",
        "int": "an integer",
        "float": "a number",
    }.get(kind, kind)
    return InputError(f"{where}: expected {expected}, got {shown} ({kind})")


def parse_json(text: str, what: str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity`` literals, numbers that
    overflow a double and duplicate keys, naming ``what`` in the message."""

    def constant(name: str) -> Any:
        raise InputError(f"{what}: {name} is not a number zascheck accepts (finite numbers only)")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise InputError(f"{what}: key {k!r} appears twice")
            out[k] = v
        return out

    def number(s: str) -> float:
        x = float(s)
        if not math.isfinite(x):
            raise InputError(f"{what}: {s} overflows a double")
        return x

    try:
        return json.loads(
            text, parse_constant=constant, object_pairs_hook=pairs, parse_float=number
        )
    except RecursionError:
        raise InputError(f"{what}: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what}: not valid JSON: {exc.msg} (line {exc.lineno} col {exc.colno})"
        ) from None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_number(where: str, v: Any, lo: float | None, positive: bool = False) -> None:
    if not _is_num(v):
        raise _refuse(where, "a number", v)
    if isinstance(v, int) and abs(v) > MAX_INT:
        raise _refuse(where, "a number of magnitude <= 2^53 (exact in a double)", v)
    if not math.isfinite(float(v)):
        raise _refuse(where, "a finite number", v)
    if positive and not v > 0:
        raise _refuse(where, "a positive finite number", v)
    if lo is not None and v < lo:
        raise _refuse(where, f"a number >= {lo:g}", v)


def _check_rational(where: str, v: str) -> None:
    """An exact positive rational written ``"p/q"`` or as a decimal (exact checks)."""
    from fractions import Fraction

    try:
        q = Fraction(v)
    except (ValueError, ZeroDivisionError):
        raise _refuse(where, 'a positive number or an exact rational "p/q"', v) from None
    if not q > 0:
        raise _refuse(where, "a positive rational", v)


def _check_int(where: str, v: Any, lo: float | None) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _refuse(where, "an integer" + (f" >= {lo:g}" if lo is not None else ""), v)
    if lo is not None and v < lo:
        raise _refuse(where, f"an integer >= {lo:g}", v)
    if abs(v) > MAX_INT:
        raise _refuse(where, "an integer of magnitude <= 2^53", v)


def check_matrix(where: str, v: Any) -> None:
    """A non-empty rectangular list of rows of finite numbers."""
    if not isinstance(v, list) or not v or not all(isinstance(r, list) for r in v):
        raise _refuse(where, "a matrix (a non-empty list of rows)", v)
    width = len(v[0])
    if width == 0:
        raise _refuse(where, "a matrix with at least one column", v)
    for i, row in enumerate(v):
        if len(row) != width:
            raise InputError(
                f"{where}: ragged matrix: row 0 has {width} entries, row {i} has {len(row)}"
            )
        for j, x in enumerate(row):
            _check_number(f"{where}[{i}][{j}]", x, None)


def _kind_of(samples: list[Any]) -> str:
    """The value kind a parameter takes in a check's own budgets and controls."""
    vals = [s for s in samples if s is not None]
    if not vals:
        return "any"
    if all(isinstance(s, bool) for s in vals):
        return "bool"
    if all(isinstance(s, int) and not isinstance(s, bool) for s in vals):
        return "int"
    if all(_is_num(s) for s in vals):
        return "number"
    if all(isinstance(s, str) for s in vals):
        return "str"
    if all(isinstance(s, dict) for s in vals):
        return "dict"
    if all(isinstance(s, list) for s in vals):
        return "list"
    return "any"


def _finite_everywhere(where: str, v: Any) -> None:
    """Numbers anywhere inside ``v`` are finite and exact in a double."""
    if isinstance(v, dict):
        for k, x in v.items():
            _finite_everywhere(f"{where}.{k}", x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _finite_everywhere(f"{where}[{i}]", x)
    elif _is_num(v):
        _check_number(where, v, None)


def _validate_value(where: str, key: str, v: Any, samples: list[Any]) -> None:
    if key in ("phi", "X", "Y", "target") and isinstance(v, list):
        check_matrix(where, v)
        return
    known = KNOWN.get(key)
    if known is not None and v is not None:
        kind, lo = known
        if kind == "pos-number":
            if isinstance(v, str) and any(isinstance(s, str) for s in samples):
                _check_rational(where, v)
            else:
                _check_number(where, v, None, positive=True)
        elif kind == "int":
            _check_int(where, v, lo)
        elif kind == "unit-open":
            _check_number(where, v, None)
            if not 0 < v < 1:
                raise _refuse(where, "a number in (0, 1)", v)
        elif kind in ("int-list", "num-list"):
            if not isinstance(v, list) or not v:
                raise _refuse(where, "a non-empty list", v)
            for i, x in enumerate(v):
                (_check_int if kind == "int-list" else _check_number)(f"{where}[{i}]", x, lo)
        return
    kind = _kind_of(samples)
    if v is None:
        if samples and all(s is not None for s in samples):
            raise _refuse(where, "a value (the check has no default for null)", v)
        return
    if kind == "bool" and not isinstance(v, bool):
        raise _refuse(where, "true or false", v)
    if kind == "int":
        _check_int(where, v, None)
    elif kind == "number":
        _check_number(where, v, None)
    elif kind == "str" and not isinstance(v, str):
        raise _refuse(where, "a name (a string)", v)
    elif kind == "list":
        if not isinstance(v, list):
            raise _refuse(where, "a list", v)
        # empty is refused only where no sample is empty (a drawn search case may be: d = 1)
        if not v and samples and all(isinstance(s, list) and s for s in samples):
            raise _refuse(where, "a non-empty list", v)
        elems = [e for s in samples if isinstance(s, list) for e in s]
        for i, x in enumerate(v):
            if isinstance(x, dict) and all(isinstance(e, dict) for e in elems) and elems:
                _validate_dict(f"{where}[{i}]", x, elems, require=True)
            else:
                _validate_value(f"{where}[{i}]", key, x, elems)
    elif kind == "dict":
        if not isinstance(v, dict):
            raise _refuse(where, "an object", v)
        _validate_dict(where, v, [s for s in samples if isinstance(s, dict)])
    else:
        _finite_everywhere(where, v)


def _validate_dict(
    where: str, d: dict[str, Any], schemas: list[dict[str, Any]], *, require: bool = False
) -> None:
    """Keys of ``d`` against the parameter sets ``schemas``; with ``require``,
    the keys every schema has must be present (an element of a list of cases)."""
    allowed = {k for s in schemas for k in s}
    if require and schemas:
        needed = sorted(set.intersection(*(set(s) for s in schemas)) - set(d))
        if needed:
            raise InputError(
                f"{where} lacks {', '.join(needed)} (each case sets: "
                f"{', '.join(sorted(set.intersection(*(set(s) for s in schemas))))})"
            )
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise InputError(
            f"{where} sets {', '.join(unknown)}, which is not taken here "
            f"(it takes: {', '.join(sorted(allowed)) or 'nothing'})"
        )
    for k, v in d.items():
        _validate_value(f"{where}.{k}", k, v, [s[k] for s in schemas if k in s])


def validate_case(
    key: str, case: dict[str, Any], schemas: Iterable[dict[str, Any]], extra: Iterable[str] = ()
) -> None:
    """Validate ``--case`` for check ``key`` against its budget and control
    parameter sets ``schemas`` (plus the ``extra`` keys it also takes): unknown
    keys, wrong types, ragged matrices, non-finite or oversized numbers, empty
    lists are refused with an :class:`InputError` naming the key path."""
    schemas = [dict(s) for s in schemas]
    for k in extra:
        schemas.append({k: None})
    _validate_dict(f"--case for {key}", case, schemas)


def check_output_path(path: str | os.PathLike[str], flag: str, *, folder: bool = False) -> Path:
    """Refuse, before any work, an output path that cannot be written: an
    existing directory where a file is wanted (or a file where a folder is), a
    parent folder that does not exist or is not writable."""
    p = Path(path)
    if str(path) == "":
        raise InputError(f"{flag}: the path is empty")
    if not folder and (str(path) == "-" or str(path).endswith(("/", os.sep))):
        raise InputError(f"{flag} {path}: give a file name (stdout carries the table; a path "
                         "ending in '/' names a folder)")
    if not folder and (p.is_symlink() or (p.exists() and not p.is_file())):
        raise InputError(
            f"{flag} {p}: not a regular file (a device, link or special file is never replaced)"
        )
    if folder:
        if p.exists() and not p.is_dir():
            raise InputError(f"{flag} {p} is a file, not a folder")
        probe = p if p.exists() else p.parent
        if not probe.exists():
            # a report folder may be created, but its parent must exist
            raise InputError(f"{flag} {p}: folder {probe} does not exist")
        if not probe.is_dir():
            raise InputError(f"{flag} {p}: {probe} is a file, not a folder")
    else:
        if p.is_dir():
            raise InputError(f"{flag} {p} is a directory")
        probe = p.parent
        if not probe.exists():
            raise InputError(f"{flag} {p}: folder {probe} does not exist")
        if not probe.is_dir():
            raise InputError(f"{flag} {p}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK) or not _can_create_in(probe):
        raise InputError(f"{flag} {p}: folder {probe} is not writable")
    if not folder and p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{flag} {p}: the file exists and is not writable")
    return p


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be created in ``folder`` (``os.access`` says yes
    to root everywhere, also in ``/proc`` and ``/sys``): create and delete a
    temporary file, as the atomic writes will."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=".zascheck-probe.", suffix=".tmp", dir=folder)
    except OSError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)
    return True


def validate_nested_case(where: str, inner: Any, drawn: list[dict[str, Any]]) -> None:
    """The nested ``case`` of a ``:search`` method against ``drawn``, cases its
    property's strategy generated: an object with the keys every drawn case
    has (others may be optional), no key no drawn case has, each value of the
    kind drawn.  Raises :class:`InputError` naming the key path."""
    if not isinstance(inner, dict):
        raise _refuse(where, "an object (one case of the property)", inner)
    if drawn:
        _validate_dict(where, inner, drawn, require=True)
