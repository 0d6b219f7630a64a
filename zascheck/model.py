"""The deep linear network, written once against :mod:`zascheck.arith`.

Notation (``../shared/CLAIMS.md``): layers ``W_1..W_L`` with ``W_l`` of shape
``d_l x d_{l-1}``; ``W_{b:a} = W_b ... W_a`` (empty product = I); end-to-end
``P = W_{L:1}``.  The loss is

* whitened (paper eq. 2.3): ``R = 1/2 ||P - Phi||_F^2``;
* with data (eq. 2.2): ``R~ = 1/2 ||P X - Y||_F^2``.

Both are ``1/2 ||E||_F^2`` with ``E = P X - Y`` (``X = I``, ``Y = Phi`` when
whitened), and the gradient (eq. 2.5) is

    G_l = W_{L:l+1}^T  E X^T  W_{l-1:1}^T .

:func:`loss_and_grads` evaluates all ``L`` gradients with ``3(L - 1)`` matrix
products: the prefixes ``W_{l:1}`` forward, then the chain
``T_l = W_{L:l+1}^T E X^T`` backward (``T_L = E X^T``,
``T_{l-1} = W_l^T T_l``), and ``G_l = T_l W_{l-1:1}^T``.

The GD loop (:func:`zascheck.dynamics.gd`) on large float64 layers, when
nothing looks at the gradients, takes the fused route instead:
:func:`forward` (the prefixes, ``E`` and the loss, as above), then
:func:`descend`, which runs the same backward pass transposed
(``S_l = T_l^T``: ``S_{l-1} = S_l W_l``, ``G_l^T = W_{l-1:1} S_l``, every
product untransposed) and writes ``W_l - eta G_l`` into ``W_l``'s own storage
as soon as ``G_l`` is made, while both are in cache.  Both routes evaluate
eq. 2.5 with the same products; they round differently (a product and its
transpose are summed in different orders by the BLAS), each within the
a-priori bound ``gamma_n`` of its products (``tests/test_model_fast.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from zascheck.arith import Backend
from zascheck.errors import InputError

__all__ = [
    "Target",
    "Workspace",
    "backward",
    "descend",
    "end_to_end",
    "forward",
    "grad_norms2",
    "grads",
    "invariants",
    "loss",
    "loss_and_grads",
    "prefixes",
    "validate",
]


@dataclass(frozen=True)
class Target:
    """What the network is fitted to: ``Phi`` (whitened), or data ``X, Y``.

    Matrices are stored in the backend that built them; use :meth:`to` to move
    a target between backends.
    """

    Y: Any
    X: Any = None

    @classmethod
    def whitened(cls, b: Backend, phi: Any) -> Target:
        return cls(Y=b.matrix(phi))

    @classmethod
    def data(cls, b: Backend, x: Any, y: Any) -> Target:
        return cls(Y=b.matrix(y), X=b.matrix(x))

    def to(self, b: Backend) -> Target:
        return Target(Y=b.matrix(self.Y), X=None if self.X is None else b.matrix(self.X))

    def dims(self, b: Backend) -> tuple[int, int]:
        """(d_y, d_x): output and input dimensions the network must map between."""
        dy, n = b.shape(self.Y)
        if self.X is None:
            return dy, n
        dx, nx = b.shape(self.X)
        if nx != n:
            raise InputError(f"X has {nx} samples (columns) but Y has {n}")
        return dy, dx


def validate(b: Backend, ws: Sequence[Any], target: Target | None = None) -> None:
    """Raise :class:`InputError` naming the problem if the network is malformed."""
    if len(ws) < 1:
        raise InputError("the network needs L >= 1 layers")
    for i in range(1, len(ws)):
        r_prev, _ = b.shape(ws[i - 1])
        _, c = b.shape(ws[i])
        if c != r_prev:
            raise InputError(
                f"layer shapes do not chain: W_{i} is {b.shape(ws[i - 1])} "
                f"but W_{i + 1} is {b.shape(ws[i])}"
            )
    for i, w in enumerate(ws, start=1):
        if not b.is_finite(w):
            raise InputError(f"W_{i} contains NaN or infinite entries")
    if target is not None:
        dy, dx = target.dims(b)
        out, _ = b.shape(ws[-1])
        _, inp = b.shape(ws[0])
        if (out, inp) != (dy, dx):
            raise InputError(
                f"the network maps R^{inp} -> R^{out} but the target needs R^{dx} -> R^{dy}"
            )


class Workspace:
    """Storage that a loop calling :func:`loss_and_grads` (or :func:`forward`
    and :func:`descend`) many times (the GD loop, :func:`zascheck.dynamics.gd`)
    lends it: the prefixes ``W_{l:1}`` (one contiguous block) and the backward
    chain ``T_l`` (two buffers; one more for :func:`descend`'s gradient) are
    written into the same storage at every call instead of ``2(L - 1)`` freshly
    allocated matrices; only the gradients that :func:`loss_and_grads` returns
    are new.  Speed only: :func:`loss_and_grads` gives the same results, bit
    for bit (the same products, :meth:`~zascheck.arith.Backend.mm_into`);
    backends without in-place arithmetic (``product_buffers`` returns ``None``)
    ignore it.  The reused buffers are private to the calls: nothing returned
    by :func:`loss_and_grads` lives in them.  One workspace per loop (not
    shared between threads)."""

    def __init__(self) -> None:
        self._bufs: dict[str, list[Any]] = {}

    @staticmethod
    def for_network(b: Backend, ws: Sequence[Any]) -> Workspace | None:
        """A workspace for GD on ``ws`` in ``b``, or ``None`` when it would not
        be used: layers of different shapes, no in-place arithmetic, or matrices
        too small for reuse to pay (:meth:`~zascheck.arith.Backend.product_buffers`)."""
        shape = b.shape(ws[0])
        if shape[0] != shape[1] or any(b.shape(w) != shape for w in ws):
            return None
        return Workspace() if b.product_buffers(ws[0], ws[0], 1) is not None else None

    @staticmethod
    def contiguous_weights(b: Backend, ws: Sequence[Any]) -> list[Any]:
        """Copies of the equally shaped ``ws`` as views into one fresh
        contiguous block (huge pages: the products of :func:`forward` and
        :func:`descend` read every ``W_l`` at every step), for a loop that
        then updates them in place (:func:`descend`); ``ws`` itself is
        unchanged.  A backend without in-place arithmetic returns ``list(ws)``."""
        block = b.product_buffers(ws[0], ws[0], len(ws))
        if block is None:
            return list(ws)
        return [b.copy_into(w, out) for w, out in zip(ws, block, strict=True)]

    def buffers(self, b: Backend, key: str, n: int, x: Any, y: Any) -> list[Any] | None:
        """``n`` reused buffers named ``key`` for products shaped like ``x y``
        (remade when missing or of another count or shape); ``None`` for a
        backend without in-place arithmetic."""
        bufs = self._bufs.get(key)
        if bufs is None or len(bufs) != n or bufs[0].shape != (*x.shape[:-1], y.shape[-1]):
            new = b.product_buffers(x, y, n)
            if new is None:
                return None
            bufs = self._bufs[key] = new
        return bufs


def prefixes(
    b: Backend, ws: Sequence[Any], work: Workspace | None = None, *, identity: bool = True
) -> list[Any]:
    """``[W_{0:1} = I, W_{1:1}, ..., W_{L:1}]`` (L + 1 matrices, L - 1 products);
    with ``work`` the products are written into its buffers (overwritten at
    the next call with the same ``work``).  ``identity=False`` puts ``None``
    in place of ``W_{0:1} = I`` (the gradient never multiplies by it: making
    it is 10% of a GD step at ``L = 4, d = 2``)."""
    _, d0 = b.shape(ws[0])
    out = [b.eye(d0) if identity else None, ws[0]]
    bufs = None if work is None else work.buffers(b, "pre", len(ws) + 1, ws[-1], ws[0])
    for l, w in enumerate(ws[1:], start=2):
        out.append(b.mm(w, out[-1]) if bufs is None else b.mm_into(w, out[-1], bufs[l]))
    return out


def end_to_end(b: Backend, ws: Sequence[Any]) -> Any:
    """``P = W_{L:1}``."""
    p = ws[0]
    for w in ws[1:]:
        p = b.mm(w, p)
    return p


def residual(b: Backend, p: Any, target: Target) -> Any:
    """``E = P X - Y`` (``P - Phi`` when whitened)."""
    if target.X is None:
        return b.sub(p, target.Y)
    return b.sub(b.mm(p, target.X), target.Y)


def loss(b: Backend, ws: Sequence[Any], target: Target) -> Any:
    """``R = 1/2 ||E||_F^2``."""
    e = residual(b, end_to_end(b, ws), target)
    return b.fro2(e) / 2


def forward(
    b: Backend, ws: Sequence[Any], target: Target, work: Workspace | None = None
) -> tuple[Any, list[Any], Any]:
    """The forward pass of eq. 2.5: ``(R, prefixes, E)`` with the prefixes as
    :func:`prefixes` gives them (``identity=False``; in ``work``'s buffers
    when given) and ``E = P X - Y`` (:func:`residual`), ``R = 1/2 ||E||_F^2``."""
    pre = prefixes(b, ws, work, identity=False)
    e = residual(b, pre[-1], target)
    return b.fro2(e) / 2, pre, e


def loss_and_grads(
    b: Backend, ws: Sequence[Any], target: Target, work: Workspace | None = None
) -> tuple[Any, list[Any]]:
    """Loss and all ``L`` gradients ``G_l = dR/dW_l`` in ``3(L - 1)`` products;
    ``work`` (a :class:`Workspace` kept across calls) saves the allocation of
    the intermediates, with the same results."""
    r, pre, e = forward(b, ws, target, work)
    return r, _grads(b, ws, pre, e, target, work)


def grads(b: Backend, ws: Sequence[Any], target: Target) -> list[Any]:
    """All ``L`` gradients ``G_l = dR/dW_l`` (eq. 2.5) without the loss."""
    pre = prefixes(b, ws, identity=False)
    return _grads(b, ws, pre, residual(b, pre[-1], target), target)


def _grads(
    b: Backend,
    ws: Sequence[Any],
    pre: list[Any],
    e: Any,
    target: Target,
    work: Workspace | None = None,
) -> list[Any]:
    """All ``G_l`` from :func:`backward` (fresh storage: they are returned)."""
    out: list[Any] = [None] * len(ws)
    for l, g in backward(b, ws, pre, e, target, work):
        out[l] = g
    return out


def backward(
    b: Backend,
    ws: Sequence[Any],
    pre: list[Any],
    e: Any,
    target: Target,
    work: Workspace | None = None,
    *,
    transposed: bool = False,
) -> Iterator[tuple[int, Any]]:
    """The backward pass of eq. 2.5 over the prefixes ``pre`` and ``E = e`` of
    :func:`forward`: yields ``(l, G_l)`` for the 0-based layer ``l`` (matrix
    ``W_{l+1}``) from ``l = L - 1`` down to ``0``, in ``2(L - 1)`` products:
    ``G_l = T_l W_{l-1:1}^T`` with ``T_L = E X^T``, ``T_{l-1} = W_l^T T_l``
    (1-based, module docstring); ``G_1 = T_1`` needs no product.

    ``transposed=True`` yields ``G_l^T`` instead, from the transposed chain
    ``S_l = T_l^T``: ``S_L = X E^T``, ``S_{l-1} = S_l W_l``,
    ``G_l^T = W_{l-1:1} S_l``, ``G_1^T = S_1`` (the same products, none of
    them with a transposed right factor, which is the slow orientation of the
    BLAS: ``benchmarks/README.md``); it then also writes each ``G_l^T`` into
    one reused buffer of ``work``, valid until the generator resumes (the
    caller consumes it at once: :func:`descend`).  Without it, the gradients
    are fresh arrays and only the chain reuses ``work``'s two buffers.

    ``W_{l+1}`` has been read for the last time when ``(l, .)`` is yielded, so
    the caller may overwrite it then."""
    L = len(ws)
    if transposed:
        s = b.T(e) if target.X is None else b.mm(target.X, b.T(e))
    else:
        s = e if target.X is None else b.mm(e, b.T(target.X))
    cb = None if work is None or L == 1 else work.buffers(b, "T", 2, ws[-1], s)
    gb = None if work is None or not transposed else work.buffers(b, "G", 1, ws[-1], s)
    # a backend with mm_each (zascheck.iv64) takes the L - 1 products
    # G_l = T_l W_{l-1:1}^T in one call once the chain exists: the chain then
    # keeps every T_l (no reused buffers) and the G_l are yielded after it
    each = None if transposed or work is not None else getattr(b, "mm_each", None)
    chain: list[tuple[int, Any]] = []
    for l in range(L - 1, 0, -1):  # 0-based layer index l  <->  W_{l+1}
        # S_1 = G_1^T is returned by the plain route: fresh storage there
        buf = cb[l % 2] if cb is not None and (l > 1 or transposed) else None
        if transposed:
            g = b.mm_into(pre[l], s, None if gb is None else gb[0])
            s_next = b.mm_into(s, ws[l], buf)
        elif each is not None:
            chain.append((l, s))
            s = b.mm(b.T(ws[l]), s)
            continue
        else:
            g = b.mm(s, b.T(pre[l]))
            s_next = b.mm_into(b.T(ws[l]), s, buf)
        yield l, g
        s = s_next
    if chain:
        gs = each([t for _, t in chain], [b.T(pre[l]) for l, _ in chain])  # type: ignore[misc]
        yield from zip((l for l, _ in chain), gs, strict=True)
    yield 0, s  # W_{0:1} = I: G_1 = W_{L:2}^T E X^T, no product needed


def descend(
    b: Backend,
    ws: list[Any],
    pre: list[Any],
    e: Any,
    target: Target,
    eta: Any,
    work: Workspace | None = None,
) -> list[Any]:
    """One GD step (eq. 2.4) fused with the backward pass: every
    ``W_l - eta G_l`` is written into ``W_l``'s own storage
    (:meth:`~zascheck.arith.Backend.sub_scaled_inplace`) as soon as
    :func:`backward` (``transposed=True``) has made ``G_l``, with the
    roundings of :func:`gd_update`; no gradient is kept.  ``pre``, ``e`` are
    :func:`forward`'s at ``ws``.  The caller must own ``ws`` (nothing else
    may hold these matrices: :meth:`Workspace.contiguous_weights`); returns
    the new weights (``ws`` itself, updated, for an in-place backend)."""
    for l, gt in backward(b, ws, pre, e, target, work, transposed=True):
        ws[l] = b.sub_scaled_inplace(ws[l], eta, b.T(gt))
    return ws


def grad_norms2(b: Backend, grads: Sequence[Any]) -> list[Any]:
    """``||G_l||_F^2`` for every layer."""
    return [b.fro2(g) for g in grads]


def invariants(b: Backend, ws: Sequence[Any]) -> list[Any]:
    """``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T`` for ``l = 1..L-1`` (Lemma 4.2, eq. 4.3)."""
    return [
        b.sub(b.mm(b.T(ws[l + 1]), ws[l + 1]), b.mm(ws[l], b.T(ws[l]))) for l in range(len(ws) - 1)
    ]


def gd_update(
    b: Backend, ws: Sequence[Any], grads: Sequence[Any], eta: Any, *, consume_grads: bool = False
) -> list[Any]:
    """``W_l - eta G_l`` for every layer (new matrices; ``ws`` is unchanged).
    With ``consume_grads`` a backend with in-place arithmetic writes ``W_l``'s
    update into ``G_l``'s storage (the same numbers, bit for bit, without
    allocating): the caller must not use ``grads`` afterwards."""
    each = getattr(b, "sub_scaled_each", None)  # one pass over all layers (zascheck.iv64)
    if each is not None:
        return list(each(ws, eta, grads))
    if consume_grads:
        return [b.sub_scaled_into(w, eta, g, g) for w, g in zip(ws, grads, strict=True)]
    return [b.sub(w, b.scale(eta, g)) for w, g in zip(ws, grads, strict=True)]
