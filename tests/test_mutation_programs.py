"""Random programs that update arrays in place, alias them, copy them and take views.

A program works on four variables of one shape, ``s0 = x`` (the argument), ``s1 = sin(x)``,
``s2 = x/2 + 1`` and ``s3 = x`` (an alias of the argument), with statements such as
``s1 = s2``, ``s2 = s0.T``, ``s0 += s1``, ``s3 *= np.tanh(s2)``, ``s2 = copy.deepcopy(s1)``,
``s0[1:] = np.tanh(s1)[1:]``, ``s2[:, 0] += s3[:, 0]``,
and returns ``sum_i w_i * np.sum(np.sin(s_i))``. It runs three ways:

- with NumPy on plain arrays, which gives the value, and tells whether an in-place update
  changed memory that another array shows (``np.shares_memory``) which the output then reads;
- with dualad (``value_and_grad``, ``jvp``, ``jacfwd`` in chunks), which must give NumPy's value
  or raise, and must raise whenever the output reads an array NumPy changed that way;
- with JAX on *boxes*, a rewrite without mutation: a variable names a box, an alias shares
  the box, an in-place update replaces the box's contents, a copy or a view is a new box.
  Where dualad does not raise, its derivatives must equal JAX's of this rewrite.
"""

from __future__ import annotations

import copy
import operator

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import event, given, note
from hypothesis import strategies as st

import dualad

SLOTS = 4
UNARY = {
    "sin": lambda np_, v: np_.sin(v),
    "tanh": lambda np_, v: np_.tanh(v),
    "sqrt(1+v*v)": lambda np_, v: np_.sqrt(1.0 + v * v),
}
BINARY = {"+": operator.add, "-": operator.sub, "*tanh": None}
INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=tanh": operator.imul}
CONSTANT_INPLACE = {"+=": operator.iadd, "*=": operator.imul, "/=": operator.itruediv}
COPIES = {
    "x.copy()": lambda np_, v: v.copy(),
    "np.copy(x)": lambda np_, v: np.copy(v),
    "copy.copy(x)": lambda np_, v: copy.copy(v),
    "copy.deepcopy(x)": lambda np_, v: copy.deepcopy(v),
}
VIEWS = {
    "x.T": lambda np_, v: v.T,
    "x.reshape(shape)": lambda np_, v: v.reshape(v.shape),
    "x[::-1]": lambda np_, v: v[::-1],
    "x[:, ::-1]": lambda np_, v: v[:, ::-1],
    "np.swapaxes(x, 0, 1)": lambda np_, v: np_.swapaxes(v, 0, 1),
    "x.transpose()": lambda np_, v: v.transpose(),
    "x.ravel().reshape(shape)": lambda np_, v: v.ravel().reshape(v.shape),
    "x[...]": lambda np_, v: v[...],
}

KEYS = {  # item assignments: s_a[key] = tanh(s_b)[key] and s_a[key] += s_b[key]
    "[0]": (0,),
    "[1:]": (slice(1, None),),
    "[:, 0]": (slice(None), 0),
    "[::-1, -1]": (slice(None, None, -1), -1),
    "[...]": (Ellipsis,),
}

slot = st.integers(0, SLOTS - 1)
statement = st.one_of(
    st.tuples(st.just("unary"), slot, slot, st.sampled_from(sorted(UNARY))),
    st.tuples(st.just("binary"), slot, slot, slot, st.sampled_from(sorted(BINARY))),
    st.tuples(st.just("inplace"), slot, slot, st.sampled_from(sorted(INPLACE))),
    st.tuples(st.just("inplace-constant"), slot, st.sampled_from([0.5, -1.5, 2.0]),
              st.sampled_from(sorted(CONSTANT_INPLACE))),
    st.tuples(st.just("alias"), slot, slot),
    st.tuples(st.just("copy"), slot, slot, st.sampled_from(sorted(COPIES))),
    st.tuples(st.just("view"), slot, slot, st.sampled_from(sorted(VIEWS))),
    st.tuples(st.just("fresh"), slot),
    st.tuples(st.just("assign"), slot, slot, st.sampled_from(sorted(KEYS))),
    st.tuples(st.just("assign-add"), slot, slot, st.sampled_from(sorted(KEYS))),
)


class Box:
    """A mutable name for an immutable JAX array: what a dualad array is, made by hand."""

    def __init__(self, value):
        self.value = value


