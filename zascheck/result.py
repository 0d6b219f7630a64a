"""The one result type every check returns, and the rules that turn numbers into verdicts.

Verdicts
--------
``certified``
    proven: exact rational arithmetic, or ball arithmetic whose enclosures
    decide the comparison (or a symbolic identity reduced to zero).
``holds``
    held numerically at the stated arithmetic and precision, with the
    rounding / integration error budget stated; not a proof.
``violated``
    a counterexample was found; it is in ``counterexample``.  From ball or
    exact arithmetic the violation itself is certain.
``inconclusive``
    the numbers cannot separate the claim from its negation at this
    precision (or the check could not run to the end); ``notes`` says why.

Margin convention
-----------------
``relation`` says how ``measured`` is supposed to compare with ``bound``:
``"<="`` (an upper bound, or an identity residual against its tolerance),
``">="``, or ``"=="`` (a tight claim).  ``margin`` is signed so that a positive margin means the claim held
with that much room: ``bound - measured`` for ``<=``, ``measured - bound``
for ``>=``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from collections.abc import Iterable
from typing import Any

import numpy as np

from zascheck.arith import Backend

__all__ = [
    "CheckResult",
    "Verdict",
    "combine_verdicts",
    "covers",
    "decide",
    "format_number",
    "is_universal",
    "join_covered",
    "jsonable",
    "margin_of",
    "scope_text",
]


class Verdict(str, Enum):
    CERTIFIED = "certified"
    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """Strength, for combining: a combination is never stronger than its weakest part."""
        return _RANK[self]

    @property
    def ok(self) -> bool:
        """The claim stood up (proven or held numerically)."""
        return self in (Verdict.CERTIFIED, Verdict.HOLDS)


_RANK = {Verdict.VIOLATED: 0, Verdict.INCONCLUSIVE: 1, Verdict.HOLDS: 2, Verdict.CERTIFIED: 3}


def combine_verdicts(verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict for evidence made of several cases of one statement: any
    violation wins, then any inconclusive case, then ``holds``, else
    ``certified``; no case at all is ``inconclusive``.

    >>> combine_verdicts([Verdict.CERTIFIED, Verdict.HOLDS]).value
    'holds'
    """
    vs = list(verdicts)
    if not vs:
        return Verdict.INCONCLUSIVE
    return min(vs, key=lambda v: v.rank)


