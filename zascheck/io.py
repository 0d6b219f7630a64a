"""File input and atomic output.

Every file zascheck writes goes through :func:`atomic_write_bytes`: the data
is written to a temporary file in the destination's folder, flushed and
fsynced, then moved over the destination with :func:`os.replace`, so a reader
(or a crash) never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from zascheck.errors import InputError

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_text", "read_matrix"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # the usual permissions, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n"
    )


def _as_doubles(p: Path, orig: np.ndarray) -> np.ndarray:
    """``orig`` (integers or floats of any width) as float64, refused with
    :class:`InputError` naming the first entry float64 would change (an integer
    above ``2^53``, a long double with more bits or outside the double range):
    a check must run on the target as given, not on a rounded one.  NaN and
    infinite entries are left for the caller to refuse."""
    with np.errstate(all="ignore"):
        arr = orig.astype(float)
    if orig.dtype == np.float64 or orig.size == 0:
        return arr
    if orig.dtype.kind in "iu":
        # up to 2^53 every integer is a double; 2^53 + 1 rounds to 2^53, so test from there
        big = np.flatnonzero(np.abs(arr) >= 2.0**53)
        bad: int | None = next(
            (int(i) for i in big if int(arr.flat[i]) != int(orig.flat[i])), None
        )
    else:
        same = (arr.astype(orig.dtype) == orig) | ~np.isfinite(orig)
        bad = int(np.flatnonzero(~same)[0]) if not same.all() else None
    if bad is not None:
        raise InputError(
            f"{p}: entry {orig.flat[bad]} is not a double (float64 would make it "
            f"{float(arr.flat[bad])!r}); give float64 values so the check runs on the target as given"
        )
    return arr


def read_matrix(path: str | os.PathLike[str], *, square: bool = True) -> np.ndarray:
    """Read a target matrix from ``.npy``, ``.csv`` or ``.json``.

    JSON may be a list of rows or an object with a ``"phi"`` key holding one.
    Raises :class:`InputError` naming the problem (missing file, bad format,
    not 2-D, not square, NaN/inf).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"cannot read {p}: no such file")
    if p.is_dir():
        raise InputError(f"cannot read {p}: it is a directory")
    if not p.is_file():
        raise InputError(f"cannot read {p}: not a regular file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            with open(p, "rb") as fh:
                if fh.read(6) != b"\x93NUMPY":  # numpy would call any other file pickled
                    raise InputError(f"cannot read {p}: not a .npy file (no NumPy header)")
            arr = np.load(p, allow_pickle=False)
        elif suffix == ".csv":
            with warnings.catch_warnings():  # an empty file: refused below, in one line
                warnings.simplefilter("ignore", UserWarning)
                arr = np.loadtxt(p, delimiter=",", ndmin=2, dtype=float)
        elif suffix == ".json":
            from zascheck.spec import check_matrix, parse_json

            obj = parse_json(p.read_text(encoding="utf-8"), f"cannot read {p}")
            if isinstance(obj, dict):
                if "phi" not in obj:
                    raise InputError(f"{p}: JSON object has no 'phi' key")
                obj = obj["phi"]
            depth, x = 0, obj
            while isinstance(x, list):
                depth, x = depth + 1, (x[0] if x else None)
            if depth > 2:
                raise InputError(f"{p}: the target must be a 2-D matrix, got {depth} levels of lists")
            check_matrix(str(p), obj if depth == 2 else [obj] if depth == 1 else [[obj]])
            arr = np.array(obj, dtype=float)  # check_matrix refused integers above 2^53
        else:
            raise InputError(
                f"cannot read {p}: unknown format {suffix!r} (use .npy, .csv or .json)"
            )
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"cannot read {p}: too large to hold in memory") from None
    except (OSError, ValueError, TypeError, EOFError, RecursionError, json.JSONDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read {p}: {msg}") from None
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{p}: entries must be numbers, got dtype {arr.dtype}")
    arr = _as_doubles(p, arr)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.ndim != 2:
        raise InputError(f"{p}: the target must be a 2-D matrix, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{p}: the target is empty")
    if square and arr.shape[0] != arr.shape[1]:
        raise InputError(f"{p}: the target must be square (d x d), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{p}: the target contains NaN or infinite entries")
    return arr
