"""Products: matmul, dot, inner, outer, vdot, tensordot, einsum, multi_dot, matrix_power.

The trap: the tangent's direction axis must be a batch axis of the product, never a
contracted or matrix axis. matmul's rules promote 1-D operands to matrices and pad the batch
dimensions so that the direction axis leads. Every other contraction (dot, inner, tensordot,
einsum) is differentiated with einsum itself: the tangent of operand ``i`` gets a fresh label
``Z`` in front of its subscripts, and so does the output (``Zij,jk->Zik``). np.dot's N-D rule
contracts the last axis of ``a`` with the second-to-last of ``b``, unlike matmul, which
broadcasts batch axes; the subscripts spell out each case.
"""

from __future__ import annotations

import functools
import operator
import string
from typing import Any

import numpy as np

from .. import storage
from ..axes import normalize_axis, shape_of, sum_to_shape
from ..errors import UnsupportedPrimitiveError
from ..registry import Example, Family
from .complex_parts import conj_if_complex

PRODUCTS = Family("products", complex_rules=True)


def _batch_rank(x: Any, y: Any) -> int:
    return max(max(np.ndim(x) - 2, 0), max(np.ndim(y) - 2, 0))


def _as_batched_matrix(dx: Any, ndim: int, is_left: bool, rank: int) -> Any:
    """Tangent ``(k,) + shape`` of an operand as ``(k, 1.., batch.., rows, cols)``."""
    shape = np.shape(dx)
    if ndim == 1:
        shape = shape[:1] + ((1,) + shape[1:] if is_left else shape[1:] + (1,))
    batch = len(shape) - 3
    return np.reshape(dx, shape[:1] + (1,) * (rank - batch) + shape[1:])


def _unpromote(r: Any, x: Any, y: Any) -> Any:
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return r[..., 0, 0]
    if np.ndim(x) == 1:
        return r[..., 0, :]
    if np.ndim(y) == 1:
        return r[..., 0]
    return r


def _matmul_dx(dx: Any, x: Any, y: Any, *, out: Any) -> Any:
    if np.ndim(y) <= 2:  # a constant right factor: one large product instead of k small ones
        flat = np.matmul(np.reshape(dx, (-1, np.shape(x)[-1])), y)
        return np.reshape(flat, np.shape(dx)[:1] + np.shape(out))
    rank = _batch_rank(x, y)
    ym = y[:, None] if np.ndim(y) == 1 else y
    return _unpromote(np.matmul(_as_batched_matrix(dx, np.ndim(x), True, rank), ym), x, y)


def _matmul_dy(dy: Any, x: Any, y: Any, *, out: Any) -> Any:
    if np.ndim(x) == 2 and np.ndim(y) == 1:  # W @ v: the k directions as one product
        return np.matmul(dy, np.swapaxes(x, -1, -2))
    if np.ndim(x) == 2 and np.ndim(y) == 2:  # the k directions side by side as columns
        k, (n, m) = np.shape(dy)[0], np.shape(y)
        columns = np.reshape(np.moveaxis(dy, 0, 1), (n, k * m))
        return np.moveaxis(np.reshape(np.matmul(x, columns), (np.shape(x)[0], k, m)), 1, 0)
    rank = _batch_rank(x, y)
    xm = x[None, :] if np.ndim(x) == 1 else x
    return _unpromote(np.matmul(xm, _as_batched_matrix(dy, np.ndim(y), False, rank)), x, y)


def _promoted_sum(r: Any, x: Any, promoted: tuple) -> Any:
    """``r`` of shape ``(k,) + batch + promoted matrix`` summed back to ``(k,) + x.shape``."""
    r = sum_to_shape(r, promoted)
    return r if len(promoted) == np.ndim(x) else np.reshape(r, np.shape(r)[:1] + np.shape(x))


