"""The result of a symbolic method: identities reduced to zero by sympy, and what they cover.

Every symbolic method of a card collects the proofs of its claim (the card's
``proofs`` set, :mod:`zascheck.symbolic.claims`) and returns
:func:`certify`'s result: ``measured`` = the number of monomials left in
``lhs - rhs`` over all proofs after each route's normal form, ``bound`` = 0.
``certified`` means every residual is exactly zero (``arithmetic="symbolic"``,
``precision_bits=0``); ``violated`` means some identity did not reduce (its
monomials are in ``counterexample``).  A proof whose route an independent
arbiter found unsound (``Proof.defect``, e.g. sympy's ``MatrixSymbol.diff``
returning 0 for a sum of traces) is set aside and named in ``notes`` and
``evidence["set_aside"]``: the verdict comes from the sound routes.

The result's ``scope`` says which quantifiers of the card the proofs cover
(see :func:`certify`'s ``scope`` argument).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zascheck.arith import backend
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide
from zascheck.symbolic.proof import Proof, total_residual

__all__ = ["DEFAULT_SCOPE", "WRONG_GRADIENT_CONTROLS", "certify", "coverage"]

#: the negative controls of the gradient checks: one wrong formula each (eq. 2.5 broken)
WRONG_GRADIENT_CONTROLS = {w: {"wrong": w} for w in ("transpose", "factor", "scale")}
_WRONG_G = WRONG_GRADIENT_CONTROLS  # the name the cards used before; kept for them

#: what :func:`certify` states when a card does not say: depth and width, from the proofs
DEFAULT_SCOPE: Mapping[str, Any] = {"L": "L", "d": "d"}


def certify(
    proofs: Sequence[Proof],
    *,
    route: str,
    notes: str,
    scope: Mapping[str, str | dict[str, Any]] | None = None,
) -> CheckResult:
    """The result of a symbolic check; ``method`` is left to the engine.

    ``proofs``: the claim's proof set.  Proofs with a ``defect`` are set
    aside; the others decide: ``certified`` when every one reduced to zero,
    ``violated`` when one did not, ``inconclusive`` when a statement of the
    claim is left with no sound proof at all.

    ``scope`` maps each quantifier name of the card (``Quantifier.name``) to
    what covers it, one of:

    * a *proof variable* (``"L"``, ``"d"``, ``"m"``, ``"shape"``): a key of
      :attr:`Proof.explicit` (``"k": "m"`` when the card calls the special
      layer ``k`` and the proofs ``m``).  The proofs are grouped by ``statement``; a
      statement covers the variable for every value when one of its proofs
      fixes no value of it (a free letter, a symbolic scalar, an induction),
      otherwise at the values its proofs fix.  The quantifier is covered
      universally only when every statement is; otherwise at the values where
      every statement was proven: ``covers("L <= 5 (explicit L = 2..5)")``.
      The proof sets in :mod:`zascheck.symbolic.claims` fix the card's ``L``
      (and ``m``, the special layer) wherever a proof holds for one depth only.
    * a :func:`zascheck.result.covers` entry, passed through: for quantifiers
      the proofs cover by their form, e.g. ``"Phi": covers("every Phi (free
      letter)", universal=True)`` or ``"c": covers("every c (symbolic
      scalar)", universal=True)``.  Say ``universal=True`` only when every
      proof treats the quantifier as a free letter or a symbol.

    ``None`` means :data:`DEFAULT_SCOPE` (``L`` and ``d`` from the proofs);
    a card quantifier left out is reported ``not covered`` by the engine.
    """
    used = [p for p in proofs if not p.defect]
    aside = [p for p in proofs if p.defect]
    n = total_residual(used)
    verdict = decide(backend("exact"), n, 0, relation="<=")
    orphaned = sorted({p.statement for p in aside} - {p.statement for p in used})
    if orphaned and verdict is not Verdict.VIOLATED:
        verdict = combine_verdicts([verdict, Verdict.INCONCLUSIVE])
    spec = DEFAULT_SCOPE if scope is None else scope
    res = CheckResult(
        verdict=verdict,
        measured=float(n),
        bound=0.0,
        margin=float(-n),
        relation="<=",
        arithmetic="symbolic",
        precision_bits=0,
        notes=f"Route: {route}. {notes}" + _aside_note(aside, orphaned),
        evidence=_evidence(used, aside),
        scope={
            q: (v if isinstance(v, dict) else coverage(used, v, name=q)) for q, v in spec.items()
        },
    )
    if verdict is Verdict.VIOLATED:
        bad = [p.summary() for p in used if not p.proven]
        res.counterexample = {"identities_not_reduced": bad[:6]}
    return res


_certify = certify  # the name the cards used before; kept for them


def coverage(proofs: Iterable[Proof], var: str, *, name: str | None = None) -> dict[str, Any]:
    """What ``proofs`` cover of the proof variable ``var`` (see :func:`certify`),
    worded for the card quantifier ``name`` (default ``var``).

    >>> from zascheck.symbolic.proof import Proof
    >>> ps = [Proof("a", 0, 0, {}, "r", "every L"),
    ...       Proof("b", 0, 0, {}, "r", "explicit L = 2", explicit={"L": 2}, statement="s"),
    ...       Proof("c", 0, 0, {}, "r", "explicit L = 3", explicit={"L": 3}, statement="s")]
    >>> coverage(ps, "L")
    {'covered': 'L <= 3 (explicit L = 2..3)', 'universal': False}
    >>> coverage(ps[:1], "L")
    {'covered': 'every L (symbolic)', 'universal': True}
    """
    groups: dict[str, list[Proof]] = {}
    for p in proofs:
        groups.setdefault(p.statement, []).append(p)
    if not groups:
        return covers("not covered")
    fixed: list[set[Any]] = []
    for ps in groups.values():
        if all(var in p.explicit for p in ps):
            fixed.append({p.explicit[var] for p in ps})
    label = name or var
    if not fixed:
        return covers(f"every {label} (symbolic)", universal=True)
    return covers(_render(label, set.intersection(*fixed)))


def _render(var: str, values: set[Any]) -> str:
    if not values:
        return f"no value of {var} common to every statement"
    if all(isinstance(v, int) for v in values):
        vs = sorted(values)
        if len(vs) == 1:
            return f"{var} = {vs[0]} (explicit)"
        if vs == list(range(vs[0], vs[-1] + 1)):
            return f"{var} <= {vs[-1]} (explicit {var} = {vs[0]}..{vs[-1]})"
        return f"{var} in {{{', '.join(map(str, vs))}}} (explicit)"
    return f"{var}: {', '.join(sorted(map(str, values)))} (explicit)"


def _aside_note(aside: Sequence[Proof], orphaned: Sequence[str]) -> str:
    if not aside:
        return ""
    defects = list(dict.fromkeys(p.defect for p in aside))
    out = (
        f" Set aside, {len(aside)} proof(s) of a route an independent arbiter found "
        f"unsound: {' | '.join(defects[:2])}."
    )
    if orphaned:
        out += f" No sound proof is left for: {', '.join(orphaned)}."
    return out


def _evidence(used: Sequence[Proof], aside: Sequence[Proof]) -> dict[str, Any]:
    statements: dict[str, dict[str, Any]] = {}
    for p in used:
        s = statements.setdefault(p.statement, {"proofs": 0, "proven": 0, "scopes": []})
        s["proofs"] += 1
        s["proven"] += int(p.proven)
        if p.scope not in s["scopes"]:
            s["scopes"].append(p.scope)
    return {
        "proofs": len(used),
        "proven": sum(p.proven for p in used),
        "routes": sorted({p.route for p in used}),
        "statements": statements,
        "unproven": [p.summary() for p in used if not p.proven][:6],
        "set_aside": [p.summary() for p in aside][:6],
    }