@dataclass
class CheckResult:
    """Everything one check established.  Reports and tests read this object."""

    claim: str = ""
    verdict: Verdict = Verdict.INCONCLUSIVE
    measured: float | None = None
    bound: float | None = None
    margin: float | None = None
    relation: str = "<="
    params: dict[str, Any] = field(default_factory=dict)
    arithmetic: str = "float64"
    precision_bits: int = 53
    seconds: float = 0.0
    provenance: str = ""
    method: str = ""
    statement: str = ""
    measured_repr: str = ""
    bound_repr: str = ""
    counterexample: dict[str, Any] | None = None
    tightest: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    control: str | None = None
    seed: int | None = None
    #: what the evidence covers, per quantifier of the card: ``{name: {"covered":
    #: str, "universal": bool}}`` (see :func:`covers`); the engine adds every
    #: quantifier a check left out as ``not covered``
    scope: dict[str, Any] = field(default_factory=dict)
    #: the part of a statement with several this result decides (``None``: the whole)
    part: str | None = None
    #: one result per part, for statements with several (Lemmas 4.4-4.6, ...)
    parts: list[CheckResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the margin follows from measured, bound and relation unless a check
        # states it (e.g. as a relative margin); never leave it to be forgotten
        if (
            self.margin is None
            and self.relation in ("<=", ">=")
            and isinstance(self.measured, (int, float))
            and isinstance(self.bound, (int, float))
        ):
            self.margin = margin_of(float(self.measured), float(self.bound), self.relation)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        d["parts"] = [p.to_dict() for p in self.parts]
        d["scope_text"] = scope_text(self.scope)
        return jsonable(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        kw["verdict"] = Verdict(kw.get("verdict", "inconclusive"))
        kw["parts"] = [cls.from_dict(p) for p in kw.get("parts") or []]
        for k in ("measured", "bound", "margin"):
            if isinstance(kw.get(k), str):
                kw[k] = float(kw[k])
        return cls(**kw)


def covers(covered: str, *, universal: bool = False) -> dict[str, Any]:
    """One entry of a result's ``scope``: what the evidence covers of one
    quantifier (``"t <= 10^4 GD steps"``, ``"3 Gaussian targets, d = 2"``,
    ``"L in {1, 2, 3, 5}"``), and whether it covers all of it (a proof, an
    enclosure over the whole class) rather than samples.

    >>> covers("every L (free algebra)", universal=True)
    {'covered': 'every L (free algebra)', 'universal': True}
    """
    return {"covered": covered, "universal": bool(universal)}


def join_covered(labelled: list[tuple[str, str]]) -> str:
    """The ``covered`` texts of several pieces of evidence as one text
    (``"; "``-joined, duplicates once).  When they differ, each text is
    prefixed by the labels (part or method names, ``" / "``-joined) of the
    evidence it describes, unless it already starts with its label, so a
    reader never takes one series' depths or one method's horizon for another's.

    >>> join_covered([("a", "L in [1, 2]"), ("b", "L in [1, 2]")])
    'L in [1, 2]'
    >>> join_covered([("-I", "L in [10, 20]"), ("Gaussian", "L in [10]")])
    '-I: L in [10, 20]; Gaussian: L in [10]'
    >>> join_covered([("Gaussian, d=2", "Gaussian, d=2, 3 draws"), ("-I", "-I, d=1")])
    'Gaussian, d=2, 3 draws; -I, d=1'
    """
    by_text: dict[str, list[str]] = {}
    for label, text in labelled:
        by_text.setdefault(text, [])
        if label and label not in by_text[text]:
            by_text[text].append(label)
    if len(by_text) <= 1:
        return "; ".join(by_text)
    out = []
    for text, labels in by_text.items():
        tag = " / ".join(labels)
        out.append(text if not tag or text.startswith(tag) else f"{tag}: {text}")
    return "; ".join(out)


NOT_COVERED = "not covered"


def scope_text(scope: dict[str, Any]) -> str:
    """The scope in one line, as tables print it next to the verdict.

    >>> scope_text({"t": covers("t <= 10^4"), "L": covers("every L", universal=True)})
    't <= 10^4; L: every L'
    """
    out = []
    for name, e in scope.items():
        cov = e.get("covered", NOT_COVERED) if isinstance(e, dict) else str(e)
        if cov == NOT_COVERED:
            continue
        out.append(cov if cov.lstrip().startswith(name) else f"{name}: {cov}")
    return "; ".join(out)


def is_universal(scope: dict[str, Any], names: list[str]) -> bool:
    """Whether ``scope`` covers every quantifier in ``names`` universally."""
    return all(isinstance(scope.get(n), dict) and scope[n].get("universal") for n in names)


def margin_of(measured: float, bound: float, relation: str) -> float:
    """Signed room: positive when ``measured (relation) bound`` holds."""
    return bound - measured if relation == "<=" else measured - bound


def format_number(x: Any) -> str:
    """How tables (CLI, report) print a measured value: 4 significant digits."""
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def jsonable(x: Any) -> Any:
    """Convert to JSON-safe values: numpy to lists, non-finite floats to strings."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        xf = float(x)
        return xf if math.isfinite(xf) else str(xf)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, Enum):
        return x.value
    if x is None or isinstance(x, (str, int, bool)):
        return x
    return str(x)


def decide(
    b: Backend,
    measured: Any,
    bound: Any,
    *,
    relation: str = "<=",
    err: float = 0.0,
) -> Verdict:
    """Turn ``measured (relation) bound`` into a verdict.

    ``relation="=="`` (a tight claim, e.g. Theorem 4.1 at ``L = 1``): exact
    arithmetic certifies or refutes equality; otherwise equality ``holds`` when
    ``|measured - bound|`` is within ``err`` plus the balls' radii, and is
    ``violated`` when it is not (a ball computation can never prove equality).

    ``err`` is an absolute error budget on ``measured - bound`` that the
    arithmetic does *not* account for (rounding in float64/mp, integration
    error of a flow).  In ball/exact arithmetic with ``err == 0`` the
    comparison is decided by enclosure: ``certified`` / ``violated`` or, if
    the balls overlap, ``inconclusive``.  Otherwise the difference must clear
    ``err`` to be ``holds`` or ``violated``.
    """
    if relation not in ("<=", ">=", "=="):
        raise ValueError(f"relation must be '<=', '>=' or '==', not {relation!r}")
    if relation == "==":
        return _decide_equal(b, measured, bound, err)
    lo, hi = (measured, bound) if relation == "<=" else (bound, measured)
    if b.rigorous and err == 0.0:
        ok = b.le(lo, hi)
        if ok is True:
            return Verdict.CERTIFIED
        if ok is False:
            return Verdict.VIOLATED
        return Verdict.INCONCLUSIVE
    diff = b.to_float(b.scalar(hi) - b.scalar(lo))  # >= 0 when the claim holds
    slack = err + (b.radius(lo) + b.radius(hi) if b.rigorous else 0.0)
    if not math.isfinite(diff):
        return Verdict.VIOLATED if diff == -math.inf or math.isnan(diff) else Verdict.HOLDS
    if diff >= slack:
        return Verdict.HOLDS
    if diff < -slack:
        return Verdict.VIOLATED
    return Verdict.INCONCLUSIVE


def _decide_equal(b: Backend, measured: Any, bound: Any, err: float) -> Verdict:
    if b.exact and err == 0.0:
        return Verdict.CERTIFIED if b.scalar(measured) == b.scalar(bound) else Verdict.VIOLATED
    diff = abs(b.to_float(b.scalar(measured) - b.scalar(bound)))
    slack = err + (b.radius(measured) + b.radius(bound) if b.rigorous else 0.0)
    return Verdict.HOLDS if diff <= slack else Verdict.VIOLATED