def _matmul_vjp_x(ct: Any, x: Any, y: Any, *, out: Any) -> Any:
    """x_bar = ct @ y^T (1-D operands promoted, broadcast batch axes summed back)."""
    if np.ndim(y) == 1:  # an outer product ct[..., i] * y[j]; x's batch is the output's
        return ct[..., None] * y
    if np.ndim(y) == 2:  # y constant over the batch: one large product
        flat = np.matmul(np.reshape(ct, (-1, np.shape(y)[1])), np.transpose(y))
        return np.reshape(flat, np.shape(ct)[:1] + np.shape(x))
    if np.ndim(x) == 1:  # x as a row (1, m); ct gains that row axis
        return _promoted_sum(np.matmul(ct[..., None, :], np.swapaxes(y, -1, -2)), x,
                             (1,) + np.shape(x))
    return _promoted_sum(np.matmul(ct, np.swapaxes(y, -1, -2)), x, np.shape(x))


def _matmul_vjp_y(ct: Any, x: Any, y: Any, *, out: Any) -> Any:
    """y_bar = x^T @ ct (1-D operands promoted, broadcast batch axes summed back)."""
    if np.ndim(x) == 1:  # an outer product x[i] * ct[..., j]; y's batch is the output's
        return ct[:, None] * x if np.ndim(y) == 1 else ct[..., None, :] * x[:, None]
    if np.ndim(x) == 2 and np.ndim(y) == 1:  # ct (k, n) @ x (n, m)
        return np.matmul(ct, x)
    if np.ndim(x) == 2:  # y's batch (and k) is the output's: x^T broadcasts over it
        return np.matmul(np.transpose(x), ct)
    if np.ndim(y) == 1:  # y as a column (m, 1); ct gains that column axis
        return _promoted_sum(np.matmul(np.swapaxes(x, -1, -2), ct[..., None]), y,
                             np.shape(y) + (1,))
    return _promoted_sum(np.matmul(np.swapaxes(x, -1, -2), ct), y, np.shape(y))


matmul = PRODUCTS.defprimitive(
    "matmul", impl=np.matmul, numpy=np.matmul, jvp=(_matmul_dx, _matmul_dy),
    vjp=(_matmul_vjp_x, _matmul_vjp_y),
    examples=tuple(
        Example(lambda np_, x, y: np_.matmul(x, y), shapes)
        for shapes in (
            ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
            ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
            ((2, 1, 2, 3), (5, 3, 4)),
        )
    ) + (Example(lambda np_, x, y: x @ y, ((2, 3), (3, 2))),),
    doc="x @ y; d = dx @ y + x @ dy",
)


def _vecdot(x1: Any, x2: Any, /, *, axis: int = -1, **kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"np.vecdot on dual arrays does not support {sorted(kwargs)}")
    return np.sum(conj_if_complex(x1) * x2, axis=axis)  # NumPy conjugates x1


def _matvec(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"np.matvec on dual arrays does not support {sorted(kwargs)}")
    return np.matmul(x1, np.expand_dims(x2, -1))[..., 0]


def _vecmat(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"np.vecmat on dual arrays does not support {sorted(kwargs)}")
    return np.matmul(np.expand_dims(conj_if_complex(x1), -2), x2)[..., 0, :]  # conj(x1)


if hasattr(np, "vecdot"):
    vecdot = PRODUCTS.defcomposite(
        "vecdot", _vecdot, numpy=np.vecdot,
        examples=(Example(lambda np_, x, y: np_.vecdot(x, y), ((2, 3), (3,))),
                  Example(lambda np_, x, y: np_.vecdot(x, y), ((4, 1, 3), (2, 3)))),
        doc="sum(x * y, axis=-1)",
    )
if hasattr(np, "matvec"):
    matvec = PRODUCTS.defcomposite(
        "matvec", _matvec, numpy=np.matvec,
        examples=(Example(lambda np_, a, v: np_.matvec(a, v), ((2, 3), (3,))),
                  Example(lambda np_, a, v: np_.matvec(a, v), ((4, 2, 3), (1, 3)))),
        doc="stacked matrix-vector product",
    )
    vecmat = PRODUCTS.defcomposite(
        "vecmat", _vecmat, numpy=np.vecmat,
        examples=(Example(lambda np_, v, a: np_.vecmat(v, a), ((2,), (2, 3))),
                  Example(lambda np_, v, a: np_.vecmat(v, a), ((4, 2), (4, 2, 3)))),
        doc="stacked vector-matrix product",
    )


# --------------------------------------------------------------------------- einsum

_LABELS = string.ascii_letters


