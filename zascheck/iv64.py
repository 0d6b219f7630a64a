"""``iv64``: certified arithmetic at float64 speed (midpoint-radius intervals).

Every number is a float64 interval that encloses the exact result of the
computation on the exact inputs, so comparisons answer ``True`` / ``False``
/ ``None`` (unknown) like the ``ball`` backend of :mod:`zascheck.arith`, but
at 53 bits and on numpy arrays: a matrix is a :class:`MidRad` (a midpoint
array ``mid`` and a radius array ``rad >= 0``, any leading stack axes), a
scalar an :class:`Iv1` (two Python floats ``lo <= hi``).  Where 53 bits are
not enough the radii grow until a comparison answers ``None``, and the
escalation ladder (:mod:`zascheck.escalate`) moves on to arb balls.

The rounding model (round-to-nearest, the rounding mode is never changed;
``u = 2^-53``, ``eta = 2^-1074`` the smallest subnormal): for doubles ``x, y``

* ``fl(x +- y) = (x +- y)(1 + d)``, ``|d| <= u`` (exact when the result is
  subnormal), and ``|fl(x +- y) - (x +- y)| <= u |fl(x +- y)|``;
* ``fl(x * y) = x y (1 + d) + e``, ``|d| <= u``, ``|e| <= eta / 2``, ``d e = 0``

(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM
2002, Sec. 2.2: Theorem 2.2 and the standard model (2.4), with the
gradual-underflow term of Sec. 2.1; Rump, "Fast interval matrix
multiplication", Numer. Algorithms 61 (2012), Sec. 1, model (1.1)-(1.3) with
``eps = u`` and ``eta``).  From it, for an inner product of length ``n``
evaluated in ANY order, with or without fused multiply-adds (so for every
BLAS kernel),

    |fl(x^T y) - x^T y| <= gamma_n |x|^T |y| + n eta,   gamma_n = n u / (1 - n u)   (I)

(Higham Sec. 3.1: Lemma 3.1 and the forward bound ``gamma_n |x|^T |y|``
that follows it, Sec. 3.5 for matrix products; plus ``n`` product underflows
of at most ``eta / 2`` each, amplified by at most ``(1 + u)^(n-1) <= 2``).
For NONNEGATIVE operands, by induction over the summation tree with the
model ``fl(x op y) = (x op y)/(1 + d)`` (Higham (2.5); a product adds at
most ``eta / 2`` when it underflows, a sum is exact when subnormal; a fused
multiply-add is one such operation),

    x^T y <= (1 + u)^n (fl(x^T y) + n eta / 2),                    (N)
    fl(x^T y) >= x^T y / (1 + u)^n - n eta / 2                     (L)

(every term passes through at most ``n`` roundings, in any order).

The matrix product (:meth:`Iv64Backend.mm`, midpoint-radius as in Rump 2012
and INTLAB, Rump 1999) is

    mid = fl(mA mB),
    rad >= R = |mA| (gamma_n |mB| + rB) + rA (|mB| + rB) + n eta,

which covers (i) the rounding of the midpoint product, by (I), (ii) the
radius terms ``|mA| rB + rA (|mB| + rB)`` (every product of a point of A
and a point of B).  The radius is computed in floating point on nonnegative
operands only (no cancellation), with no rounding step after the product:
one factor carries a PARTNER FORM (:func:`partner_form`)
``F = [m, F1, F2]`` with

    F1 >= kappa_n (gamma_n |m| + r),   F2 >= kappa_n (|m| + r),   kappa_n = (1 + u)^(n + 2)

(:func:`partner_forms` proves it; entrywise, so ``F(A^T) = F(A)^T``), the
other its packed storage ``[m, |m|, r]``, and ONE stacked ``numpy.matmul``
computes ``[mA, |mA|, rA] @ [mB, F1(B), F2(B)]`` (or ``[mA, F1(A), F2(A)]
@ [mB, |mB|, rB]``, the same bound with the roles of the factors
exchanged): ``[mC, S1, S2]``, then ``rad = fl(fl(S1 + S2) + tau_n)``,
``tau_n = (2n + 1) eta`` (exact).  Proof: by (L) for each product of
length ``n`` and two more roundings,

    rad >= (|mA| F1 + rA F2) / (1 + u)^(n + 2) + (tau_n - n eta) / (1 + u)^2
        >= |mA| (gamma_n |mB| + rB) + rA (|mB| + rB) + n eta = R,

since ``F >= kappa_n (...)`` and ``tau_n - n eta = (n + 1) eta >= n eta
(1 + u)^2``.  A layer's partner form is built once per GD step (with the
update that made the layer, :meth:`Iv64Backend.sub_scaled_each`) and serves
both products it enters (``W_l`` and ``W_l^T``).  Sums, scalings, the
update, the squared Frobenius norm and the conversions follow the same
pattern; each function states its bound.  The entrywise loops run compiled
(:mod:`zascheck.iv64_kernels`: the same operations in the same order, no
fastmath); the inner products stay in BLAS, where (I), (N) and (L) hold
for any summation order and with or without fused multiply-adds.

Scalars (:class:`Iv1`) are inf-sup intervals of Python floats, every
endpoint pushed one ulp outward (:mod:`zascheck.rounding`) by the endpoint
formulas of :mod:`zascheck.interval` (``SCALAR``: the same formulas as the
numpy-array intervals of the certificates, on floats); ``exp`` and
``log`` go through an arb ball at 64 bits (libm is not correctly rounded)
and are rounded outward.  Inputs: a double is exact; a ``Fraction``, a
string, a flint ``fmpq`` or ``arb`` is enclosed (outward).  Overflow or NaN
makes the result non-finite: :meth:`Iv64Backend.is_finite` says ``False``
and comparisons answer ``None``.

>>> b = Iv64Backend()
>>> third = b.scalar(1) / 3
>>> b.le(third * 3, 1), b.le(third, b.scalar("0.34"))
(None, True)
>>> a = b.matrix([[0.1, 0.2], [0.3, 0.4]])
>>> p = b.mm(a, a)
>>> b.le(b.fro2(p), 0.5), b.max_radius(p) < 1e-15
(True, True)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from functools import cache
from typing import Any, cast

import numpy as np

from zascheck.arith import Backend
from zascheck.errors import InputError
from zascheck.interval import SCALAR
from zascheck.rounding import ETA, U, dn, dn1, up, up1

__all__ = [
    "Iv1",
    "Iv64Backend",
    "MidRad",
    "gamma_up",
    "infl",
    "infl_constants",
    "partner_form",
    "partner_forms",
    "stacked",
    "sub_scaled_stack",
]


# ---------------------------------------------------------------------------
# Rounding-error bookkeeping for nonnegative quantities
# ---------------------------------------------------------------------------
@cache
def gamma_up(n: int) -> float:
    """A double ``g >= gamma_n = n u / (1 - n u)`` (Higham eq. (3.8)), ``u = 2^-53``.

    Computed exactly in rationals and rounded up; raises :class:`InputError`
    when ``n u >= 1/2`` (no useful a-priori bound)."""
    if 2 * n >= 2**53:
        raise InputError(f"inner dimension {n} too large for an a-priori float64 bound")
    return up1(float(Fraction(n, 2**53 - n)))


def infl(s: Any, k: int, m: int) -> Any:
    """A double (array) ``>= (1 + u)^k (s + m eta / 2)`` for computed ``s >= 0``.

    Returns ``fl(fl(s * c) + (m + 1) eta)`` (an array ``s`` is overwritten
    in place: callers pass a temporary) with ``c = 1 + (k + 1) 2^-52``
    (exact).  Proof: ``fl(s c) >= s c / (1 + u) - eta / 2`` and the addition
    rounds by at most a factor ``1 + u`` (exact when subnormal), so the
    result is ``>= s c / (1 + u)^2 + (m + 1/2) eta / (1 + u)``; and
    ``(1 + u)^(k + 2) <= 1 + (2k + 2) u = c`` while ``(k + 2)^2 u <= k``
    (every ``k <= 2^20`` used here), ``(m + 1/2)/(1 + u) >= (m / 2)(1 + u)^k``.
    Overflow gives ``inf`` (still an upper bound)."""
    c, add = infl_constants(k, m)
    if isinstance(s, np.ndarray):
        s *= c
        s += add
        return s
    return s * float(c) + float(add)


@cache
def infl_constants(k: int, m: int) -> tuple[np.float64, np.float64]:
    """``(c, (m + 1) eta)`` of :func:`infl` (both exact doubles); raises
    :class:`InputError` outside the proved range ``0 <= k <= 2^20``."""
    if not 0 <= k <= 2**20:
        raise InputError(f"rounding count {k} outside the proved range of infl")
    return np.float64(1.0 + (k + 1) * 2.0**-52), np.float64((m + 1) * ETA)


#: use the compiled loops of :mod:`zascheck.iv64_kernels` (the same
#: operations as the numpy code they replace; ``False`` runs the numpy code)
USE_KERNELS = True


@cache
def _kernels() -> Any:
    """:mod:`zascheck.iv64_kernels` (imported, and compiled or loaded from
    numba's cache, on first use), or ``None`` when numba is unavailable."""
    try:
        from zascheck import iv64_kernels
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return iv64_kernels


def _kern() -> Any:
    """The kernels module when :data:`USE_KERNELS` (and numba) allow, else ``None``."""
    return _kernels() if USE_KERNELS else None


_U = np.float64(U)
_ETA = np.float64(ETA)


# ---------------------------------------------------------------------------
# Scalars: inf-sup intervals of Python floats
# ---------------------------------------------------------------------------
class Iv1:
    """A real interval ``[lo, hi]`` of two Python floats, outward rounded.

    Arithmetic with Python numbers and other :class:`Iv1` encloses the exact
    result; a NaN endpoint becomes the whole line.  Rich comparisons answer
    as arb does: ``True`` only when certain (``a < b`` is ``False`` when
    undecided, so use :meth:`Iv64Backend.le` for three answers)."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: float, hi: float | None = None) -> None:
        """``[lo, hi]`` (``[lo, lo]`` without ``hi``); a NaN end is unknown, so it
        is stored as that end of the whole line (``-inf`` / ``+inf``), as every
        operation of :mod:`zascheck.interval` returns it: comparisons and
        midpoints never meet a NaN end."""
        lo = float(lo)
        hi = lo if hi is None else float(hi)
        self.lo = -math.inf if lo != lo else lo
        self.hi = math.inf if hi != hi else hi

    def __repr__(self) -> str:
        return f"Iv1({self.lo!r}, {self.hi!r})"

    def is_finite(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    def __neg__(self) -> Iv1:
        return Iv1(-self.hi, -self.lo)

    # the endpoint formulas are zascheck.interval's, on floats (SCALAR)
    def __add__(self, o: Any) -> Iv1:
        o = _iv1(o)
        return _mk(*_add1(self.lo, self.hi, o.lo, o.hi))

    __radd__ = __add__

    def __sub__(self, o: Any) -> Iv1:
        o = _iv1(o)
        return _mk(*_sub1(self.lo, self.hi, o.lo, o.hi))

    def __rsub__(self, o: Any) -> Iv1:
        return _iv1(o) - self

    def __mul__(self, o: Any) -> Iv1:
        o = _iv1(o)
        return _mk(*_mul1(self.lo, self.hi, o.lo, o.hi))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Iv1:
        """Division by an interval that does not contain 0 (else the whole line)."""
        o = _iv1(o)
        return _mk(*_div1(self.lo, self.hi, o.lo, o.hi))

    def __rtruediv__(self, o: Any) -> Iv1:
        return _iv1(o) / self

    def __pow__(self, n: int) -> Iv1:
        """``x^n`` for an integer ``n`` (binary powering; ``n < 0`` through
        ``1 / x^-n``); raises :class:`InputError` for another ``n``."""
        if not math.isfinite(n) or int(n) != n:
            raise InputError(f"only integer powers here, got {n!r}; use Iv64Backend.power")
        n = int(n)
        if n < 0:
            return 1 / self ** (-n)
        if n == 0:
            return Iv1(1.0)
        return _mk(*_power1(self.lo, self.hi, n))

    def sqr(self) -> Iv1:
        """``x^2`` (``[0, ...]`` when 0 is inside; tighter than ``x * x``)."""
        return _mk(*_sqr1(self.lo, self.hi))

    # rich comparisons: certain answers only (as arb)
    def __le__(self, o: Any) -> bool:
        return self.hi <= _iv1(o).lo

    def __lt__(self, o: Any) -> bool:
        return self.hi < _iv1(o).lo

    def __ge__(self, o: Any) -> bool:
        return self.lo >= _iv1(o).hi

    def __gt__(self, o: Any) -> bool:
        return self.lo > _iv1(o).hi

    def __eq__(self, o: object) -> bool:
        """Equal when both are the same point (as arb: certain equality only)."""
        try:
            oo = _iv1(o)
        except InputError:
            return NotImplemented
        return self.lo == self.hi == oo.lo == oo.hi

    def __float__(self) -> float:
        return _mid1(self)

    __hash__ = None  # type: ignore[assignment]


_add1, _sub1, _mul1, _div1 = SCALAR.add, SCALAR.sub, SCALAR.mul, SCALAR.div
_sqr1, _power1, _sqrt1 = SCALAR.sqr, SCALAR.power, SCALAR.sqrt


def _mk(lo: float, hi: float) -> Iv1:
    """An :class:`Iv1` from two Python floats, without the ``float()`` conversions."""
    x = object.__new__(Iv1)
    x.lo, x.hi = lo, hi
    return x


def _mid1(x: Iv1) -> float:
    """The midpoint of ``x`` as a double (``lo`` or ``hi`` when the other is infinite)."""
    if not math.isfinite(x.lo) or not math.isfinite(x.hi):
        return x.hi if math.isfinite(x.hi) else x.lo if math.isfinite(x.lo) else math.nan
    return 0.5 * x.lo + 0.5 * x.hi if abs(x.lo) > 1 or abs(x.hi) > 1 else (x.lo + x.hi) * 0.5


def _midrad1(x: Iv1) -> tuple[float, float]:
    """``(m, r)``: a double midpoint ``m`` (:func:`_mid1`) and a double radius
    ``r`` with ``[m - r, m + r]`` containing ``x`` (each difference rounded up
    by one ulp; ``r = 0`` for a point, ``inf`` for an unbounded ``x``).  The
    one place a scalar's midpoint-radius form is made (:meth:`Iv64Backend.scale`,
    :func:`sub_scaled_stack`, :meth:`Iv64Backend.radius`)."""
    if not x.is_finite():
        return _mid1(x), math.inf
    if x.lo == x.hi:
        return x.lo, 0.0
    m = _mid1(x)
    return m, max(up1(x.hi - m), up1(m - x.lo), 0.0)


def _enclose(x: Any) -> Iv1:
    """An :class:`Iv1` around one input number: a double or an int exactly
    representable is a point; a Fraction, a string, a flint ``fmpq`` / ``arb``
    or a big int is rounded outward.  Raises :class:`InputError` for a
    non-number or a non-finite input."""
    if isinstance(x, Iv1):
        return x
    if isinstance(x, np.floating) and x.dtype.itemsize > 8:  # long double: not a double
        if not np.isfinite(x):
            raise InputError(f"non-finite number {x!r}")
        return _enclose(Fraction(*x.as_integer_ratio()))
    if isinstance(x, (float, np.floating)):
        xf = float(x)
        if not math.isfinite(xf):
            raise InputError(f"non-finite number {x!r}")
        return Iv1(xf)
    name = type(x).__name__
    if name == "arb":
        return _from_arb(x)
    if name == "mpf":  # an mpmath number: exactly man * 2^exp
        if not math.isfinite(float(x)):
            raise InputError(f"non-finite or out-of-range number {x!r}")
        man, exp = x.man_exp
        q = Fraction(int(man)) * Fraction(2) ** int(exp)
        return _enclose(q)
    if name == "fmpq":
        q = Fraction(int(x.p), int(x.q))
    elif name == "fmpz":
        q = Fraction(int(x))
    elif isinstance(x, (int, np.integer, Fraction)):
        q = Fraction(int(x)) if not isinstance(x, Fraction) else x
    elif isinstance(x, str):
        try:
            q = Fraction(x)
        except ValueError:
            raise InputError(f"not a number: {x!r}") from None
    else:
        q = _exact_fraction(x)
    try:
        f = float(q)  # correctly rounded (Fraction.__float__ divides the integers exactly)
    except OverflowError:
        raise InputError(f"{x!r} is outside the double range") from None
    if Fraction(f) == q:
        return Iv1(f)
    return Iv1(dn1(f), up1(f))


def _exact_fraction(x: Any) -> Fraction:
    """The exact rational value of a number of another type (``Decimal``, a
    ``numbers.Rational`` such as sympy's ``Rational``, anything with an exact
    ``as_integer_ratio``); never through ``float(x)``, which would round and
    make a point interval that misses the value.  Raises :class:`InputError`
    when no exact value is available (e.g. a sympy ``Float``, a symbol)."""
    try:
        return Fraction(x)
    except (TypeError, ValueError, OverflowError):
        pass
    ratio = getattr(x, "as_integer_ratio", None)
    if callable(ratio):
        try:
            p, q = ratio()
            return Fraction(int(p), int(q))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError):
            pass
    raise InputError(
        f"not a number with an exact value: {x!r} ({type(x).__name__}); pass a float, an int, "
        "a Fraction or a decimal string"
    )


def _from_arb(x: Any) -> Iv1:
    """Outward doubles around an arb ball ``[m +- r]``."""
    if not x.is_finite():
        raise InputError(f"non-finite ball {x}")
    m, r = float(x.mid()), up1(float(x.rad()))
    return Iv1(dn1(dn1(m) - r), up1(up1(m) + r))


def _iv1(x: Any) -> Iv1:
    if isinstance(x, Iv1):
        return x
    if isinstance(x, float):
        return Iv1(x)
    if isinstance(x, int) and abs(x) <= 2**53:
        return Iv1(float(x))
    return _enclose(x)


# ---------------------------------------------------------------------------
# Matrices: midpoint-radius arrays
# ---------------------------------------------------------------------------
class MidRad:
    """A matrix (or a stack of matrices, leading axes) of intervals
    ``[mid - rad, mid + rad]`` over float64 arrays.

    Stored packed as ``data`` of shape ``(3, *shape)`` = ``[mid, |mid|, rad]``
    (``rad`` a rigorous upper bound of the distance from ``mid`` to the exact
    value): the three left factors of a product are then one stacked
    ``numpy.matmul`` operand (:meth:`Iv64Backend.mm`), and the views
    ``mid``, ``absmid``, ``rad`` cost nothing.  Treat as immutable."""

    __slots__ = ("data", "forms", "stack")
    data: np.ndarray
    forms: dict[int, np.ndarray] | None
    stack: tuple[np.ndarray, int] | None

    def __init__(self, mid: np.ndarray, rad: np.ndarray) -> None:
        self.data = np.stack((mid, np.abs(mid), rad))
        self.forms = None
        self.stack = None

    # the views are made on access: most products read only ``data``
    @property
    def mid(self) -> np.ndarray:
        return self.data[0]

    @property
    def absmid(self) -> np.ndarray:
        return self.data[1]

    @property
    def rad(self) -> np.ndarray:
        return self.data[2]

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> MidRad:
        """An uninitialised result of matrix shape ``shape`` (fill all three views)."""
        return cls.packed(np.empty((3, *shape)))

    @classmethod
    def packed(
        cls,
        data: np.ndarray,
        forms: dict[int, np.ndarray] | None = None,
        stack: tuple[np.ndarray, int] | None = None,
    ) -> MidRad:
        """Wrap ``data = [mid, |mid|, rad]`` (shape ``(3, *shape)``) without
        copying; ``forms`` maps an inner dimension ``n`` to the partner form
        of :func:`partner_form` (same orientation as ``data``); ``stack =
        (base, l)`` says that ``data`` is ``base[:, l]`` (results of the
        batched methods: the next batched call then reads ``base`` as is)."""
        out = cls.__new__(cls)
        out.data, out.forms, out.stack = data, forms, stack
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        return cast("tuple[int, ...]", self.data.shape[1:])

    @property
    def T(self) -> MidRad:
        # the partner form is entrywise, so the form of A^T is the transpose of A's
        f = self.forms
        t = MidRad.__new__(MidRad)
        t.data, t.stack = self.data.swapaxes(-1, -2), None
        t.forms = None if not f else {n: x.swapaxes(-1, -2) for n, x in f.items()}
        return t

    def __getitem__(self, idx: Any) -> Any:
        idx = idx if isinstance(idx, tuple) else (idx,)
        key = (slice(None), *idx)
        d = self.data[key]
        if d.ndim == 1:
            m, r = float(d[0]), float(d[2])
            if not math.isfinite(m):  # an overflowed midpoint: the whole line
                return Iv1(-math.inf, math.inf)
            return Iv1(dn1(m - r), up1(m + r))
        return MidRad.packed(d)

    def __repr__(self) -> str:
        return f"MidRad(mid={self.mid!r}, rad={self.rad!r})"

    def lower(self) -> np.ndarray:
        """Entrywise lower bounds ``dn(mid - rad)`` (``-inf`` where the
        midpoint overflowed: an overflowed entry encloses nothing finite)."""
        with np.errstate(invalid="ignore", over="ignore"):
            lo = dn(self.mid - self.rad)
        lo[~np.isfinite(self.mid)] = -np.inf
        return cast("np.ndarray", lo)

    def upper(self) -> np.ndarray:
        """Entrywise upper bounds ``up(mid + rad)`` (``+inf`` where the midpoint overflowed)."""
        with np.errstate(invalid="ignore", over="ignore"):
            hi = up(self.mid + self.rad)
        hi[~np.isfinite(self.mid)] = np.inf
        return cast("np.ndarray", hi)


def _from_bounds(lo: np.ndarray, hi: np.ndarray) -> MidRad:
    """The midpoint-radius enclosure of ``[lo, hi]`` (entrywise, ``lo <= hi``):
    ``mid = fl(lo/2 + hi/2)``, ``rad = up(max(hi - mid, mid - lo))`` (each
    difference rounded up by one ulp)."""
    mid = 0.5 * lo + 0.5 * hi
    rad = np.maximum(up(hi - mid), up(mid - lo))
    return MidRad(mid, np.maximum(rad, 0.0))


def _point(a: np.ndarray) -> MidRad:
    return MidRad(a, np.zeros_like(a))


class Iv64Backend(Backend):
    """Certified float64 midpoint-radius interval arithmetic (``iv64``)."""

    name = "iv64"
    prec = 53
    rigorous = True

    # -- context -----------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Backend]:
        """Overflow to ``inf`` and ``0 * inf`` are part of the arithmetic
        (the result is then non-finite): numpy must not warn about them."""
        with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
            yield self

    # -- construction --------------------------------------------------------
    def matrix(self, a: Any) -> MidRad:
        """An enclosure of a matrix (``(r, c)``) or a stack (``(n, r, c)``):
        float arrays are exact; lists of Fractions / strings / flint numbers,
        ``arb_mat``, ``fmpq_mat`` and mpmath matrices are enclosed entry by
        entry.  Raises :class:`InputError` for NaN / inf entries or a shape
        that is not 2-D or 3-D."""
        if isinstance(a, MidRad):
            return a
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype.itemsize <= 8:
            arr = np.asarray(a, dtype=float)
        else:
            rows = _rows_of(a)
            if rows and all(isinstance(r, list) and r and isinstance(r[0], list) for r in rows):
                # a nested (n, r, c) stack: each matrix enclosed on its own, then stacked
                mats = [self.matrix(r) for r in rows]
                if len({m.mid.shape for m in mats}) > 1:
                    raise InputError("a stack needs matrices of one shape")
                return MidRad(np.stack([m.mid for m in mats]), np.stack([m.rad for m in mats]))
            flat = [x for row in rows for x in (row if isinstance(row, list) else [row])]
            if not all(_is_double(x) or _is_small_int(x) for x in flat):
                return self._enclose_rows(rows)
            try:
                arr = np.array(rows, dtype=float)
            except ValueError:
                raise InputError("a matrix needs rows of equal length") from None
        if arr.ndim not in (2, 3):
            raise InputError(f"expected a 2-D matrix or a stack, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError("matrix contains NaN or infinite entries")
        return _point(arr.copy())

    def _enclose_rows(self, rows: list[list[Any]]) -> MidRad:
        if not all(isinstance(row, list) for row in rows) or len({len(r) for r in rows}) > 1:
            raise InputError("expected a 2-D matrix with rows of equal length")
        ivs = [[_enclose(x) for x in row] for row in rows]
        lo = np.array([[x.lo for x in row] for row in ivs], dtype=float)
        hi = np.array([[x.hi for x in row] for row in ivs], dtype=float)
        if lo.ndim != 2:
            raise InputError(f"expected a 2-D matrix, got shape {lo.shape}")
        return _from_bounds(lo, hi)

    def scalar(self, x: Any) -> Iv1:
        return _iv1(x)

    def eye(self, n: int) -> MidRad:
        return _point(np.eye(n))

    def zeros(self, r: int, c: int) -> MidRad:
        return _point(np.zeros((r, c)))

    def shape(self, a: MidRad) -> tuple[int, int]:
        return cast("tuple[int, int]", a.mid.shape[-2:])

    # -- algebra -------------------------------------------------------------
    def mm(self, a: MidRad, b: MidRad) -> MidRad:
        """``a @ b``, shapes ``(..., r, n) @ (..., n, c)``; the bound of the
        module docstring: ONE stacked ``numpy.matmul`` of a packed operand
        and the partner form of the other (:func:`partner_form`; ``b``'s when
        it has one cached, else ``a``'s), then ``rad = fl(fl(S1 + S2) + tau_n)``."""
        if not isinstance(a, MidRad):
            a = self.matrix(a)
        if not isinstance(b, MidRad):
            b = self.matrix(b)
        ad, bd = a.data, b.data
        n = ad.shape[-1]
        if bd.shape[-2] != n:
            raise InputError(f"matrix product of shapes {a.shape} and {b.shape}")
        fb = None if b.forms is None else b.forms.get(n)
        if fb is not None:
            left, right = ad, fb  # [mA, |mA|, rA] @ [mB, F1(B), F2(B)]
        else:
            left, right = partner_form(a, n), bd  # [mA, F1(A), F2(A)] @ [mB, |mB|, rB]
        # the packed axis 0 must meet axis 0: pad the batch axes of the side
        # with fewer, so numpy broadcasts stack against stack, never against
        # the packed [mid, |mid|, rad] axis
        if left.ndim < right.ndim:
            left = left.reshape(left.shape[:1] + (1,) * (right.ndim - left.ndim) + left.shape[1:])
        elif right.ndim < left.ndim:
            right = right.reshape(
                right.shape[:1] + (1,) * (left.ndim - right.ndim) + right.shape[1:]
            )
        try:
            out = np.matmul(left, right)
        except ValueError:
            raise InputError(f"matrix product of shapes {a.shape} and {b.shape}") from None
        return _finish_product(out, n)

    def T(self, a: MidRad) -> MidRad:
        return a.T

    def add(self, a: MidRad, b: MidRad) -> MidRad:
        """``a + b``: ``rad >= rA + rB + u |fl(mA + mB)|`` (the rounding of the
        sum, Higham Sec. 2.2), ``= infl(fl(fl(rA + rB) + fl(u |mid|)), 3, 1)``."""
        return _add_sub(*self._same_shape(a, b), 1.0)

    def sub(self, a: MidRad, b: MidRad) -> MidRad:
        """``a - b`` (as :meth:`add`)."""
        return _add_sub(*self._same_shape(a, b), -1.0)

    def _same_shape(self, a: Any, b: Any) -> tuple[MidRad, MidRad]:
        """Both operands as :class:`MidRad` of one shape (:class:`InputError` otherwise)."""
        a = a if isinstance(a, MidRad) else self.matrix(a)
        b = b if isinstance(b, MidRad) else self.matrix(b)
        if a.shape != b.shape:
            raise InputError(f"sum of matrices of shapes {a.shape} and {b.shape}")
        return a, b

    def scale(self, s: Any, a: MidRad) -> MidRad:
        """``s a`` for a scalar ``s = [ms - rs, ms + rs]``:
        ``mid = fl(ms mA)``, ``rad >= |ms| rA + rs (|mA| + rA) + u |mid| + eta/2``
        (product rounding, Higham model (2.4) with underflow), inflated by
        ``infl(., 5, 4)``."""
        s = _iv1(s)
        c = MidRad.empty(a.shape)
        ms, rs = _midrad1(s)  # a double: rs = 0
        np.multiply(a.mid, ms, out=c.mid)
        np.abs(c.mid, out=c.absmid)
        rad = c.rad
        np.multiply(a.rad, abs(ms), out=rad)
        rad += c.absmid * _U
        if rs > 0:
            rad += (a.absmid + a.rad) * rs
        infl(rad, 5, 4)
        return c

    def mm_each(self, a: Sequence[Any], b: Sequence[Any]) -> list[MidRad]:
        """``[a_l @ b_l for every l]`` (the gradients ``G_l = T_l W_{l-1:1}^T``
        of :func:`zascheck.model.loss_and_grads`) as ONE stacked product when
        all ``a_l`` share a shape and all ``b_l`` share one (the bound of
        :meth:`mm`, entry by entry the same arithmetic); otherwise one
        :meth:`mm` per pair.  Raises :class:`InputError` when the lists differ
        in length or a pair does not chain."""
        if len(a) != len(b):
            raise InputError(f"{len(a)} left factors but {len(b)} right factors")
        if not a:
            return []
        a = [x if isinstance(x, MidRad) else self.matrix(x) for x in a]
        b = [x if isinstance(x, MidRad) else self.matrix(x) for x in b]
        sa, sb = {x.data.shape for x in a}, {x.data.shape for x in b}
        if len(sa) != 1 or len(sb) != 1 or len(a[0].shape) != 2 or len(b[0].shape) != 2:
            return [self.mm(x, y) for x, y in zip(a, b, strict=True)]
        n = a[0].shape[1]
        if b[0].shape[0] != n:
            raise InputError(f"matrix product of shapes {a[0].shape} and {b[0].shape}")
        out: list[MidRad] = []
        for i, j in _chunks(len(a), a[0].data.size + b[0].data.size):
            left = stacked(a[i:j])  # (3, k, r, n)
            right = partner_forms(stacked(b[i:j]), n)
            d = _finish_product(np.matmul(left, right), n).data
            out.extend(_layers(d, None))
        return out

    def sub_scaled_each(self, a: Sequence[Any], s: Any, g: Sequence[Any]) -> list[MidRad]:
        """``[a_l - s g_l for every l]`` (the GD update ``W_l - eta G_l`` of
        :func:`zascheck.model.gd_update`) in one pass over the stacked layers
        when all are matrices of one shape (:func:`sub_scaled_stack` gives the
        bound); also builds the partner forms of the results (square layers),
        which the next GD step's products use.  Otherwise layer by layer,
        ``sub(a_l, scale(s, g_l))``.  Raises :class:`InputError` when the
        lists differ in length or a pair in shape."""
        a = [x if isinstance(x, MidRad) else self.matrix(x) for x in a]
        g = [x if isinstance(x, MidRad) else self.matrix(x) for x in g]
        if len(a) != len(g):
            raise InputError(f"{len(a)} matrices but {len(g)} updates")
        dshape: tuple[int, ...] = a[0].data.shape if a else ()
        shape = dshape[1:]
        if len(shape) != 2 or any(x.data.shape != dshape for x in (*a, *g)):
            return [self.sub(x, self.scale(s, y)) for x, y in zip(a, g, strict=True)]
        r, c = shape
        res: list[MidRad] = []
        for i, j in _chunks(len(a), 3 * a[0].data.size):
            out, f = sub_scaled_stack(
                stacked(a[i:j]), _iv1(s), stacked(g[i:j]), c if r == c else None
            )
            res.extend(_layers(out, None if f is None else (c, f)))
        return res

    def entries(self, a: MidRad) -> list[Iv1]:
        lo, hi = a.lower().ravel().tolist(), a.upper().ravel().tolist()
        return [Iv1(x, y) for x, y in zip(lo, hi, strict=True)]

    def fro2(self, a: MidRad) -> Iv1:
        """``||A||_F^2 = sum a_ij^2`` (over a whole stack): upper bound from
        ``x = fl(|m| + r)`` and (N); lower bound from ``y = max(fl(|m| - r), 0)``,
        ``sum (exact |m| - r)^2 >= (1 - u)^2 (fl(y^T y)/(1 + u)^n - n eta/2)``.
        ``[0, inf]`` when an entry's midpoint overflowed or is NaN (it then
        encloses nothing finite, as :meth:`MidRad.lower` says)."""
        k = _kern()
        if k is not None:
            n = a.data[0].size
            s_hi, s_lo = k.fro2_sums(np.ascontiguousarray(a.data).reshape(3, -1))
        else:
            x = (a.absmid + a.rad).ravel()
            y = np.maximum(a.absmid - a.rad, 0.0).ravel()
            n = x.size
            s_hi, s_lo = float(x @ x), float(y @ y)
        if not math.isfinite(s_hi):
            # an overflowed (or NaN) midpoint encloses nothing finite (MidRad.lower):
            # the exact norm may be anything >= 0, however small the radius says
            return Iv1(0.0, math.inf)
        hi = up1(float(infl(s_hi, n + 2, n)))
        lo = dn1(dn1(s_lo / up1(1.0 + (n + 4) * 2.0**-52)) - (n + 1) * ETA)
        return Iv1(max(lo, 0.0), hi)

    def fro2_each(self, a: MidRad) -> list[Iv1]:
        """``||A_i||_F^2`` of every matrix of a stack ``(n, r, c)``."""
        return [self.fro2(a[i]) for i in range(a.mid.shape[0])]

    def trace(self, a: MidRad) -> Iv1:
        """Sum of the diagonal, each addition outward."""
        r, c = self.shape(a)
        s = Iv1(0.0)
        for i in range(min(r, c)):
            s = s + a[i, i]
        return s

    # -- scalar functions ------------------------------------------------------
    def exp(self, x: Any) -> Iv1:
        """``exp`` through arb at 64 bits (monotone: both ends), rounded outward."""
        x = _iv1(x)
        if not x.is_finite():
            return Iv1(0.0, math.inf)
        return Iv1(_arb_fn("exp", x.lo).lo, _arb_fn("exp", x.hi).hi)

    def log(self, x: Any) -> Iv1:
        """``log`` of an interval inside ``(0, inf)`` (the whole line when it
        reaches 0 or below: the result is non-finite)."""
        x = _iv1(x)
        if not x.lo > 0 or not x.is_finite():
            return Iv1(-math.inf, math.inf)
        return Iv1(_arb_fn("log", x.lo).lo, _arb_fn("log", x.hi).hi)

    def sqrt(self, x: Any) -> Iv1:
        """Correctly rounded IEEE sqrt, each end one ulp outward (negative parts clipped)."""
        x = _iv1(x)
        lo, hi = _sqrt1(x.lo, x.hi)
        return _mk(lo, hi if x.hi >= 0 else -math.inf)  # no real root: empty (non-finite)

    def power(self, x: Any, n: Any) -> Iv1:
        """``x^n``: integer ``n`` by binary powering; other ``n`` as
        ``exp(n log x)`` for ``x > 0``."""
        x = _iv1(x)
        if isinstance(n, (int, np.integer)) or (isinstance(n, float) and n.is_integer()):
            return x ** int(n)
        return self.exp(self.log(x) * _iv1(n))

    # -- comparisons ---------------------------------------------------------
    def le(self, a: Any, b: Any) -> bool | None:
        a, b = _iv1(a), _iv1(b)
        if not (a.is_finite() and b.is_finite()):
            return None
        if a.hi <= b.lo:
            return True
        if a.lo > b.hi:
            return False
        return None

    def lt(self, a: Any, b: Any) -> bool | None:
        a, b = _iv1(a), _iv1(b)
        if not (a.is_finite() and b.is_finite()):
            return None
        if a.hi < b.lo:
            return True
        if a.lo >= b.hi:
            return False
        return None

    def is_finite(self, a: Any) -> bool:
        if isinstance(a, MidRad):
            return bool(np.isfinite(a.mid).all() and np.isfinite(a.rad).all())
        return _iv1(a).is_finite()

    # -- conversion ----------------------------------------------------------
    def to_float(self, x: Any) -> float:
        return _mid1(_iv1(x))

    def radius(self, x: Any) -> float:
        """A double ``r`` with ``[m - r, m + r]`` containing ``x``, ``m`` = :meth:`to_float`."""
        return _midrad1(_iv1(x))[1]

    def radius_scalar(self, x: Any) -> Iv1:
        return Iv1(self.radius(x))

    def upper(self, x: Any) -> Iv1:
        return Iv1(_iv1(x).hi)

    def midpoint(self, a: MidRad) -> MidRad:
        return _point(a.mid.copy())

    def max_radius(self, a: Any) -> float:
        if isinstance(a, MidRad):
            return float(np.max(a.rad)) if a.rad.size else 0.0  # already rounded up
        return self.radius(a)

    def to_numpy(self, a: MidRad) -> np.ndarray:
        return np.array(a.mid, dtype=float)

    def to_str(self, x: Any, digits: int = 20) -> str:
        x = _iv1(x)
        return f"[{x.lo!r}, {x.hi!r}]"

    # -- spectra (midpoints, as floats, like ball) ------------------------------
    def eigvalsh(self, s: MidRad) -> list[float]:
        m = s.mid
        return [float(v) for v in np.linalg.eigvalsh((m + m.T) / 2)]

    def norm2(self, a: MidRad) -> float:
        return float(np.linalg.norm(a.mid, 2))


def partner_form(a: MidRad, n: int) -> np.ndarray:
    """The partner form ``F = [mA, F1, F2]`` (shape ``(3, *a.shape)``) of
    ``a`` for a product of inner dimension ``n`` (:meth:`Iv64Backend.mm`),
    cached on ``a`` (a layer ``W_l`` is a factor twice per GD step, once
    transposed; :meth:`MidRad.T` carries the cache over, transposed):
    ``F1 >= kappa_n (gamma_n |mA| + rA)``, ``F2 >= kappa_n (|mA| + rA)``
    with ``kappa_n = (1 + u)^(n + 2)`` (:func:`partner_forms` proves it)."""
    forms = a.forms
    if forms is not None:
        x = forms.get(n)
        if x is not None:
            return x
    x = partner_forms(a.data, n)
    if forms is None:
        a.forms = {n: x}
    else:
        forms[n] = x
    return x


def partner_forms(data: np.ndarray, n: int) -> np.ndarray:
    """Partner forms of packed ``data`` (``[mid, |mid|, rad]`` along axis 0,
    any other axes): an array of ``data``'s shape holding ``mid`` and

        F1 = infl(fl(fl(g |mid|) + rad), n + 4, 1),   F2 = infl(fl(|mid| + rad), n + 4, 1)

    (``g = gamma_up(n)``).  Bounds: ``fl(g |m|) >= g |m| / (1 + u) - eta/2``
    and the sum rounds by at most ``1/(1 + u)`` (Higham model (2.5); exact
    when subnormal), so ``gamma_n |m| + r <= (1 + u)^2 (s1 + eta/2)`` and
    ``F1 >= (1 + u)^(n + 4) (s1 + eta/2) >= kappa_n (gamma_n |m| + r)``
    (:func:`infl`); likewise ``F2 >= (1 + u)^(n + 3) (|m| + r)``.  Raises
    :class:`InputError` for ``n`` beyond the proved range."""
    x = np.empty(data.shape)
    k = _kern()
    if k is not None:
        c, add = infl_constants(n + 4, 1)
        k.partner_forms(
            np.ascontiguousarray(data).reshape(3, -1), x.reshape(3, -1), gamma_up(n), c, add
        )
        return x
    m, am, r = data
    x0, f1, f2 = x
    np.copyto(x0, m)
    np.multiply(am, gamma_up(n), out=f1)
    f1 += r
    np.add(am, r, out=f2)
    infl(x[1:], n + 4, 1)
    return x


def stacked(items: Sequence[MidRad]) -> np.ndarray:
    """The packed data of equal-shaped matrices ``items`` as one array
    ``(3, L, r, c)``: a view of their common base when ``items`` are
    consecutive layers of one batched result, in order, else a copy (one
    concatenation)."""
    first = items[0].stack
    if first is not None:
        base, i0 = first
        k = len(items)
        if i0 + k <= base.shape[1] and all(
            x.stack is not None and x.stack[0] is base and x.stack[1] == i0 + l
            for l, x in enumerate(items)
        ):
            return base if k == base.shape[1] else base[:, i0 : i0 + k]
    r, c = items[0].data.shape[1:]
    return np.concatenate([x.data for x in items], axis=1).reshape(3, len(items), r, c)


#: bytes of operands one batched call takes at once: a chunk of layers and
#: its temporaries stay in the CPU cache (a pass over a stack of 100 layers
#: of 20 x 20 doubles that does not fit costs 3x more per entry)
CHUNK_BYTES = 2**18


def _chunks(L: int, entries_per_layer: int) -> list[tuple[int, int]]:
    """``[(i, j), ...]`` covering ``range(L)`` in chunks of about :data:`CHUNK_BYTES`."""
    k = max(1, CHUNK_BYTES // (8 * entries_per_layer))
    return [(i, min(i + k, L)) for i in range(0, L, k)]


def _layers(base: np.ndarray, forms: tuple[int, np.ndarray] | None) -> list[MidRad]:
    """The layers ``base[:, l]`` of a packed stack ``(3, k, r, c)`` as
    :class:`MidRad` (with ``stack = (base, l)``), and their partner forms
    ``(n, F)`` (``F`` of ``base``'s shape) when given."""
    views = list(base.swapaxes(0, 1))  # base[:, l] for every l, made in C
    fviews = [None] * len(views) if forms is None else list(forms[1].swapaxes(0, 1))
    n = 0 if forms is None else forms[0]
    new = MidRad.__new__
    out = []
    for l, (v, f) in enumerate(zip(views, fviews, strict=True)):
        x = new(MidRad)
        x.data, x.forms, x.stack = v, None if f is None else {n: f}, (base, l)
        out.append(x)
    return out


@cache
def _tau(n: int) -> np.float64:
    """``(2n + 1) eta``, exact: the underflow allowance of a product of inner dimension ``n``."""
    return np.float64((2 * n + 1) * ETA)


def _finish_product(out: np.ndarray, n: int) -> MidRad:
    """Turn ``out = [mC, S1, S2]`` (the stacked product of :meth:`Iv64Backend.mm`)
    into the enclosure ``[mC, |mC|, fl(fl(S1 + S2) + tau_n)]`` in place
    (one compiled loop, :func:`zascheck.iv64_kernels.finish_product`; ``out``
    is a fresh ``numpy.matmul`` result, hence C-contiguous)."""
    k = _kern()
    if k is not None:
        k.finish_product(out, _tau(n))
    else:
        m, s1, s2 = out[0], out[1], out[2]
        np.add(s1, s2, out=s2)
        s2 += _tau(n)
        np.abs(m, out=s1)
    c = MidRad.__new__(MidRad)
    c.data, c.forms, c.stack = out, None, None
    return c


def sub_scaled_stack(
    a: np.ndarray, s: Iv1, g: np.ndarray, n: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``a - s g`` for packed stacks ``a``, ``g`` of shape ``(3, L, r, c)``
    (``[mid, |mid|, rad]`` on axis 0) and a scalar ``s = [ms - rs, ms + rs]``;
    returns the packed enclosure (same shape) and, for an inner dimension
    ``n``, its partner forms (:func:`partner_forms`; ``None`` without ``n``).  ``p = fl(ms mG)``,
    ``mid = fl(mA - p)``, and the exact difference is within

        R = rA + |ms| rG + rs (|mG| + rG) + u |p| + u |mid| + eta/2

    of ``mid`` (``|s g - ms mG| <= |ms| rG + rs |g|``; the product rounds by
    at most ``u |p| + eta/2`` and the difference by ``u |mid|``, Higham Sec.
    2.2, models (2.4)-(2.5) with underflow).  The radius is
    ``infl(t, 4, 4)`` with ``t = fl(fl(fl(|ms| rG) + rA) + v) + w)``,
    ``v = fl(fl(|mG| + rG) rs)``, ``w = fl(fl(|p| + |mid|) u)``: every term
    of ``R`` passes through at most 4 roundings and 3 products may underflow
    (``eta/2`` each), so ``R <= (1 + u)^4 (t + 3 eta/2) + eta/2
    <= (1 + u)^4 (t + 4 eta/2) <= infl(t, 4, 4)``."""
    ms, rs = _midrad1(s)
    out = np.empty(a.shape)
    k = _kern()
    if k is not None:
        forms = np.empty(a.shape if n is not None else (3, 0))
        c, add = infl_constants(4, 4)
        cf, addf = infl_constants(n + 4, 1) if n is not None else (0.0, 0.0)
        gam = gamma_up(n) if n is not None else 0.0
        consts = np.array([U, c, add, gam, cf, addf])
        k.sub_scaled(
            np.ascontiguousarray(a).reshape(3, -1),
            np.ascontiguousarray(g).reshape(3, -1),
            out.reshape(3, -1),
            forms.reshape(3, -1),
            ms,
            rs,
            consts,
        )
        return out, forms if n is not None else None
    mid, amid, rad = out
    p = np.multiply(g[0], ms)
    np.subtract(a[0], p, out=mid)
    np.abs(mid, out=amid)
    np.multiply(g[2], abs(ms), out=rad)
    rad += a[2]
    if rs > 0:
        v = np.add(g[1], g[2])
        v *= rs
        rad += v
    np.abs(p, out=p)
    p += amid
    p *= _U
    rad += p
    infl(rad, 4, 4)
    return out, None if n is None else partner_forms(out, n)


def _add_sub(a: MidRad, b: MidRad, sign: float) -> MidRad:
    """``a + sign b`` (``sign = +-1``, equal shapes) with the bound of :func:`_sum`."""
    k = _kern()
    if k is not None:
        out = np.empty(a.data.shape)
        c, add = infl_constants(3, 1)
        k.sum_finish(
            np.ascontiguousarray(a.data).reshape(3, -1),
            np.ascontiguousarray(b.data).reshape(3, -1),
            out.reshape(3, -1),
            sign,
            U,
            c,
            add,
        )
        return MidRad.packed(out)
    r = MidRad.empty(a.shape)
    (np.add if sign > 0 else np.subtract)(a.mid, b.mid, out=r.mid)
    return _sum(r, a.rad, b.rad)


def _sum(c: MidRad, ra: np.ndarray, rb: np.ndarray) -> MidRad:
    """Complete the enclosure ``c`` of ``mA +- mB`` given ``c.mid = fl(mA +- mB)``:
    the sum's rounding error is at most ``u |mid|`` (exact when subnormal)
    and ``fl(u |mid|) >= ulp(mid)/2`` whenever the sum is not exact, so
    ``rA + rB + u|mid| <= (1 + u)^3 (fl(fl(rA + rB) + fl(u |mid|)) + eta/2)``."""
    np.abs(c.mid, out=c.absmid)
    rad = c.rad
    np.add(ra, rb, out=rad)
    rad += c.absmid * _U
    infl(rad, 3, 1)
    return c


def _is_double(x: Any) -> bool:
    """A Python float or a numpy float of at most 64 bits (exact as a double)."""
    return isinstance(x, float) or (isinstance(x, np.floating) and x.dtype.itemsize <= 8)


def _is_small_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and abs(int(x)) <= 2**53


def _rows_of(a: Any) -> list[Any]:
    """Nested rows of a list, an array of objects, a flint or an mpmath matrix."""
    if isinstance(a, (list, tuple)):
        return [list(r) if isinstance(r, (list, tuple, np.ndarray)) else r for r in a]
    if isinstance(a, np.ndarray):
        return cast("list[Any]", a.tolist())
    if hasattr(a, "nrows") and hasattr(a, "entries"):  # flint arb_mat / fmpq_mat
        r, c = a.nrows(), a.ncols()
        es = list(a.entries())
        return [es[i * c : (i + 1) * c] for i in range(r)]
    if hasattr(a, "rows") and hasattr(a, "cols"):  # mpmath
        return [[a[i, j] for j in range(a.cols)] for i in range(a.rows)]
    if hasattr(a, "tolist"):
        return cast("list[Any]", a.tolist())
    raise InputError(f"cannot read a matrix from {type(a).__name__}")


def _arb_fn(fn: str, x: float) -> Iv1:
    """``fn(x)`` (``exp`` or ``log`` of a double) enclosed by an arb ball at 64
    bits, rounded outward to doubles (libm's exp/log are not correctly rounded)."""
    import flint

    old = flint.ctx.prec
    flint.ctx.prec = 64
    try:
        y = getattr(flint.arb(x), fn)()
    finally:
        flint.ctx.prec = old
    if not y.is_finite():
        return Iv1(-math.inf, math.inf) if fn == "log" else Iv1(0.0, math.inf)
    return _from_arb(y)
