"""The record a symbolic proof leaves: what was shown, how, and what is left over."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from zascheck.symbolic.ncalg import Terms

__all__ = ["Proof", "total_residual"]


@dataclass
class Proof:
    """One identity ``lhs = rhs`` reduced by sympy.

    ``residual`` holds the monomials of ``lhs - rhs`` left after the route's
    normal form (expansion in the free algebra, trace normal form, rewriting
    modulo the hypotheses); it is empty exactly when the identity was proven.
    ``scope`` says what the proof covers: ``"every L, every d"`` for the
    free-algebra identities, ``"explicit ..."`` when only explicit sizes were
    checked.
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
            "route": self.route,
            "scope": self.scope,
            "proven": self.proven,
            "residual_terms": self.n_residual,
        }
        if self.residual:
            out["residual_sample"] = [
                f"{k} * {'*'.join(w) or '1'}" for w, k in list(self.residual.items())[:4]
            ]
        return out


def total_residual(proofs: list[Proof]) -> int:
    return sum(p.n_residual for p in proofs)