def _ndim(x: Any) -> int:
    return x.ndim if hasattr(x, "ndim") else np.ndim(x)



def _einsum_optimize(xs: Any) -> Any:
    """Let NumPy use BLAS (a contraction path) unless the operands are small."""
    big = sum(getattr(x, "size", 1) for x in xs) > 4096
    return "greedy" if len(xs) > 2 or big else False


def _tangent_einsum(terms: list[str], output: str, xs: Any, i: int, dx: Any) -> Any:
    """einsum with operand ``i`` replaced by its tangent, whose leading axis is a new label."""
    z = next(c for c in _LABELS if c not in "".join(terms) + output)
    terms = list(terms)
    terms[i] = z + terms[i]
    operands = list(xs)
    operands[i] = dx
    return np.einsum(f"{','.join(terms)}->{z}{output}", *operands,
                     optimize=_einsum_optimize(operands))


def _fresh_labels(used: str) -> Any:
    """Labels not in ``used``, in order; running out is an UnsupportedPrimitiveError."""
    yield from (c for c in _LABELS if c not in used)
    raise UnsupportedPrimitiveError(
        "np.einsum in reverse mode: its transpose needs more than 52 distinct subscript "
        "labels (the operands' dimensions, broadcast axes and repeated labels each take "
        "one). Split the einsum into several smaller ones, or use dualad.jacfwd.")


def _canonical(subscripts: str, shapes: Any) -> tuple[list[str], str, dict]:
    """Explicit subscripts without '...' or size-1 broadcasting: every label has one size.

    Ellipsis axes get labels of their own (aligned right, as NumPy broadcasts them), and an
    axis of size 1 that broadcasts against a longer one gets a fresh label of its own, which
    the transpose then sums over. Returns the terms, the output and each label's size.
    """
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    fresh = _fresh_labels(subscripts)
    if "..." in subscripts:
        ranks = [len(s) - len(t.replace("...", "")) if "..." in t else 0
                 for t, s in zip(terms, shapes, strict=True)]
        ellipsis = "".join(next(fresh) for _ in range(max(ranks, default=0)))
        terms = [t.replace("...", ellipsis[len(ellipsis) - r:]) for t, r in zip(terms, ranks)]
        output = output.replace("...", ellipsis)
    sizes: dict[str, int] = {}
    for t, shape in zip(terms, shapes, strict=True):
        for c, n in zip(t, shape, strict=True):
            sizes[c] = max(sizes.get(c, 1), n)
    for j, (t, shape) in enumerate(zip(terms, shapes, strict=True)):
        if any(n != sizes[c] for c, n in zip(t, shape)):  # n == 1: broadcast
            terms[j] = "".join(c if n == sizes[c] else next(fresh) for c, n in zip(t, shape))
            sizes.update((c, 1) for c in terms[j] if c not in sizes)
    return terms, output, sizes


def _transpose_einsum(terms: list[str], output: str, sizes: dict, xs: Any, i: int,
                      ct: Any) -> Any:
    """The cotangent of operand ``i``: einsum of ``ct`` (labels Z + output) with the other
    operands into ``i``'s labels. A repeated label of ``i`` (``ii``) gets a fresh label tied
    to it by an identity matrix, and a label only ``i`` has (summed in the forward einsum)
    is spread by a vector of ones."""
    fresh = _fresh_labels("".join(terms) + output)
    z = next(fresh)
    target, seen, extra, operands = "", set(), [], []
    for c in terms[i]:
        if c in seen:
            f = next(fresh)
            extra.append(c + f)
            operands.append(np.eye(sizes[c], dtype=ct.dtype))
            c = f
        seen.add(c)
        target += c
    others = [t for j, t in enumerate(terms) if j != i]
    known = set(output).union(*others, *extra)
    for c in dict.fromkeys(terms[i]):
        if c not in known:
            extra.append(c)
            operands.append(np.ones(sizes[c], dtype=ct.dtype))
    operands = [ct, *(x for j, x in enumerate(xs) if j != i), *operands]
    spec = ",".join([z + output, *others, *extra]) + "->" + z + target
    return np.einsum(spec, *operands, optimize=_einsum_optimize(operands))


