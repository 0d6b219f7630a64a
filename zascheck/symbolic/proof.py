"""The record a symbolic proof leaves: what was shown, how, what it covers, and what is left over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from zascheck.symbolic.ncalg import Terms

__all__ = ["Proof", "relabel", "total_residual"]


@dataclass
class Proof:
    """One identity ``lhs = rhs`` reduced by sympy.

    ``residual`` holds the monomials of ``lhs - rhs`` left after the route's
    normal form (expansion in the free algebra, trace normal form, rewriting
    modulo the hypotheses); it is empty exactly when the identity was proven.

    What it covers, twice: ``scope`` in words (``"every L, every d"`` for the
    free-algebra identities, ``"explicit L = 3, every d"`` when only explicit
    sizes were checked), and ``explicit`` as data: the variables the proof
    fixes to one value (``{"L": 3}``, ``{"k": 4}``,
    ``{"shape": "square d x d"}``); a variable it does not fix is covered for
    every value (a free letter, a symbolic scalar, an induction).
    :func:`zascheck.measure.symbolic.certify` reads ``explicit`` to say which
    quantifiers of a card a symbolic result covers.

    ``statement`` names the statement of the claim the proof establishes
    (proofs with the same statement are alternative or complementary routes to
    it: a statement is covered as widely as its widest proof); it defaults to
    ``name``.

    ``defect`` is set when an independent arbiter found the proof's *route*
    unsound (e.g. sympy's ``MatrixSymbol.diff`` returning a wrong derivative):
    such a proof is set aside, neither proving nor refuting anything.
    """

    name: str
    lhs: Any
    rhs: Any
    residual: Terms
    route: str
    scope: str
    steps: list[str] = field(default_factory=list)
    lhs_tex: str = ""
    rhs_tex: str = ""
    explicit: dict[str, Any] = field(default_factory=dict)
    statement: str = ""
    defect: str = ""

    def __post_init__(self) -> None:
        if not self.statement:
            self.statement = self.name
        if self.scope.startswith("explicit") and not self.explicit:
            raise ValueError(f"proof {self.name!r}: scope {self.scope!r} needs its explicit values")

    @property
    def proven(self) -> bool:
        return not self.residual

    @property
    def n_residual(self) -> int:
        return len(self.residual)

    def latex(self) -> str:
        lt = self.lhs_tex or sp.latex(self.lhs)
        rt = self.rhs_tex or sp.latex(self.rhs)
        return f"{lt} = {rt}"

    def summary(self) -> dict[str, Any]:
        """Small JSON-able record for ``CheckResult.evidence``."""
        out: dict[str, Any] = {
            "name": self.name,
            "statement": self.statement,
            "route": self.route,
            "scope": self.scope,
            "explicit": dict(self.explicit),
            "proven": self.proven,
            "residual_terms": self.n_residual,
        }
        if self.residual:
            out["residual_sample"] = [
                f"{k} * {'*'.join(w) or '1'}" for w, k in list(self.residual.items())[:4]
            ]
        if self.defect:
            out["defect"] = self.defect
        return out


def relabel(
    proofs: Sequence[Proof], *, statement: str | None = None, **explicit: Any
) -> list[Proof]:
    """Copies of ``proofs`` as one claim uses them: under ``statement`` and with
    the claim's own variables fixed (``relabel(ps, L=4)`` when a lemma's
    exponent ``k = 3`` is the claim's depth ``L = 4``).

    >>> p = Proof("x", 0, 0, {}, "r", "explicit k = 3", explicit={"k": 3})
    >>> q = relabel([p], statement="Gram bound", L=4)[0]
    >>> (q.statement, q.explicit)
    ('Gram bound', {'k': 3, 'L': 4})
    """
    out = []
    for p in proofs:
        q = replace(p, explicit=p.explicit | explicit)
        if statement is not None:
            q.statement = statement
        out.append(q)
    return out


def total_residual(proofs: Sequence[Proof]) -> int:
    """Monomials left over all ``proofs``: 0 exactly when every one was proven."""
    return sum(p.n_residual for p in proofs)
