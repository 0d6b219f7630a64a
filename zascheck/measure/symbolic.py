"""Shared measurements (moved from ``checks/symbolic.py``).

Symbolic checks: identities reduced to zero by sympy (issue 3, "Symbolic leg").

Each check is thin: the mathematics is in :mod:`zascheck.symbolic`; a check
collects the proofs of one claim (:func:`zascheck.symbolic.claims.proofs_for`)
and reports ``measured`` = the number of monomials left in ``lhs - rhs``
after the route's normal form, ``bound`` = 0.  ``certified`` means every
residual is exactly zero (``arithmetic="symbolic"``, ``precision_bits=0``);
``violated`` means some identity did not reduce (its monomials are in
``counterexample``).  The ``finite-difference`` check is numeric (mpmath) and
can only give ``holds``.

Scope is stated per proof in ``evidence``: ``every L, every d`` for the
free-algebra identities (layers are non-commuting letters), ``explicit ...``
where only explicit sizes or exponents were checked.
"""

from __future__ import annotations

from zascheck.arith import backend
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic.proof import Proof, total_residual

_WRONG_G = {w: {"wrong": w} for w in ("transpose", "factor", "scale")}


def _certify(proofs: list[Proof], *, route: str, notes: str) -> CheckResult:
    """Result of a symbolic check; ``method`` is left to the runner (the registered name)."""
    n = total_residual(proofs)
    verdict = decide(backend("exact"), n, 0, relation="<=")
    scopes = sorted(
        {p.scope.split(",")[0] if p.scope.startswith("explicit") else p.scope for p in proofs}
    )
    res = CheckResult(
        verdict=verdict,
        measured=float(n),
        bound=0.0,
        margin=float(-n),
        relation="<=",
        arithmetic="symbolic",
        precision_bits=0,
        notes=f"Route: {route}. {notes}",
        evidence={
            "proofs": len(proofs),
            "proven": sum(p.proven for p in proofs),
            "routes": sorted({p.route for p in proofs}),
            "scopes": scopes,
            "unproven": [p.summary() for p in proofs if not p.proven][:6],
        },
    )
    if verdict is Verdict.VIOLATED:
        bad = [p.summary() for p in proofs if not p.proven]
        res.counterexample = {"identities_not_reduced": bad[:6]}
    return res