def _sublist(sub: Any) -> str:
    return "".join("..." if s is Ellipsis else _LABELS[s] for s in sub)


def _explicit(subscripts: str) -> str:
    """NumPy's implicit output: ellipsis first, then the labels used once, sorted."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        return subscripts
    labels = subscripts.replace("...", "").replace(",", "")
    once = "".join(sorted(c for c in set(labels) if labels.count(c) == 1))
    return subscripts + "->" + ("..." if "..." in subscripts else "") + once


def _einsum_split_args(*operands: Any, out: Any = None, optimize: Any = False, dtype: Any = None,
                       order: str = "K", casting: str = "safe") -> tuple:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    if isinstance(operands[0], str):
        return tuple(operands[1:]), {"subscripts": _explicit(operands[0])}
    n = len(operands) // 2  # interleaved: op0, sublist0, op1, sublist1, ..., [output sublist]
    subscripts = ",".join(_sublist(s) for s in operands[1:2 * n:2])
    if len(operands) % 2:
        subscripts += "->" + _sublist(operands[-1])
    return tuple(operands[0:2 * n:2]), {"subscripts": _explicit(subscripts)}


def _einsum_jvp(dxs: Any, *xs: Any, out: Any, subscripts: str) -> Any:
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    parts = [_tangent_einsum(terms, output, xs, i, dx)
             for i, dx in enumerate(dxs) if dx is not None]  # None: a constant operand
    return functools.reduce(np.add, parts)


def _einsum_vjp(ct: Any, *xs: Any, out: Any, subscripts: str) -> tuple:
    """x_bar_i = einsum of ct with the other operands into x_i's labels (see
    _transpose_einsum)."""
    terms, output, sizes = _canonical(subscripts, [shape_of(x) for x in xs])
    return tuple(_transpose_einsum(terms, output, sizes, xs, i, ct) for i in range(len(xs)))


def _einsum_impl(*xs: Any, subscripts: str) -> Any:
    return np.einsum(subscripts, *xs, optimize=_einsum_optimize(xs))


einsum = PRODUCTS.defprimitive(
    "einsum", impl=_einsum_impl, numpy=np.einsum, split_args=_einsum_split_args,
    jvp_all=_einsum_jvp, vjp_all=_einsum_vjp,
    examples=(
        Example(lambda np_, x, y: np_.einsum("ij,jk->ik", x, y), ((2, 3), (3, 4))),
        Example(lambda np_, x, y: np_.einsum("ij,jk", x, y), ((2, 3), (3, 4))),
        Example(lambda np_, x, y: np_.einsum("ij,ik", x, y), ((3, 2), (3, 4))),
        Example(lambda np_, x, y: np_.einsum("...ij,...jk->...ik", x, y), ((5, 2, 3), (3, 4))),
        Example(lambda np_, x, y: np_.einsum("...ij,...jk", x, y), ((2, 3), (4, 3, 2))),
        Example(lambda np_, x: np_.einsum("ii->", x), ((3, 3),)),
        Example(lambda np_, x: np_.einsum("ii", x), ((3, 3),)),
        Example(lambda np_, x: np_.einsum("ii->i", x), ((3, 3),)),
        Example(lambda np_, x: np_.einsum("ji", x), ((2, 3),)),
        Example(lambda np_, x: np_.einsum("bii->b", x), ((2, 3, 3),)),
        Example(lambda np_, x: np_.einsum("ij,ij->", x, x), ((2, 3),)),
        Example(lambda np_, x: np_.einsum("i,i,i", x, x, x), ((4,),)),
        Example(lambda np_, x, y, z: np_.einsum("ij,jk,kl->il", x, y, z, optimize=True),
                ((2, 3), (3, 4), (4, 2))),
        Example(lambda np_, x, y: np_.einsum("i,j->ij", x, y), ((3,), (2,))),
        Example(lambda np_, x, y: np_.einsum(",ij->ij", x, y), ((), (2, 3))),
        Example(lambda np_, x, y: np_.einsum("aZ,Zb->ab", x, y), ((2, 3), (3, 2))),
        Example(lambda np_, x, y: np_.einsum(x, [0, 1], y, [1, 2], [0, 2]), ((2, 3), (3, 4))),
        Example(lambda np_, x, y: np_.einsum(x, [Ellipsis, 1], y, [1]), ((4, 2, 3), (3,))),
        Example(lambda np_, x: np_.einsum("ij,jk->ik", x, np_.arange(6.0).reshape(3, 2)),
                ((2, 3),)),
    ),
    doc="np.einsum; multilinear: d = sum over operands of the einsum with that operand's "
        "tangent (its direction axis a new label)",
)


# --------------------------------------------------------------------------- dot, inner, ...


def _contraction_subscripts(na: int, nb: int, a_axes: Any, b_axes: Any) -> tuple:
    """einsum terms and output contracting ``a_axes`` of ``a`` with ``b_axes`` of ``b``."""
    a_axes = [normalize_axis(int(p), na) for p in a_axes]
    b_axes = [normalize_axis(int(q), nb) for q in b_axes]
    if len(a_axes) != len(b_axes):
        raise ValueError("shape-mismatch for sum")
    la = _LABELS[:na]
    lb = list(_LABELS[na:na + nb])
    for p, q in zip(a_axes, b_axes, strict=True):
        lb[q] = la[p]
    free_a = [c for p, c in enumerate(la) if p not in a_axes]
    free_b = [c for q, c in enumerate(lb) if q not in b_axes]
    return [la, "".join(lb)], "".join(free_a + free_b)


def _contraction(name: str, numpy: Any, split_args: Any, axes: Any, examples: Any, doc: str) -> Any:
    """A bilinear contraction whose rules are einsums; ``axes(na, nb, **params)`` says how."""

    def rule(i: int) -> Any:
        def jvp(dx: Any, a: Any, b: Any, *, out: Any, **params: Any) -> Any:
            na, nb = _ndim(a), _ndim(b)
            terms, output = _contraction_subscripts(na, nb, *axes(na, nb, **params))
            return _tangent_einsum(terms, output, (a, b), i, dx)
        return jvp

    def transpose(i: int) -> Any:
        def vjp(ct: Any, a: Any, b: Any, *, out: Any, **params: Any) -> Any:
            """x_bar = einsum of ct with the other operand into this one's labels."""
            na, nb = _ndim(a), _ndim(b)
            if name == "dot" and 1 <= na <= 2 and 1 <= nb <= 2:  # np.dot is matmul here
                return (_matmul_vjp_x, _matmul_vjp_y)[i](ct, a, b, out=out)
            terms, output = _contraction_subscripts(na, nb, *axes(na, nb, **params))
            sizes = dict(zip(terms[0] + terms[1], shape_of(a) + shape_of(b), strict=True))
            return _transpose_einsum(terms, output, sizes, (a, b), i, ct)
        return vjp

    return PRODUCTS.defprimitive(
        name, impl=lambda a, b, **params: numpy(a, b, **params), numpy=numpy, split_args=split_args,
        jvp=(rule(0), rule(1)), vjp=(transpose(0), transpose(1)), examples=examples, doc=doc,
    )


