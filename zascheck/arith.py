"""One arithmetic layer for every formula in zascheck.

Every piece of mathematics in the package (the model, the dynamics, the checks)
is written once against the small interface of :class:`Backend`, and runs in
any of five arithmetics:

``float64``
    numpy, IEEE double.  Fast; a verdict from it is "held numerically".
``mp``
    mpmath at a chosen precision, in a *local* :class:`mpmath.MPContext`
    (the global ``mpmath.mp`` is never touched).
``ball``
    python-flint ``arb_mat`` at a chosen precision.  Every number is a ball
    that encloses the exact value of the computation on exact inputs, so a
    comparison answers ``True``, ``False`` or ``None`` (unknown).  Verdicts
    proven this way are ``certified``.
``exact``
    python-flint ``fmpq_mat``: exact rational arithmetic, for identities on
    small cases.
``iv64``
    float64 midpoint-radius intervals over numpy arrays
    (:mod:`zascheck.iv64`): certified like ``ball``, at 53 bits and near
    float64 speed; the first rung of the rigorous escalation ladder.

Matrices are the backend's native objects (``ndarray``, ``mpmath.matrix``,
``arb_mat``, ``fmpq_mat``); scalars likewise.  Only the methods below are used
by the rest of the package, so adding a backend means implementing them.

Precision is always explicit: ``mp`` carries its own context; ``ball`` sets
flint's precision only inside :meth:`Backend.session` (restored in
``finally``).  Outside a session arb still encloses, only with wider balls.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any, cast

import numpy as np

from zascheck.errors import InputError

__all__ = [
    "ARITHMETICS",
    "Backend",
    "BallBackend",
    "ExactBackend",
    "Float64Backend",
    "MpBackend",
    "backend",
]

ARITHMETICS = ("float64", "mp", "ball", "exact", "iv64")
MIN_PRECISION = 53


class Backend:
    """Interface shared by all arithmetics (documented on the float64 one)."""

    name: str = "?"
    prec: int = 53
    #: True when comparisons are decided by enclosure (ball) or exactly (exact).
    rigorous: bool = False
    exact: bool = False

    # -- context -----------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Backend]:
        """Scope in which this backend's precision is in force."""
        yield self

    @property
    def unit_roundoff(self) -> float:
        """u = 2**-prec (0 for exact arithmetic)."""
        return 0.0 if self.exact else 2.0 ** (-self.prec)

    def gamma(self, n: int) -> float:
        """Higham's gamma_n = n u / (1 - n u): the relative error bound of an
        n-term inner product (or a chain of n roundings) at this precision."""
        u = self.unit_roundoff
        nu = n * u
        if nu >= 1:
            return math.inf
        return nu / (1 - nu)

    # -- construction --------------------------------------------------------
    def matrix(self, a: Any) -> Any:
        raise NotImplementedError

    def scalar(self, x: Any) -> Any:
        raise NotImplementedError

    def eye(self, n: int) -> Any:
        raise NotImplementedError

    def zeros(self, r: int, c: int) -> Any:
        raise NotImplementedError

    # -- structure -----------------------------------------------------------
    def shape(self, a: Any) -> tuple[int, int]:
        raise NotImplementedError

    # -- algebra -------------------------------------------------------------
    def mm(self, a: Any, b: Any) -> Any:
        return a * b

    # -- storage reuse (speed only; a backend without in-place arithmetic
    # ignores ``out`` and every result is as without it) ---------------------
    def product_buffers(self, a: Any, b: Any, n: int) -> list[Any] | None:
        """``n`` buffers a later :meth:`mm_into` may write products shaped like
        ``a b`` into; ``None`` when this backend has no in-place arithmetic
        (the default)."""
        return None

    def mm_into(self, a: Any, b: Any, out: Any = None) -> Any:
        """``a b``, written into ``out`` (from :meth:`product_buffers`, not aliasing
        ``a`` or ``b``) when the backend can; returns the product either way,
        equal to :meth:`mm`'s."""
        return self.mm(a, b)

    def sub_scaled_into(self, a: Any, s: Any, g: Any, out: Any = None) -> Any:
        """``a - s g`` (as ``sub(a, scale(s, g))``), written into ``out`` when the
        backend can (``out`` may be ``g`` itself, which is then overwritten, but
        not ``a``)."""
        return self.sub(a, self.scale(s, g))

    def sub_scaled_inplace(self, a: Any, s: Any, g: Any) -> Any:
        """``a - s g`` (as ``sub(a, scale(s, g))``), written into ``a`` itself when
        the backend can (then ``g`` is overwritten with ``s g``: a scratch the
        caller does not need afterwards); returns the result either way (a new
        value for a backend without in-place arithmetic)."""
        return self.sub(a, self.scale(s, g))

    def copy_into(self, a: Any, out: Any = None) -> Any:
        """``a`` copied into ``out`` (from :meth:`product_buffers`) when the
        backend can; returns ``a`` itself otherwise (values are immutable)."""
        return a

    def T(self, a: Any) -> Any:
        raise NotImplementedError

    def add(self, a: Any, b: Any) -> Any:
        return a + b

    def sub(self, a: Any, b: Any) -> Any:
        return a - b

    def scale(self, s: Any, a: Any) -> Any:
        return s * a

    def entries(self, a: Any) -> list[Any]:
        raise NotImplementedError

    def fro2(self, a: Any) -> Any:
        """Squared Frobenius norm, sum of a_ij**2."""
        s = self.scalar(0)
        for x in self.entries(a):
            s += x * x
        return s

    def trace(self, a: Any) -> Any:
        r, c = self.shape(a)
        s = self.scalar(0)
        for i in range(min(r, c)):
            s += a[i, i]
        return s

    # -- scalar functions ------------------------------------------------------
    def exp(self, x: Any) -> Any:
        raise NotImplementedError

    def sqrt(self, x: Any) -> Any:
        raise NotImplementedError

    def log(self, x: Any) -> Any:
        raise NotImplementedError

    def power(self, x: Any, n: int) -> Any:
        return x**n

    # -- comparisons ---------------------------------------------------------
    def le(self, a: Any, b: Any) -> bool | None:
        """a <= b.  ``None`` means the arithmetic cannot decide (ball only)."""
        return bool(a <= b)

    def lt(self, a: Any, b: Any) -> bool | None:
        return bool(a < b)

    def is_finite(self, a: Any) -> bool:
        raise NotImplementedError

    # -- conversion ----------------------------------------------------------
    def to_float(self, x: Any) -> float:
        return float(x)

    def radius(self, x: Any) -> float:
        """Radius of the enclosure of a scalar (0 outside ball arithmetic)."""
        return 0.0

    def radius_scalar(self, x: Any) -> Any:
        """Radius of the enclosure of a scalar as a backend scalar (exact 0
        outside ball arithmetic): unlike :meth:`radius` it is not rounded
        through a float, so it neither underflows to 0 nor overflows."""
        return self.scalar(0)

    def upper(self, x: Any) -> Any:
        """An upper bound of the real scalar ``x`` as a backend scalar: the
        upper end of its ball in ball arithmetic, ``x`` itself otherwise."""
        return x

    def midpoint(self, a: Any) -> Any:
        """The matrix of midpoints (``a`` itself outside ball arithmetic)."""
        return a

    def max_radius(self, a: Any) -> float:
        """Largest entry radius of a matrix (0 outside ball arithmetic)."""
        if not self.rigorous or self.exact:
            return 0.0
        return max((self.radius(x) for x in self.entries(a)), default=0.0)

    def to_numpy(self, a: Any) -> np.ndarray:
        r, c = self.shape(a)
        return np.array(
            [[self.to_float(a[i, j]) for j in range(c)] for i in range(r)], dtype=float
        ).reshape(r, c)

    def to_str(self, x: Any, digits: int = 20) -> str:
        return repr(self.to_float(x))

    # -- spectra (symmetric input) -----------------------------------------------
    def eigvalsh(self, s: Any) -> list[float]:
        """Eigenvalues of a symmetric matrix, ascending, as floats (midpoints)."""
        return [float(v) for v in np.linalg.eigvalsh(self.to_numpy(s))]

    def norm2(self, a: Any) -> float:
        """Spectral norm (largest singular value) as a float."""
        return float(np.linalg.norm(self.to_numpy(a), 2))

    def describe(self) -> str:
        return f"{self.name}@{self.prec}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} prec={self.prec}>"