def run(program, x, np_, boxed=False, watch=None, on_read=None):
    """Execute ``program`` on the argument ``x``; return the variables at the end.

    ``watch(target, variables)`` is called before each in-place update and ``on_read(v)``
    for each value a statement computes with (NumPy run).
    """
    wrap = Box if boxed else (lambda v: v)
    if boxed:
        def value(b):
            return b.value
    else:
        def value(v):
            if on_read is not None:
                on_read(v)
            return v
    s = [x, wrap(np_.sin(value(x))), wrap(value(x) * 0.5 + 1.0), x]
    for kind, *args in program:
        if kind == "unary":
            dst, a, name = args
            s[dst] = wrap(UNARY[name](np_, value(s[a])))
        elif kind == "binary":
            dst, a, b, name = args
            if name == "*tanh":
                s[dst] = wrap(value(s[a]) * np_.tanh(value(s[b])))
            else:
                s[dst] = wrap(BINARY[name](value(s[a]), value(s[b])))
        elif kind in ("inplace", "inplace-constant"):
            a, other, name = args
            if kind == "inplace":
                other = np_.tanh(value(s[other])) if name == "*=tanh" else value(s[other])
                update = INPLACE[name]
            else:
                update = CONSTANT_INPLACE[name]
            if watch is not None:
                watch(s[a], s)
            if boxed:  # the rewrite: the box gets new contents, every name sees them
                s[a].value = update(s[a].value, other)
            else:
                s[a] = update(value(s[a]), other)  # Python's s[a] op= other
        elif kind in ("assign", "assign-add"):
            a, b, name = args
            key = KEYS[name]
            if watch is not None:
                watch(s[a], s)
            if boxed and kind == "assign":
                s[a].value = s[a].value.at[key].set(np_.tanh(value(s[b]))[key])
            elif boxed:
                s[a].value = s[a].value.at[key].add(value(s[b])[key])
            elif kind == "assign":
                value(s[a])[key] = np_.tanh(value(s[b]))[key]
            else:
                value(s[a])[key] += value(s[b])[key]  # a view's update, written back
        elif kind == "alias":
            dst, a = args
            s[dst] = s[a]
        elif kind == "copy":
            dst, a, name = args
            s[dst] = wrap(value(s[a])) if boxed else COPIES[name](np_, value(s[a]))
        elif kind == "view":
            dst, a, name = args
            s[dst] = wrap(VIEWS[name](np_, value(s[a])))
        else:  # "fresh": the variable now names a new array; the old one may die
            (a,) = args
            s[a] = wrap(value(s[a]) * 1.0)
    return [v.value for v in s] if boxed else s


def output(np_, variables, weights):
    return sum(w * np_.sum(np_.sin(v)) for w, v in zip(weights, variables))


def numpy_run(program, x, weights):
    """NumPy's value, and whether the program computes with an array after an in-place
    update of another array (a view of it, or its base) changed it."""
    caller = x.copy()  # the caller's array: alive throughout, as the caller holds it
    reached, read = [], []

    def watch(target, variables):
        reached.extend(v for v in (*variables, caller)
                       if v is not target and np.shares_memory(target, v))

    def on_read(v):
        read.append(any(v is r for r in reached))

    variables = run(program, caller, np, watch=watch, on_read=on_read)
    for v in variables:  # the output reads every variable
        on_read(v)
    return output(np, variables, weights), any(read)


def takes_views_and_updates(program):
    kinds = {kind for kind, *_ in program}
    return "view" in kinds and kinds & {"inplace", "inplace-constant", "assign", "assign-add"}


@given(
    n=st.sampled_from([2, 3]),
    program=st.lists(statement, min_size=1, max_size=8),
    data=st.data(),
)
def test_inplace_copies_and_views_match_numpy_and_jax(n, program, data):
    x = np.asarray(data.draw(st.lists(st.floats(-1.0, 1.0), min_size=n * n, max_size=n * n)),
                   dtype=float).reshape(n, n)
    weights = data.draw(st.lists(st.floats(0.5, 2.0), min_size=SLOTS, max_size=SLOTS))
    note(f"program: {program}")
    keep = x.copy()
    value, reached = numpy_run(program, x, weights)

    def f(x):
        return output(np, run(program, x, np), weights)

    try:
        got_value, g = dualad.value_and_grad(f)(x)
    except dualad.UnsupportedPrimitiveError as err:
        assert "updated in place" in str(err) and "out of date" in str(err), err
        assert takes_views_and_updates(program), "raised for a program without views"
        try:
            dualad.jvp(f, (x,), (np.ones_like(x),))
        except dualad.UnsupportedPrimitiveError:
            pass
        else:
            raise AssertionError("reverse mode raised but forward mode did not")
        event("dualad raised, " + ("the program reads an array NumPy changed through a view"
                                   if reached else "NumPy's arrays did not share memory"))
        return
    event("dualad ran " + ("with" if takes_views_and_updates(program) else "without")
          + " views and in-place updates")
    assert not reached, "the program reads an array NumPy changed through a view: must raise"
    np.testing.assert_allclose(got_value, value, rtol=1e-12, atol=1e-12)

    def jax_f(x):
        return output(jnp, run(program, Box(x), jnp, boxed=True), weights)

    direction = np.linspace(-1.0, 1.0, n * n).reshape(n, n)
    expected_grad = np.asarray(jax.grad(jax_f)(x))
    np.testing.assert_allclose(g, expected_grad, rtol=1e-10, atol=1e-12)
    y, dy = dualad.jvp(f, (x,), (direction,))
    np.testing.assert_allclose(y, value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dy, np.sum(expected_grad * direction), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dualad.jacfwd(f, chunk_size=2)(x), expected_grad, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(x, keep)