def _dot_axes(na: int, nb: int) -> tuple:
    if na == 0 or nb == 0:
        return (), ()
    return (na - 1,), (max(nb - 2, 0),)


def _dot_split_args(a: Any, b: Any, out: Any = None) -> tuple:
    return (a, b), {}


_DOT_SHAPES = (
    ((), ()), ((), (2, 3)), ((2, 3), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
    ((2, 3), (3, 4)), ((2, 4, 3), (3,)), ((3,), (2, 3, 4)), ((2, 4, 3), (5, 3, 2)),
    ((2, 3), (4, 3, 2)),
)

dot = _contraction(
    "dot", np.dot, _dot_split_args, _dot_axes,
    tuple(Example(lambda np_, x, y: np_.dot(x, y), shapes) for shapes in _DOT_SHAPES) + (
        Example(lambda np_, x, y: x.dot(y), ((2, 3), (3,))),
        Example(lambda np_, x: np_.dot(x, x), ((3, 3),)),
    ),
    "np.dot (sum over a's last and b's second-to-last axis); bilinear",
)


def _inner_axes(na: int, nb: int) -> tuple:
    return ((), ()) if na == 0 or nb == 0 else ((na - 1,), (nb - 1,))


inner = _contraction(
    "inner", np.inner, lambda a, b: ((a, b), {}), _inner_axes,
    tuple(Example(lambda np_, x, y: np_.inner(x, y), shapes) for shapes in (
        ((), ()), ((), (2, 3)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)),
        ((2, 4, 3), (5, 3)), ((3,), (2, 2, 3)),
    )),
    "np.inner (sum over the last axes); bilinear",
)