def _check_array(a: Any, ndim: int = 2) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim != ndim:
        what = "a 2-D matrix" if ndim == 2 else "a stack of matrices (n, r, c)"
        raise InputError(f"expected {what}, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("matrix contains NaN or infinite entries")
    return arr


def _as_fraction(x: Any) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    if isinstance(x, str):
        return Fraction(x)
    xf = float(x)
    if not math.isfinite(xf):
        raise InputError(f"non-finite number {x!r}")
    return Fraction(xf)


class Float64Backend(Backend):
    """IEEE double precision through numpy."""

    name = "float64"
    prec = 53

    def matrix(self, a: Any) -> np.ndarray:
        if isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 2:
            if not np.isfinite(a).all():
                raise InputError("matrix contains NaN or infinite entries")
            return a.copy()
        if hasattr(a, "tolist") and not isinstance(a, np.ndarray):  # flint / mpmath
            return _check_array([[float(x) for x in row] for row in _rows(a)])
        return _check_array(a)

    def scalar(self, x: Any) -> float:
        return float(_as_fraction(x)) if isinstance(x, (Fraction, str)) else float(x)

    def eye(self, n: int) -> np.ndarray:
        return np.eye(n)

    def zeros(self, r: int, c: int) -> np.ndarray:
        return np.zeros((r, c))

    def shape(self, a: np.ndarray) -> tuple[int, int]:
        return cast("tuple[int, int]", a.shape)  # 2-D by construction

    def mm(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    #: smallest product (entries) given buffers: below it numpy's allocation
    #: is cheaper than the bookkeeping (benchmarks/README.md)
    BUFFER_MIN_ENTRIES = 2048

    def product_buffers(self, a: np.ndarray, b: np.ndarray, n: int) -> list[np.ndarray] | None:
        """``n`` C-ordered arrays of the shape of ``a @ b``, views into one
        contiguous block (numpy backs blocks of 4 MB and more with transparent
        huge pages, so a chain of products over all of them has few TLB
        misses: 1.5x faster than separate arrays at ``L = 1000, d = 100``);
        ``None`` when one matrix of the product (one slice of a stack) has
        fewer than :attr:`BUFFER_MIN_ENTRIES` entries, or for operands of
        different ranks.  The rule looks at one matrix, not the stack, so a
        stack and each of its slices alone take the same route (the fused GD
        step rounds differently from the plain one: :func:`zascheck.model.descend`)."""
        shape = (*a.shape[:-1], b.shape[-1])
        if a.ndim != b.ndim or math.prod(shape[-2:]) < self.BUFFER_MIN_ENTRIES:
            return None
        return list(np.empty((n, *shape)))

    def mm_into(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a @ b`` written into ``out`` when given: the same BLAS call as
        :meth:`mm` (bit for bit the same product), without allocating; a
        freshly allocated 80 KB result costs page faults that are as slow as
        the 100 x 100 product itself (``benchmarks/README.md``)."""
        if out is None or out.shape != (*a.shape[:-1], b.shape[-1]):
            return self.mm(a, b)
        return np.matmul(a, b, out=out)

    def sub_scaled_into(
        self, a: np.ndarray, s: Any, g: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """``a - s g`` with the roundings of ``sub(a, scale(s, g))`` (``s g``
        rounded, then the difference), written into ``out`` when given."""
        if out is None or out.shape != a.shape or g.shape != a.shape:
            return a - s * g
        np.multiply(g, s, out=out)
        return np.subtract(a, out, out=out)

    def sub_scaled_inplace(self, a: np.ndarray, s: Any, g: np.ndarray) -> np.ndarray:
        """``a - s g`` with the roundings of ``sub(a, scale(s, g))`` (``s g``
        rounded into ``g``'s storage, then the difference rounded into ``a``'s);
        ``g`` may be a transposed view (:func:`zascheck.model.descend` passes
        ``G_l`` as the transpose of ``G_l^T``): each entry is rounded the same
        way, the strided subtraction costs a few microseconds more at
        ``d = 100`` than a contiguous one, far less than the transposed product
        it saves (``benchmarks/README.md``)."""
        if g.shape != a.shape:
            return a - s * g
        np.multiply(g, s, out=g)
        return np.subtract(a, g, out=a)

    def copy_into(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a`` copied into ``out`` (same shape), or a fresh copy without it."""
        if out is None or out.shape != a.shape:
            return a.copy()
        np.copyto(out, a)
        return out

    def T(self, a: np.ndarray) -> np.ndarray:
        return a.T

    def entries(self, a: np.ndarray) -> list[float]:
        return a.ravel().tolist()

    def fro2(self, a: np.ndarray) -> float:
        v = a.ravel()
        return float(v @ v)

    def trace(self, a: np.ndarray) -> float:
        return float(np.trace(a))

    def exp(self, x: float) -> float:
        return math.exp(x)

    def sqrt(self, x: float) -> float:
        return math.sqrt(x)

    def log(self, x: float) -> float:
        return math.log(x)

    def is_finite(self, a: Any) -> bool:
        if isinstance(a, float):  # a loss or a norm: math is 10 us faster than numpy here
            return math.isfinite(a)
        return bool(np.all(np.isfinite(a)))

    def to_numpy(self, a: np.ndarray) -> np.ndarray:
        return np.array(a, dtype=float)

    def eigvalsh(self, s: np.ndarray) -> list[float]:
        return np.linalg.eigvalsh((s + s.T) / 2).tolist()


class StackedFloat64Backend(Float64Backend):
    """IEEE double precision on a stack of ``n`` independent networks at once:
    every "matrix" is an array of shape ``(n, r, c)``, products are
    ``numpy.matmul`` slice by slice (the same BLAS call per slice as
    :class:`Float64Backend`, so each slice evolves bit for bit as it would
    alone) and :meth:`fro2` is the sum over the stack (the loss of the batch
    is the sum of the run losses).  Used by
    :func:`zascheck.experiments.batch_first_hits`; float64 only."""

    name = "float64"

    def matrix(self, a: Any) -> np.ndarray:
        return _check_array(np.array(a, dtype=float), ndim=3)

    def shape(self, a: np.ndarray) -> tuple[int, int]:
        return cast("tuple[int, int]", a.shape[-2:])

    def T(self, a: np.ndarray) -> np.ndarray:
        return np.swapaxes(a, -1, -2)

    def fro2(self, a: np.ndarray) -> float:
        return float(np.sum(self.fro2_each(a)))

    def fro2_each(self, a: np.ndarray) -> np.ndarray:
        """``||A_i||_F^2`` of every slice, shape ``(n,)``, each summed as
        :meth:`Float64Backend.fro2` sums it (so a slice's loss is bit for bit
        its solo loss)."""
        return np.array([v @ v for v in a.reshape(a.shape[0], -1)])

    def entries(self, a: np.ndarray) -> list[float]:
        return a.ravel().tolist()

    def trace(self, a: np.ndarray) -> float:
        return float(np.trace(a, axis1=-2, axis2=-1).sum())

    def eigvalsh(self, s: np.ndarray) -> list[float]:
        raise InputError("eigenvalues of a stack are not defined here")


def _rows(a: Any) -> list[list[Any]]:
    """Nested rows of an mpmath / flint matrix."""
    if hasattr(a, "tolist"):
        return a.tolist()
    return [list(r) for r in a]


class MpBackend(Backend):
    """mpmath at ``prec`` bits, in a local context."""

    name = "mp"

    def __init__(self, prec: int = 113) -> None:
        import mpmath

        if prec < MIN_PRECISION:
            raise InputError(f"precision {prec} bits is below the minimum of {MIN_PRECISION}")
        self.prec = int(prec)
        self.ctx = mpmath.MPContext()
        self.ctx.prec = self.prec

    def _conv(self, x: Any) -> Any:
        if isinstance(x, Fraction):
            return self.ctx.mpf(x.numerator) / x.denominator
        if isinstance(x, str):
            return self.ctx.mpf(x)
        if type(x).__name__ in ("fmpq",):
            return self.ctx.mpf(int(x.p)) / int(x.q)
        if type(x).__name__ in ("arb",):
            return self.ctx.mpf(float(x.mid()))  # lossy; only for display paths
        v = self.ctx.mpf(x)
        if not self.ctx.isfinite(v):
            raise InputError(f"non-finite number {x!r}")
        return v

    def matrix(self, a: Any) -> Any:
        if isinstance(a, np.ndarray):
            arr = _check_array(a)
            rows = arr.tolist()
        else:
            rows = _rows(a) if not isinstance(a, (list, tuple)) else [list(r) for r in a]
        m = self.ctx.matrix(len(rows), len(rows[0]) if rows else 0)
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                m[i, j] = self._conv(x)
        return m

    def scalar(self, x: Any) -> Any:
        return self._conv(x)

    def eye(self, n: int) -> Any:
        return self.ctx.eye(n)

    def zeros(self, r: int, c: int) -> Any:
        return self.ctx.zeros(r, c)

    def shape(self, a: Any) -> tuple[int, int]:
        return (a.rows, a.cols)

    def T(self, a: Any) -> Any:
        return a.T

    def entries(self, a: Any) -> list[Any]:
        return [a[i, j] for i in range(a.rows) for j in range(a.cols)]

    def exp(self, x: Any) -> Any:
        return self.ctx.exp(x)

    def sqrt(self, x: Any) -> Any:
        return self.ctx.sqrt(x)

    def log(self, x: Any) -> Any:
        return self.ctx.log(x)

    def is_finite(self, a: Any) -> bool:
        if hasattr(a, "rows"):
            return all(self.ctx.isfinite(x) for x in self.entries(a))
        return bool(self.ctx.isfinite(a))

    def to_str(self, x: Any, digits: int = 20) -> str:
        return self.ctx.nstr(x, digits)

    def eigvalsh(self, s: Any) -> list[float]:
        sym = (s + s.T) * self.ctx.mpf(0.5)
        ev = self.ctx.eigsy(sym, eigvals_only=True)
        return sorted(float(v) for v in ev)


class _FlintMatrices(Backend):
    """What the two python-flint backends share: ``_mat`` is the matrix type
    (``arb_mat`` or ``fmpq_mat``), ``_conv`` converts one scalar."""

    _mat: Any

    def _conv(self, x: Any) -> Any:
        raise NotImplementedError

    def matrix(self, a: Any) -> Any:
        if isinstance(a, self._mat):
            return self._mat(a)
        if isinstance(a, np.ndarray):
            rows = _check_array(a).tolist()
        elif isinstance(a, (list, tuple)):
            rows = [list(r) for r in a]
        else:
            rows = _rows(a)
        r = len(rows)
        c = len(rows[0]) if rows else 0
        return self._mat(r, c, [self._conv(x) for row in rows for x in row])

    def scalar(self, x: Any) -> Any:
        return self._conv(x)

    def eye(self, n: int) -> Any:
        # Building a flint matrix from a Python list costs about as much as a
        # product (11 us at n = 10), and the model asks for I every step: keep
        # one per size and hand out copies (0.6 us), so callers may mutate them.
        cache: dict[int, Any] = self.__dict__.setdefault("_eyes", {})
        if n not in cache:
            cache[n] = self._mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
        return self._mat(cache[n])

    def zeros(self, r: int, c: int) -> Any:
        return self._mat(r, c)

    def shape(self, a: Any) -> tuple[int, int]:
        return (a.nrows(), a.ncols())

    def T(self, a: Any) -> Any:
        return a.transpose()

    def entries(self, a: Any) -> list[Any]:
        return list(a.entries())


class BallBackend(_FlintMatrices):
    """python-flint arb balls at ``prec`` bits: certified enclosures."""

    name = "ball"
    rigorous = True

    def __init__(self, prec: int = 128) -> None:
        import flint

        if prec < MIN_PRECISION:
            raise InputError(f"precision {prec} bits is below the minimum of {MIN_PRECISION}")
        self.prec = int(prec)
        self.flint = flint
        self._mat = flint.arb_mat

    @contextlib.contextmanager
    def session(self) -> Iterator[Backend]:
        ctx = self.flint.ctx
        old = ctx.prec
        ctx.prec = self.prec
        try:
            yield self
        finally:
            ctx.prec = old

    def _conv(self, x: Any) -> Any:
        arb = self.flint.arb
        if isinstance(x, arb):
            return x
        if isinstance(x, Fraction):
            return arb(x.numerator) / x.denominator
        if isinstance(x, (int, np.integer)):
            return arb(int(x))
        if isinstance(x, str):
            return arb(x)
        if type(x).__name__ == "fmpq":
            return arb(self.flint.fmpz(x.p)) / arb(self.flint.fmpz(x.q))
        xf = float(x)
        if not math.isfinite(xf):
            raise InputError(f"non-finite number {x!r}")
        return arb(xf)  # a double is an exact dyadic rational: exact ball

    def fro2(self, a: Any) -> Any:
        r, c = a.nrows(), a.ncols()
        if r * c <= 400:  # small: one C-level Gram product beats a Python loop
            g = a.transpose() * a if c <= r else a * a.transpose()
            return g.trace()
        s = self.flint.arb(0)
        for x in a.entries():
            s += x * x
        return s

    def exp(self, x: Any) -> Any:
        return self._conv(x).exp()

    def sqrt(self, x: Any) -> Any:
        return self._conv(x).sqrt()

    def log(self, x: Any) -> Any:
        return self._conv(x).log()

    def le(self, a: Any, b: Any) -> bool | None:
        a, b = self._conv(a), self._conv(b)
        if a <= b:
            return True
        if a > b:
            return False
        return None

    def lt(self, a: Any, b: Any) -> bool | None:
        a, b = self._conv(a), self._conv(b)
        if a < b:
            return True
        if a >= b:
            return False
        return None

    def is_finite(self, a: Any) -> bool:
        if isinstance(a, self.flint.arb_mat):
            return all(x.is_finite() for x in a.entries())
        return bool(self._conv(a).is_finite())

    def to_float(self, x: Any) -> float:
        return float(self._conv(x).mid())

    def radius(self, x: Any) -> float:
        return float(self._conv(x).rad())

    def radius_scalar(self, x: Any) -> Any:
        return self._conv(x).rad()

    def upper(self, x: Any) -> Any:
        return self._conv(x).upper()

    def to_str(self, x: Any, digits: int = 20) -> str:
        return self._conv(x).str(digits, radius=True)

    def eigvalsh(self, s: Any) -> list[float]:
        try:
            ev = s.eig(multiple=True)  # handles repeated eigenvalues (e.g. of I)
        except Exception:
            ev = s.eig(nonstop=True)
        out = [float(v.real.mid()) for v in ev]
        if all(math.isfinite(x) for x in out):
            return sorted(out)
        return MpBackend(self.prec).eigvalsh(MpBackend(self.prec).matrix(self.to_numpy(s)))

    def midpoint(self, a: Any) -> Any:
        return a.mid()


class ExactBackend(_FlintMatrices):
    """Exact rational arithmetic (python-flint ``fmpq_mat``)."""

    name = "exact"
    prec = 0
    rigorous = True
    exact = True

    def __init__(self) -> None:
        import flint

        self.flint = flint
        self._mat = flint.fmpq_mat

    def _conv(self, x: Any) -> Any:
        fmpq = self.flint.fmpq
        if isinstance(x, fmpq):
            return x
        f = _as_fraction(x)
        return fmpq(f.numerator, f.denominator)

    def exp(self, x: Any) -> Any:
        raise TypeError("exp is not rational: use the ball backend")

    def sqrt(self, x: Any) -> Any:
        """Exact square root of a rational square; ``InputError`` otherwise."""
        try:
            return self._conv(x).sqrt()
        except Exception:
            raise InputError(
                f"{x} is not the square of a rational: use ball or mp arithmetic"
            ) from None

    def log(self, x: Any) -> Any:
        raise TypeError("log is not rational: use the ball backend")

    def is_finite(self, a: Any) -> bool:
        return True

    def to_float(self, x: Any) -> float:
        """The nearest double (``+-inf`` beyond the double range, never an error)."""
        x = self._conv(x)
        p, q = int(x.p), int(x.q)
        try:
            return p / q
        except OverflowError:  # beyond the double range (copysign would convert p: overflow)
            return math.inf if p > 0 else -math.inf

    def to_str(self, x: Any, digits: int = 20) -> str:
        return str(self._conv(x))


def backend(arithmetic: str = "float64", prec: int | None = None) -> Backend:
    """Build a backend by name.  ``prec`` is in bits (ignored by float64/exact)."""
    if arithmetic == "float64":
        if prec is not None and prec > 53:
            raise InputError("float64 arithmetic has 53 bits; use 'mp' or 'ball' for more")
        return Float64Backend()
    if arithmetic == "mp":
        return MpBackend(prec or 113)
    if arithmetic == "ball":
        return BallBackend(prec or 128)
    if arithmetic == "exact":
        return ExactBackend()
    if arithmetic == "iv64":  # certified float64 intervals (zascheck/iv64.py)
        if prec is not None and prec > 53:
            raise InputError("iv64 arithmetic has 53 bits; use 'ball' for more")
        from zascheck.iv64 import Iv64Backend

        return Iv64Backend()
    raise InputError(f"unknown arithmetic {arithmetic!r}; choose one of {', '.join(ARITHMETICS)}")


def convert_all(b: Backend, mats: Sequence[Any]) -> list[Any]:
    """Convert a list of matrices (any backend / numpy / nested lists) to ``b``."""
    return [b.matrix(m) for m in mats]
