"""The claim card: one module per claim id states the claim and holds its methods.

A card module (``zascheck/claims/<family>/<name>.py``, or a user's own file run
with ``zascheck check --cards FILE``) reads top to bottom like a theorem card
(PEPit's examples, made stricter; ``../shared/STYLE.md``):

1. its docstring quotes the claim from its source (section, equation), says
   whether the bound is claimed tight or only an upper bound, and which
   reading is formalized;
2. ``CARD = Card(...)``: id, section, kind, source, statement, ``bound``
   (``tight`` / ``upper`` / ``lower`` / ``exact`` / ``none``), the
   ``quantifiers`` the claim ranges over, the ``depends_on`` claims its proof
   uses, and the report's figure (if any);
3. its methods, each a short function ``fn(ctx, **params) -> CheckResult``
   decorated with ``@CARD.check(method, budgets=..., controls=...)``, and its
   hypothesis properties (``CARD.prop(...)``) behind ``method="search"``.

The shared measurements a method calls live one floor down
(:mod:`zascheck.measure`, :mod:`zascheck.model`, :mod:`zascheck.dynamics`,
...); a card never imports another card.  :mod:`zascheck.engine` finds the
cards, runs their methods and fills in what every result shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zascheck.arith import MIN_PRECISION, Backend, backend
from zascheck.errors import InputError
from zascheck.result import CheckResult

__all__ = [
    "BOUND_KINDS",
    "BUDGETS",
    "Card",
    "Check",
    "Prop",
    "Quantifier",
    "RunContext",
]

BUDGETS = ("quick", "standard", "thorough")

#: default time limit of one check per budget (seconds; 0 = none): a check that
#: runs over ends ``inconclusive`` instead of hanging (``--time-limit`` overrides)
TIME_LIMITS = {"quick": 300.0, "standard": 3600.0, "thorough": 0.0}

#: what a card may say of its bound: claimed tight (attained), an upper /
#: lower bound only, an exact identity, or no bound (an empirical finding)
BOUND_KINDS = ("tight", "upper", "lower", "exact", "none")

ZAS = "Wu, Wang & Ma, NeurIPS 2019 (ZAS paper)"
ZAS_REV = "reviews of the ZAS paper (NeurIPS 2019)"
SSM_REV = "reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018)"
SUITE = "this suite (beyond the sources; CLAIMS.md section D)"


@dataclass
class RunContext:
    """What the user chose for a run (budget, precision, seed, target, progress, data)."""

    budget: str = "quick"
    precision: int | None = None  # bits, for mp/ball checks; None = each check's default
    seed: int = 0
    phi: np.ndarray | None = None
    progress: bool = False
    #: seconds a check may run before it ends ``inconclusive`` (None: the budget's default; 0: none)
    time_limit: float | None = None
    #: a folder of data files for the checks that read real data (``--data DIR``:
    #: Fashion-MNIST IDX files for ``zas.fig4``); None = each check's shipped default
    data: str | None = None

    def __post_init__(self) -> None:
        if self.budget not in BUDGETS:
            raise InputError(f"unknown budget {self.budget!r}; choose one of {', '.join(BUDGETS)}")
        if self.precision is not None and self.precision < MIN_PRECISION:
            raise InputError(
                f"precision {self.precision} bits is too low: at least {MIN_PRECISION} is required"
            )

    def seconds_allowed(self) -> float | None:
        """The time limit of one check: ``time_limit``, else :data:`TIME_LIMITS` of the budget."""
        limit = TIME_LIMITS[self.budget] if self.time_limit is None else self.time_limit
        return limit or None

    def bits(self, default: int) -> int:
        """Working precision for a high-precision check."""
        return self.precision if self.precision is not None else default

    def backend(self, arithmetic: str, default_bits: int = 128) -> Backend:
        """The arithmetic backend ``arithmetic`` at the run's precision."""
        if arithmetic in ("float64", "exact"):
            return backend(arithmetic)
        return backend(arithmetic, self.bits(default_bits))

    def rng(self, salt: int = 0) -> np.random.Generator:
        """A generator seeded by ``(seed, salt)``: one stream per use."""
        return np.random.default_rng([self.seed, salt])


@dataclass(frozen=True)
class Quantifier:
    """One thing a claim ranges over, e.g. ``Quantifier("t", "t >= 0")``.

    ``name`` is the key a result's ``scope`` uses for it (``t``, ``Phi``,
    ``L``, ``d``, ``init``, ``eta``, ``X``, ...); ``over`` says what the claim
    quantifies, in the source's terms.
    """

    name: str
    over: str