def _tensordot_axes(na: int, nb: int, *, axes: Any) -> tuple:
    if isinstance(axes, (int, np.integer)):
        return tuple(range(na - int(axes), na)), tuple(range(int(axes)))
    a_axes, b_axes = axes
    a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
    b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
    return a_axes, b_axes


def _tensordot_split_args(a: Any, b: Any, axes: Any = 2) -> tuple:
    if not isinstance(axes, (int, np.integer)):
        axes = tuple(tuple(ax) if isinstance(ax, (list, tuple)) else ax for ax in axes)
    return (a, b), {"axes": axes}


tensordot = _contraction(
    "tensordot", np.tensordot, _tensordot_split_args, _tensordot_axes,
    (
        Example(lambda np_, x, y: np_.tensordot(x, y), ((2, 3, 4), (3, 4, 2))),
        Example(lambda np_, x, y: np_.tensordot(x, y, axes=1), ((2, 3), (3, 4))),
        Example(lambda np_, x, y: np_.tensordot(x, y, axes=0), ((2,), (3, 2))),
        Example(lambda np_, x, y: np_.tensordot(x, y, axes=([0, 2], [2, 0])),
                ((2, 3, 4), (4, 5, 2))),
        Example(lambda np_, x, y: np_.tensordot(x, y, axes=(1, -1)), ((2, 3), (4, 3))),
        Example(lambda np_, x, y: np_.tensordot(x, y, axes=([-1], [0])), ((2, 3), (3,))),
        Example(lambda np_, x, y: np_.tensordot(x, y, axes=0), ((), (2,))),
    ),
    "np.tensordot; bilinear",
)


def _vdot(a: Any, b: Any, /) -> Any:
    return np.dot(np.reshape(conj_if_complex(a), -1), np.reshape(b, -1))  # conj(a)


vdot = PRODUCTS.defcomposite(
    "vdot", _vdot, numpy=np.vdot,
    examples=(Example(lambda np_, x, y: np_.vdot(x, y), ((3,), (3,))),
              Example(lambda np_, x, y: np_.vdot(x, y), ((2, 3), (3, 2)))),
    doc="np.vdot: dot of the flattened arrays, the first conjugated",
)


def _outer(a: Any, b: Any, out: Any = None) -> Any:
    return np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))


outer = PRODUCTS.defcomposite(
    "outer", _outer, numpy=np.outer,
    examples=(Example(lambda np_, x, y: np_.outer(x, y), ((3,), (2,))),
              Example(lambda np_, x, y: np_.outer(x, y), ((2, 2), ())),
              Example(lambda np_, x, y: np_.outer(x, y), ((2, 2), (3,)))),
    doc="np.outer: the flattened operands' outer product",
)


# --------------------------------------------------------------------------- np.linalg aliases


def _linalg_outer(x1: Any, x2: Any, /) -> Any:
    if _ndim(x1) != 1 or _ndim(x2) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return _outer(x1, x2)


if hasattr(np.linalg, "outer"):  # NumPy 2's array-API names
    linalg_outer = PRODUCTS.defcomposite(
        "linalg.outer", _linalg_outer, numpy=np.linalg.outer,
        examples=(Example(lambda np_, x, y: np_.linalg.outer(x, y), ((3,), (2,))),),
        doc="np.linalg.outer: outer product of two vectors",
    )
    linalg_matmul = PRODUCTS.defcomposite(
        "linalg.matmul", lambda x1, x2, /: np.matmul(x1, x2), numpy=np.linalg.matmul,
        examples=(Example(lambda np_, x, y: np_.linalg.matmul(x, y), ((4, 2, 3), (3,))),),
        doc="np.linalg.matmul: np.matmul",
    )
    linalg_tensordot = PRODUCTS.defcomposite(
        "linalg.tensordot", lambda x1, x2, /, *, axes=2: np.tensordot(x1, x2, axes),
        numpy=np.linalg.tensordot,
        examples=(Example(lambda np_, x, y: np_.linalg.tensordot(x, y, axes=1), ((2, 3), (3,))),),
        doc="np.linalg.tensordot: np.tensordot",
    )
    linalg_vecdot = PRODUCTS.defcomposite(
        "linalg.vecdot", _vecdot, numpy=np.linalg.vecdot,
        examples=(Example(lambda np_, x, y: np_.linalg.vecdot(x, y, axis=0), ((3, 2), (3, 1))),),
        doc="np.linalg.vecdot: sum(x1 * x2, axis)",
    )


