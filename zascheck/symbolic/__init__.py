"""Symbolic leg: derive the gradient and prove the paper's identities with sympy.

* :mod:`zascheck.symbolic.ncalg`: free algebra with transpose (non-commuting
  sympy symbols), trace normal form, rewriting modulo relations;
* :mod:`zascheck.symbolic.derive`: ``dR/dW_l`` by first variation, and the
  cross-checks (sympy matrix calculus, entry by entry, mpmath central
  differences), plus ``lambdify`` of the derived gradient;
* :mod:`zascheck.symbolic.identities`: Lemma 4.2, the GD drift, Sec. 3's
  residual form, ``dR/dt``, balanced products and the consequences of the
  invariants fixed at initialisation;
* :mod:`zascheck.symbolic.claims`: which proofs back which claim id;
* the derivation document ``reports/derivations.md`` is written one floor up, by
  :mod:`zascheck.report.derivations`.
"""

from __future__ import annotations

__all__ = ["claims", "derive", "identities", "ncalg", "proof"]
