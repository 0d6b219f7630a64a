"""A free algebra with transpose, on top of sympy's non-commutative symbols.

An identity between matrix polynomials that holds in the *free* algebra with
an involution (``(XY)^T = Y^T X^T``, ``(X^T)^T = X``) holds for every
substitution of real matrices of compatible shapes: a matrix of any size is a
homomorphic image of a free letter.  That is how one symbolic identity covers
every depth ``L`` and width ``d`` at once.

Letters are sympy ``Symbol(name, commutative=False)``; the transpose of a
letter ``X`` is the letter ``X^T`` (so sympy's LaTeX printer shows
``X^{T}``).  Scalars (``eta``, ``c``, ``alpha``, ``t``) are ordinary
commutative symbols.  A polynomial is compared through its *terms*: a dict
``word -> coefficient`` where a word is a tuple of letter names; sympy's
``expand`` does the multiplication, and a polynomial is zero exactly when its
term dict is empty (the monomials of a free algebra are linearly independent).

Traces are handled by a normal form: ``tr(w)`` is replaced by the smallest of
the cyclic rotations of ``w`` and of its transpose word (``tr(XY) = tr(YX)``,
``tr(X^T) = tr(X)``, valid for rectangular compatible shapes).  Two trace
polynomials with equal normal forms are equal for all matrices; the converse
is not needed (we only ever conclude equality from it).

Relations (``W_1 W_1^T = W_2^T W_2``, ...) are imposed by a terminating
rewrite system on words; equal normal forms prove equality modulo the
relations.

>>> alg = Algebra()
>>> A, B = alg.letters("A B")
>>> alg.T(A * B) == alg.letter("B^T") * alg.letter("A^T")
True
>>> alg.terms(A * B - A * B)
{}
>>> alg.trace_terms(A * B - B * A)
{}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sympy as sp

__all__ = ["Algebra", "Terms", "Word", "partner_name"]

Word = tuple[str, ...]
Terms = dict[Word, Any]


def partner_name(name: str) -> str:
    """Name of the transposed letter: ``X <-> X^T``."""
    return name[:-2] if name.endswith("^T") else name + "^T"


class Algebra:
    """Letters, transpose, expansion into words, trace and rewriting normal forms.

    ``symmetric`` letters are their own transpose (used for opaque powers such
    as ``(X^T X)^k`` in induction proofs).
    """

    def __init__(self) -> None:
        self._letters: dict[str, sp.Symbol] = {}
        self._symmetric: set[str] = set()

    # -- letters -------------------------------------------------------------
    def letter(self, name: str, *, symmetric: bool = False) -> sp.Symbol:
        if name not in self._letters:
            self._letters[name] = sp.Symbol(name, commutative=False)
            if symmetric:
                self._symmetric.add(name)
            else:
                p = partner_name(name)
                self._letters.setdefault(p, sp.Symbol(p, commutative=False))
        return self._letters[name]

    def letters(self, names: str | Iterable[str], *, symmetric: bool = False) -> list[sp.Symbol]:
        if isinstance(names, str):
            names = names.split()
        return [self.letter(n, symmetric=symmetric) for n in names]

    def tname(self, name: str) -> str:
        return name if name in self._symmetric else partner_name(name)

    # -- transpose -------------------------------------------------------------
    def T(self, expr: Any) -> Any:
        """Transpose of a polynomial: reverse every word, transpose every letter."""
        expr = sp.sympify(expr)
        if expr.is_commutative:
            return expr
        if isinstance(expr, sp.Symbol):
            return self.letter(self.tname(expr.name))
        if isinstance(expr, sp.Add):
            return sp.Add(*[self.T(a) for a in expr.args])
        if isinstance(expr, sp.Mul):
            c, nc = expr.args_cnc()
            return sp.Mul(*c) * sp.Mul(*[self.T(f) for f in reversed(nc)])
        if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp >= 0:
            return self.T(expr.base) ** expr.exp
        raise TypeError(f"cannot transpose {expr!r}")

    # -- words -------------------------------------------------------------------
    def terms(self, expr: Any) -> Terms:
        """``word -> coefficient`` of the expanded polynomial, zero terms dropped."""
        out: Terms = {}
        for term in sp.Add.make_args(sp.expand(sp.sympify(expr))):
            c, nc = term.args_cnc()
            word: list[str] = []
            for f in nc:
                if isinstance(f, sp.Symbol):
                    word.append(f.name)
                elif isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp > 0:
                    if not isinstance(f.base, sp.Symbol):
                        raise TypeError(f"unexpanded power {f!r}")
                    word.extend([f.base.name] * int(f.exp))
                else:
                    raise TypeError(f"not a word factor: {f!r}")
            key = tuple(word)
            out[key] = out.get(key, 0) + sp.Mul(*c)
        return {w: sp.expand(k) for w, k in out.items() if sp.expand(k) != 0}

    def from_terms(self, terms: Mapping[Word, Any]) -> Any:
        return sp.Add(*[k * sp.Mul(*[self.letter(n) for n in w]) for w, k in terms.items()])

    def word_T(self, word: Word) -> Word:
        return tuple(self.tname(n) for n in reversed(word))

    # -- traces ------------------------------------------------------------------
    def trace_key(self, word: Word) -> Word:
        """Canonical representative of ``tr(word)`` under rotation and transposition."""
        cands: list[Word] = []
        for w in (word, self.word_T(word)):
            cands.extend(w[i:] + w[:i] for i in range(max(len(w), 1)))
        return min(cands)

    def trace_terms(self, expr: Any) -> Terms:
        """Normal form of ``tr(expr)`` (a scalar polynomial in the letters)."""
        out: Terms = {}
        for w, k in self.terms(expr).items():
            key = self.trace_key(w)
            out[key] = out.get(key, 0) + k
        return {w: sp.expand(k) for w, k in out.items() if sp.expand(k) != 0}

    def trace_gradient(self, expr: Any, h: str) -> Any:
        """``G`` with ``tr(expr) = tr(G h^T)``, for ``expr`` linear in the letter ``h``.

        Every word must contain exactly one ``h`` or ``h^T``; a word holding
        ``h`` is transposed first (``tr(w) = tr(w^T)``), then rotated so that
        ``h^T`` is last.  This is the Riesz representative of the linear map
        ``h -> tr(expr)`` for the Frobenius inner product ``<G, H> = tr(G H^T)``.
        """
        ht = self.tname(h)
        out: Terms = {}
        for w, k in self.terms(expr).items():
            n_h = w.count(h) + (w.count(ht) if ht != h else 0)
            if n_h != 1:
                raise ValueError(f"word {w} is not linear in {h}")
            if ht not in w:
                w = self.word_T(w)
            i = w.index(ht)
            g = w[i + 1 :] + w[:i]
            out[g] = out.get(g, 0) + k
        return self.from_terms({w: k for w, k in out.items() if sp.expand(k) != 0})

    # -- rewriting -----------------------------------------------------------------
    def rewrite(
        self, expr: Any, rules: Sequence[tuple[Any, Any]], *, max_steps: int = 10_000
    ) -> Terms:
        """Normal form of ``expr`` under the rules ``lhs_word -> rhs`` (leftmost first).

        ``lhs`` must be a single word (a product of letters).  The caller is
        responsible for termination (the rule sets used here decrease a
        weight); ``max_steps`` guards against a non-terminating set by raising.
        """
        rule_words = []
        for lhs, rhs in rules:
            lt = self.terms(lhs)
            if len(lt) != 1 or next(iter(lt.values())) != 1:
                raise ValueError(f"rule left side {lhs!r} must be a single word")
            rule_words.append((next(iter(lt)), self.terms(rhs)))
        todo: Terms = dict(self.terms(expr))
        done: Terms = {}
        steps = 0
        while todo:
            w, k = todo.popitem()
            hit = _find_rule(w, rule_words)
            if hit is None:
                done[w] = sp.expand(done.get(w, 0) + k)
                continue
            steps += 1
            if steps > max_steps:
                raise RuntimeError("rewrite system did not terminate within max_steps")
            i, lw, rhs = hit
            for rw, rk in rhs.items():
                nw = w[:i] + rw + w[i + len(lw) :]
                todo[nw] = sp.expand(todo.get(nw, 0) + k * rk)
                if todo[nw] == 0:
                    del todo[nw]
        return {w: k for w, k in done.items() if k != 0}


def _find_rule(word: Word, rules: list[tuple[Word, Terms]]) -> tuple[int, Word, Terms] | None:
    for i in range(len(word)):
        for lw, rhs in rules:
            if word[i : i + len(lw)] == lw:
                return i, lw, rhs
    return None


def count_terms(terms: Mapping[Word, Any]) -> int:
    """Number of nonzero monomials (the 'measured' of an identity check)."""
    return len(terms)