@dataclass
class Check:
    """One method of a card: ``fn(ctx, **params) -> CheckResult``.

    ``budgets`` are parameter sets for ``quick`` / ``standard`` /
    ``thorough`` (a missing budget falls back to the next smaller one);
    ``controls`` are negative controls, parameter overrides that break one
    hypothesis of the claim and must give ``violated``; ``accepts_phi`` says
    whether a user target (``--phi``) replaces the default one.
    """

    claim: str
    method: str
    fn: Callable[..., CheckResult]
    budgets: dict[str, dict[str, Any]]
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepts_phi: bool = False
    summary: str = ""
    module: str = ""
    #: whether the check reads real data from ``--data DIR`` (``RunContext.data``)
    accepts_data: bool = False

    @property
    def key(self) -> str:
        return f"{self.claim}:{self.method}"

    def params_for(self, budget: str) -> dict[str, Any]:
        i = BUDGETS.index(budget)
        for b in reversed(BUDGETS[: i + 1]):
            if b in self.budgets:
                return dict(self.budgets[b])
        return {}

    @property
    def inputs(self) -> list[str]:
        """What ``--case`` (and ``--phi`` where accepted) may set for this method."""
        keys: set[str] = set()
        for p in self.budgets.values():
            keys |= set(p)
        if self.accepts_phi:
            keys.add("phi")
        return sorted(keys)


@dataclass(frozen=True)
class Prop:
    """A hypothesis property of one claim (``control`` is None) or a negative
    property (one hypothesis dropped; a search must find a counterexample).

    ``strategy()`` builds the hypothesis strategy of JSON cases;
    ``evaluate(case, certify)`` decides one case through
    :func:`zascheck.escalate.escalate` and returns an ``Escalated``.
    """

    claim: str
    control: str | None
    strategy: Callable[[], Any]
    evaluate: Callable[[dict[str, Any], bool], Any]
    certify: bool
    summary: str

    @property
    def key(self) -> str:
        return self.claim if self.control is None else f"{self.claim}/{self.control}"

    @property
    def expect_violation(self) -> bool:
        return self.control is not None


@dataclass
class Card:
    """A claim: what it says, where it is from, what it ranges over, what it
    rests on, and (filled by the decorators) its methods and properties."""

    id: str
    section: (
        str  # "A" ZAS paper, "B" ZAS reviews, "C" SSM reviews, "D" beyond the sources, "U" user
    )
    kind: str
    source: str
    statement: str
    bound: str = "upper"
    quantifiers: tuple[Quantifier, ...] = ()
    depends_on: tuple[str, ...] = ()
    reconstructed: bool = False
    figure: str | None = None
    #: the report's sweeps behind this claim's figure, per report budget
    #: (``{"standard": {"fig2": {...}}}``; ``check_budget`` runs its checks at another budget)
    report: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the symbolic proof set (``zascheck.symbolic.claims``), when the claim has one
    proofs: Callable[..., list[Any]] | None = None
    #: parts of a statement with several (Lemmas 4.4-4.6, Remark (2)'s readings, ...)
    parts: tuple[str, ...] = ()
    checks: list[Check] = field(default_factory=list)
    props: list[Prop] = field(default_factory=list)
    #: (quick, standard, thorough) hypothesis examples of the ``search`` method
    search_examples: tuple[int, int, int] | None = None
    #: what the ``search`` method's cases cover, per quantifier (``Card.search(scope=...)``)
    search_scope: dict[str, str] = field(default_factory=dict)
    module: str = ""
    file: str = ""

    def __post_init__(self) -> None:
        if self.bound not in BOUND_KINDS:
            raise ValueError(f"{self.id}: bound must be one of {BOUND_KINDS}, not {self.bound!r}")

    @property
    def provenance(self) -> str:
        p = self.source
        return p + (
            " [reconstructed: SSM's own text is not in the seeds]" if self.reconstructed else ""
        )

    @property
    def inputs(self) -> list[str]:
        """Every input some method of this card accepts."""
        out: set[str] = set()
        for c in self.checks:
            out |= set(c.inputs)
        return sorted(out)

    def check(
        self,
        method: str,
        *,
        budgets: dict[str, dict[str, Any]],
        controls: dict[str, dict[str, Any]] | None = None,
        accepts_phi: bool = False,
        accepts_data: bool = False,
    ) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
        """Decorator: attach ``fn(ctx, **params) -> CheckResult`` as method ``method``."""

        def deco(fn: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
            if any(c.method == method for c in self.checks):
                raise KeyError(f"{self.id}:{method} defined twice")
            doc = (fn.__doc__ or "").strip().splitlines()
            self.checks.append(
                Check(
                    self.id,
                    method,
                    fn,
                    budgets,
                    dict(controls or {}),
                    accepts_phi,
                    doc[0] if doc else "",
                    fn.__module__,
                    accepts_data,
                )
            )
            return fn

        return deco

    def prop(
        self,
        control: str | None,
        strategy: Callable[[], Any],
        evaluate: Callable[[dict[str, Any], bool], Any],
        *,
        certify: bool,
        summary: str,
    ) -> Prop:
        """Declare a hypothesis property (``control=None``) or a negative one."""
        p = Prop(self.id, control, strategy, evaluate, certify, summary)
        if any(q.key == p.key for q in self.props):
            raise KeyError(f"property {p.key} defined twice")
        self.props.append(p)
        return p

    def search(
        self, examples: tuple[int, int, int], *, scope: dict[str, str] | None = None
    ) -> None:
        """Give the card a ``search`` method that runs its properties with
        ``examples`` hypothesis examples per budget (quick, standard, thorough);
        every negative property is a control of it.  ``scope`` says, per
        quantifier name, what the property's strategy draws (``"L <= 4"``): the
        search result's ``scope`` (samples, never universal)."""
        self.search_examples = examples
        self.search_scope = dict(scope or {})