# --------------------------------------------------------------------------- chains of products


def _chain_order(shapes: list) -> list:
    """Cheapest parenthesisation of a matrix chain (dynamic programming, as NumPy does)."""
    dims = [s[0] for s in shapes] + [shapes[-1][1]]
    n = len(shapes)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][m] + cost[m + 1][j] + dims[i] * dims[m + 1] * dims[j + 1], m)
                for m in range(i, j)
            )
    return split


def _chain(arrays: list, split: list, i: int, j: int) -> Any:
    if i == j:
        return arrays[i]
    m = split[i][j]
    return np.dot(_chain(arrays, split, i, m), _chain(arrays, split, m + 1, j))


def _multi_dot(arrays: Any, *, out: Any = None) -> Any:
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    row, col = _ndim(arrays[0]) == 1, _ndim(arrays[-1]) == 1
    if row:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if col:
        arrays[-1] = np.reshape(arrays[-1], (-1, 1))
    if any(_ndim(a) != 2 for a in arrays):
        raise ValueError("multi_dot: the inner arrays must be two-dimensional")
    result = _chain(arrays, _chain_order([shape_of(a) for a in arrays]), 0, len(arrays) - 1)
    if row and col:
        return result[0, 0]
    return result[0] if row else (result[:, 0] if col else result)


multi_dot = PRODUCTS.defcomposite(
    "multi_dot", _multi_dot, numpy=np.linalg.multi_dot,
    examples=(
        Example(lambda np_, x, y: np_.linalg.multi_dot([x, y]), ((2, 3), (3, 4))),
        Example(lambda np_, x, y, z: np_.linalg.multi_dot([x, y, z]), ((5, 2), (2, 4), (4, 1))),
        Example(lambda np_, x, y, z: np_.linalg.multi_dot((x, y, z)), ((3,), (3, 4), (4,))),
        Example(lambda np_, x, y, z, w: np_.linalg.multi_dot([x, y, z, w]),
                ((3,), (3, 2), (2, 4), (4, 2))),
    ),
    doc="np.linalg.multi_dot: np.dot along the cheapest parenthesisation",
)


def _matrix_power(a: Any, n: Any) -> Any:
    n = operator.index(n)
    shape = shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:  # the identity: a constant, of the input's library
        eye = storage.as_library_of(np.eye(shape[-1], dtype=a.dtype), a)
        return np.broadcast_to(eye, shape).copy()
    if n < 0:
        a, n = np.linalg.inv(a), -n
    result = None
    while n:  # binary powering, as NumPy does: O(log n) products
        if n & 1:
            result = a if result is None else np.matmul(result, a)
        n >>= 1
        if n:
            a = np.matmul(a, a)
    return result


def _spd(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """A well-conditioned matrix (or stack): identity plus a small random perturbation."""
    return np.eye(shape[-1]) + 0.3 * rng.normal(size=shape)


matrix_power = PRODUCTS.defcomposite(
    "matrix_power", _matrix_power, numpy=np.linalg.matrix_power,
    examples=tuple(
        Example(lambda np_, x, n=n: np_.linalg.matrix_power(x, n), make=lambda rng: (
            _spd(rng, 3, 3),))
        for n in (0, 1, 2, 3, 5, -1, -2)
    ) + (Example(lambda np_, x: np_.linalg.matrix_power(x, 3), make=lambda rng: (
        _spd(rng, 2, 3, 3),)),),
    doc="np.linalg.matrix_power: repeated squaring with matmul (inv first for n < 0)",
)
