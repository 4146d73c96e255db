"""The primitive registry: one declaration per differentiable NumPy operation.

A *primitive* is a NumPy operation together with its derivative rules, declared in one call
of :func:`defprimitive`. A *composite* is a NumPy function written in terms of primitives
(``np.std`` is a mean of squares); it needs no rules of its own. Everything that can take a
active value (a forward-mode ``Dual`` or, later, a reverse-mode value) is looked up here, so a
function that is neither a primitive, a composite nor a known non-differentiable function
raises instead of running on the primal.

This module imports no mode: the engines register their active types with
:func:`register_active_type`, and :func:`apply` hands each primitive application to the
active input with the highest tag (the innermost transform), the others being its constants.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _one_direction
from .errors import (
    DualadError,
    PerturbationConfusionError,
    RedefinitionWarning,
    RegistrationError,
    UnsupportedPrimitiveError,
)

Rule = Callable[..., Any]


# --------------------------------------------------------------------------- test domains


@dataclass(frozen=True)
class Interval:
    """Where a primitive's inputs are drawn from in the registry-driven tests.

    ``avoid`` lists points (kinks, poles) that samples keep ``margin`` away from.

    >>> Interval(0.5, 2.0).sample(np.random.default_rng(0), (2,)).shape
    (2,)
    """

    lo: float
    hi: float
    avoid: tuple[float, ...] = ()
    margin: float = 0.05

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        x = rng.uniform(self.lo, self.hi, size=shape)
        for point in self.avoid:
            near = np.abs(x - point) < self.margin
            x = np.where(near, point + np.copysign(2 * self.margin, x - point + 1e-300), x)
        return x


REALS = Interval(-2.0, 2.0)
POSITIVE = Interval(0.3, 2.5)
UNIT = Interval(-0.9, 0.9)


@dataclass(frozen=True)
class Example:
    """One call of a primitive for the registry-driven cross-check with JAX.

    ``call(np_, *arrays)`` is written once for both namespaces: the test calls it with
    ``numpy`` on dual arrays and with ``jax.numpy`` for the reference. ``make(rng)`` returns
    the arrays when they need structure (a symmetric positive definite matrix, integer
    indices); otherwise they are drawn from ``domain`` with the given ``shapes``.
    ``reference`` replaces ``call`` for JAX when the two namespaces differ; when JAX has no
    twin at all, ``reference=None`` together with ``finite_differences=True`` checks against
    central differences instead.
    """

    call: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...] = ()
    domain: Interval | None = None
    make: Callable[[np.random.Generator], tuple] | None = None
    reference: Callable[..., Any] | None = None
    finite_differences: bool = False
    second_order: bool = True
    rtol: float = 1e-7
    atol: float = 1e-9

    def arrays(self, rng: np.random.Generator, default: Interval) -> tuple:
        """The example's inputs, drawn reproducibly from ``rng``."""
        if self.make is not None:
            return tuple(self.make(rng))
        domain = self.domain or default
        return tuple(domain.sample(rng, shape) for shape in self.shapes)


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Family:
    """Where a declaration comes from: one family of dualad's own primitives, or the user.

    Each module (or subpackage) of ``dualad.primitives`` declares its family once and declares
    its primitives through it (``SHAPE.defprimitive(...)``); :func:`defprimitive` called
    directly declares into :data:`USER`. ``builtin`` families are dualad's own: their rules
    are cross-checked against JAX by the test suite, while the engines check what a user's
    rules return as they run.

    >>> USER.builtin, Family("shape").builtin
    (False, True)
    """

    name: str
    builtin: bool = True
    complex_rules: bool = False
    """The family's rules follow JAX's conventions for complex values (a holomorphic rule
    ``ct * f'(x)`` without a conjugate, R-linear maps for the others), so its primitives
    take complex values unless a declaration says ``complex_rules=False``."""

    def defprimitive(self, name: str, impl: Rule, **declaration: Any) -> Primitive:
        """:func:`defprimitive` for a primitive of this family."""
        return defprimitive(name, impl, family=self, **declaration)

    def defcomposite(self, name: str, impl: Rule, **declaration: Any) -> Composite:
        """:func:`defcomposite` for a composite of this family."""
        return defcomposite(name, impl, family=self, **declaration)


USER = Family("user", builtin=False)
"""The family of primitives declared outside dualad."""


@dataclass(frozen=True)
class Formula:
    """The derivative rule a trace prints, as the lecture writes it.

    ``primal`` is the operation in the letters of ``letters`` (argument 0, 1, ... in order);
    ``partials`` holds the partial derivative with respect to each argument, in the same
    letters and ``out`` (the result). A trace substitutes the operands' labels for the
    letters: ``v1 = ln v_-1``, ``v1_dot = v_-1_dot / v_-1``, ``v_-1_bar = v1_bar / v_-1``.
    A declaration gives it as ``formula=(primal, {letter: partial, ...})``.

    >>> Formula("x * y", ("x", "y"), ("y", "x"))
    Formula(primal='x * y', letters=('x', 'y'), partials=('y', 'x'))
    >>> print(Formula("ln x", ("x",), ("1/x",)))
    ln x; d/dx = 1/x
    """

    primal: str
    letters: tuple[str, ...]
    partials: tuple[str, ...]

    def __str__(self) -> str:
        partials = ", ".join(f"d/d{k} = {v}" for k, v in zip(self.letters, self.partials))
        return f"{self.primal}; {partials}"


_PARTIAL_TEXT = re.compile(r"[\w\s.+\-*/()|]+")
"""What a partial derivative is written with: names, numbers, operators and parentheses."""


def _formula(name: str, spec: Any, rules: tuple | None, nin: int | None,
             multiple_results: bool) -> Formula | None:
    """``formula=(primal, {letter: partial})`` checked against the declaration."""
    if spec is None:
        return None

    def refuse(why: str) -> RegistrationError:
        return RegistrationError(f"primitive {name!r}: formula= {why}")

    if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str)
            and isinstance(spec[1], dict)):
        raise refuse(f"is (primal, {{letter: partial}}), such as "
                     f"('x * y', {{'x': 'y', 'y': 'x'}}), not {spec!r}")
    primal, partials = spec[0].strip(), spec[1]
    if multiple_results:
        raise refuse("describes one result, and this primitive has several")
    if rules is None:
        raise refuse("goes with jvp= rules, one per argument (this primitive has jvp_all=)")
    if None in rules:
        raise refuse(f"names every argument, and argument {rules.index(None) + 1} has no "
                     f"derivative (its rule is None)")
    if len(partials) != len(rules):
        raise refuse(f"gives {len(partials)} partials for {len(rules)} differentiable "
                     f"arguments: one partial per argument")
    for letter, partial in partials.items():
        if not (isinstance(letter, str) and letter.isidentifier() and letter != "out"):
            raise refuse(f"letter {letter!r} is not a name (and 'out' is the result)")
        if not re.search(rf"\b{letter}\b", primal):
            raise refuse(f"letter {letter!r} does not occur in the primal {primal!r}")
        if not (isinstance(partial, str) and _PARTIAL_TEXT.fullmatch(partial.strip())):
            raise refuse(f"d/d{letter} = {partial!r} is not a formula (names, numbers, "
                         f"+ - * / ** ( ) |)")
    for partial in partials.values():
        glued = re.search(rf"(\d+)({'|'.join(partials)})\b", partial)
        if glued:  # a trace replaces whole words only
            number, letter = glued.groups()
            raise refuse(f"{partial!r} glues {letter!r} to a number: write {number} {letter}, "
                         f"so that a trace can put the operand's name in its place")
    return Formula(primal, tuple(partials), tuple(p.strip() for p in partials.values()))


@dataclass(frozen=True, eq=False)
class Primitive:
    """A NumPy operation with its derivative rules. Call it like the operation itself.

    ``impl(*xs, **params)`` computes the primal; ``xs`` are the arguments that may carry a
    derivative, ``params`` the static ones. ``jvp`` holds one rule per argument,
    ``rule(dx, *xs, out=out, **params)``, whose contributions are added (zero tangents are
    skipped); ``jvp_all(dxs, *xs, out=out, **params)`` instead receives every tangent at
    once (``None`` for the tangent of a constant; ``_batch.fill_zeros`` makes them zeros),
    which suits variadic operations such as ``concatenate``. ``jvp_fused(dxs, *xs, out=out)``,
    optional beside ``jvp``, is the sum of the rules' contributions when every argument has a
    tangent, formed in fewer passes over memory; the forward engine's elementwise path uses it.
    ``vjp_add(total, owned, ct, *xs, out=out, **params)``, optional beside ``vjp`` for a
    primitive of one argument, adds its cotangent straight into ``total`` (the argument's
    cotangent so far, or None; ``owned``: the backward pass may write into it) and returns the
    new total, or None where the general path is needed; the reverse engine uses it.
    ``family`` is where it was declared (one of dualad's own, or :data:`USER`), ``formula``
    the rule text a trace prints (None: the general notation).
    Tangents carry a leading axis of directions: ``dx.shape == (k,) + x.shape``; the rule
    fields hold rules of ``k`` directions (a user's rules of one direction wrapped, see
    ``batched``), and ``impl`` the callable the engines call (a user's wrapped, see
    :func:`defprimitive`'s ``plain_impl``).
    """

    name: str
    impl: Rule
    jvp: tuple[Rule, ...] | None
    jvp_all: Rule | None
    vjp: tuple[Rule | None, ...] | None
    vjp_all: Rule | None
    numpy: tuple[Any, ...]
    split_args: Rule | None
    elementwise: bool
    multiple_results: bool
    nin: int | None
    domain: Interval
    examples: tuple[Example, ...]
    doc: str
    family: Family = USER
    formula: Formula | None = None
    jvp_fused: Rule | None = None
    vjp_add: Rule | None = None
    complex_rules: bool = False
    """Its rules are right for complex values too (JAX's conventions, see the guide's
    Complex numbers page); without it complex values meeting the primitive raise."""
    checked: bool = True
    """The engines check what the rules return (shape, dtype, structure): a user's primitive.
    dualad's own rules are cross-checked against JAX by the test suite instead."""
    batched: bool = True
    """The rules handle the leading axis of directions (of cotangent rows) themselves. A
    user's rules declared without ``batched=True`` are wrapped so that they see one
    direction at a time (:mod:`dualad._one_direction`); these fields hold the wrappers."""

    @property
    def builtin(self) -> bool:
        """Declared by dualad itself (not by a user)."""
        return self.family.builtin

    def __call__(self, *xs: Any, **params: Any) -> Any:
        return apply(self, xs, params)

    def __repr__(self) -> str:
        return f"<dualad primitive {self.name}>"


@dataclass(frozen=True, eq=False)
class Composite:
    """A NumPy function written with primitives; differentiated through them."""

    name: str
    impl: Rule
    numpy: tuple[Any, ...]
    domain: Interval
    examples: tuple[Example, ...]
    doc: str
    family: Family = USER
    complex_rules: bool = False
    """``impl`` computes NumPy's values and derivatives for complex arguments too (checked
    against JAX); otherwise complex arguments raise, as they do for a real-only primitive."""

    @property
    def builtin(self) -> bool:
        """Declared by dualad itself (not by a user)."""
        return self.family.builtin

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.complex_rules and _any_complex(args, kwargs.values()):
            name = (_numpy_name(self.numpy[0]) if self.numpy
                    else f"np.{self.name}" if "." in self.name else self.name)
            raise UnsupportedPrimitiveError(
                f"{name} of complex values: dualad writes it for real values only, and "
                f"applied to complex ones it would give wrong values or derivatives. Instead, "
                f"write it with real and imaginary parts (np.real, np.imag) as separate real "
                f"arrays.")
        if _external_types:
            kind = external_kind([*args, *kwargs.values()])
            if kind is not None:
                return run_in_library(self, kind, self.impl, *args, **kwargs)
        return self.impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<dualad composite {self.name}>"


def _any_complex(*groups: Any) -> bool:
    """Some argument (or an item of a list or tuple argument) holds complex values."""
    for group in groups:
        for x in group:
            if isinstance(x, (list, tuple)):
                if _any_complex(x):
                    return True
            elif getattr(getattr(x, "dtype", None), "kind", "") == "c" or isinstance(x, complex):
                return True
    return False


REGISTRY: dict[str, Primitive | Composite] = {}
"""Every primitive and composite by name."""

NUMPY_TABLE: dict[Any, Primitive | Composite] = {}
"""NumPy callable (ufunc or function) -> the declaration that differentiates it."""

NONDIFF: dict[Any, str] = {}
"""NumPy callables whose result does not depend smoothly on the values (comparisons,
``floor``, ``argmax``, ``zeros_like``, ...) -> why. They run on the primal values and return
plain arrays."""


def _as_rules(rule: Rule | Sequence[Rule] | None) -> tuple[Rule, ...] | None:
    if rule is None:
        return None
    if callable(rule):
        return (rule,)
    return tuple(rule)


def _claim(name: str, numpy: tuple[Any, ...], family: Family) -> None:
    """Make room for a declaration: refuse a clash with dualad's own or with NONDIFF, and
    replace (with a warning) a user's earlier declaration of the same name or function,
    as re-running a notebook cell does."""
    old = REGISTRY.get(name)
    if old is not None:
        if old.builtin or family.builtin:
            raise RegistrationError(
                f"a primitive named {name!r} is already registered (one of dualad's own); "
                f"choose another name for yours")
        _replace(old, f"the primitive {name!r}")
    for fn in numpy:
        if fn in NONDIFF:
            raise RegistrationError(f"{_numpy_name(fn)} is registered as non-differentiable")
        old = NUMPY_TABLE.get(fn)
        if old is None:
            continue
        if old.builtin or family.builtin:
            raise RegistrationError(
                f"{_numpy_name(fn)} is already differentiated by {old.name!r}, one of "
                f"dualad's own primitives")
        _replace(old, f"{_numpy_name(fn)} (declared as {old.name!r})")


def _replace(old: Primitive | Composite, what: str) -> None:
    """Forget a user's declaration ``old``, warning that a new one replaces it."""
    warnings.warn(
        f"{what} is declared again: the new declaration replaces the old one (the old "
        f"Primitive object, if you kept it, still runs its old rules)",
        RedefinitionWarning, stacklevel=4)
    if REGISTRY.get(old.name) is old:
        del REGISTRY[old.name]
    for fn in old.numpy:
        if NUMPY_TABLE.get(fn) is old:
            del NUMPY_TABLE[fn]


def defprimitive(
    name: str,
    impl: Rule,
    *,
    jvp: Rule | Sequence[Rule] | None = None,
    jvp_all: Rule | None = None,
    vjp: Rule | Sequence[Rule] | None = None,
    vjp_all: Rule | None = None,
    jvp_fused: Rule | None = None,
    vjp_add: Rule | None = None,
    numpy: Any = (),
    split_args: Rule | None = None,
    nin: int | None = None,
    elementwise: bool = False,
    multiple_results: bool = False,
    domain: Interval = REALS,
    examples: Sequence[Example] = (),
    doc: str = "",
    formula: tuple[str, dict[str, str]] | None = None,
    batched: bool | None = None,
    plain_impl: bool | None = None,
    family: Family = USER,
    complex_rules: bool | None = None,
) -> Primitive:
    """Declare a differentiable operation with its derivative rules, in one place.

    The returned :class:`Primitive` is callable like ``impl``; called on dual arrays it
    carries their tangents. A user's rules see one direction at a time: a tangent ``dx``
    of ``x``'s shape, a cotangent ``ct`` of the output's shape, as in JAX; dualad calls
    them once per direction of ``jacfwd`` (row of ``jacrev``) and stacks the results,
    unless the declaration says ``batched=True``. A user's ``impl`` only ever sees plain
    arrays (it may call SciPy), and its derivatives of any order work when the rules are
    written with NumPy. Declaring a name (or NumPy function) again replaces your earlier
    declaration, with a :class:`~dualad.errors.RedefinitionWarning`. Passing ``numpy=``
    makes NumPy's own function (or ufunc) dispatch to it, with
    ``split_args(*args, **kwargs) -> (xs, params)`` splitting NumPy's arguments into
    differentiable arrays and static parameters.

    Parameters
    ----------
    name : str
        Unique name, NumPy's where there is one (dualad's own names are refused).
    impl : callable
        ``impl(*xs, **params)``, the primal computation.
    jvp : callable or sequence of callables
        One rule per differentiable argument, ``rule(dx, *xs, out=out, **params)``,
        returning that argument's contribution to the output tangent, of the output's
        shape (with ``batched=True``: tangents and results have a leading axis of
        directions, ``dx.shape == (k,) + x.shape``). Give exactly one of ``jvp`` and
        ``jvp_all``. A JVP rule must be linear in the tangent, as a derivative is.
    jvp_all : callable
        ``jvp_all(dxs, *xs, out=out, **params)`` returning the output tangent from all
        tangents at once (``None`` for constants).
    vjp : callable or sequence of callables
        Reverse-mode rules, one per differentiable argument, in the order of ``jvp``:
        ``rule(ct, *xs, out=out, **params)`` returns the cotangent of that argument from the
        output cotangent ``ct`` of the output's shape (a tuple of them for
        ``multiple_results``; with ``batched=True`` a leading axis of rows,
        ``ct.shape == (k,) + out.shape``). A result shaped like the broadcast output is
        summed back to the argument's shape by the engine. ``None`` marks an argument
        without a derivative, exactly where ``jvp`` has ``None``. Without ``vjp`` and
        ``vjp_all``, reverse mode transposes the JVP rules: it differentiates them in
        reverse mode, which needs them written with NumPy calls (dualad's own primitives
        must declare both).
    vjp_all : callable
        ``vjp_all(ct, *xs, out=out, **params)`` returning one cotangent per argument; goes
        with ``jvp_all`` (or is transposed from it, as for ``vjp``).
    jvp_fused : callable, optional
        An optimisation beside ``jvp``: ``jvp_fused(dxs, *xs, out=out)`` returns the sum of
        the rules' contributions when every argument has a tangent, in fewer passes over
        memory (``multiply``'s forms ``dx * y + x * dy`` block by block in cache). The forward
        engine uses it for elementwise primitives of two arguments; the test suite checks it
        against the sum of the rules, bit for bit.
    vjp_add : callable, optional
        An optimisation beside ``vjp`` for a primitive of one differentiable argument:
        ``vjp_add(total, owned, ct, *xs, out=out, **params)`` adds the argument's cotangent
        into ``total`` (the cotangent so far, or None; it may be written to when ``owned``)
        and returns the new total, or None to let the engine call the rule
        (``getitem``'s writes a slice's cotangent into one buffer for the whole array).
    numpy, split_args, nin, elementwise, multiple_results, domain, examples, doc
        Dispatch and test metadata; ``elementwise=True`` broadcasts tangents of
        lower-rank operands against the output before the rules see them.
    formula : (str, dict), optional
        The rule a trace prints, ``(primal, {letter: partial, ...})`` with one letter per
        argument in order, each occurring in ``primal``, and its partial derivative written
        in the letters and ``out``: ``("x * y", {"x": "y", "y": "x"})``. Without it a trace
        writes the general ``dv/dx * x_dot``. ``doc`` defaults to its text.
    batched : bool, optional
        The rules handle the leading axis of directions (rows) themselves, as dualad's own
        do (the default for them; for a user's rules the default is False, one direction
        at a time). Faster for ``jacfwd``/``jacrev`` of many directions; needed for
        ``jvp_fused`` and ``vjp_add``.
    plain_impl : bool, optional
        ``impl`` only ever sees plain arrays: in a nested derivative, active values of outer
        levels go through dispatch again, so that each level applies the rules and ``impl``
        may be opaque (SciPy, ``np.asarray``, a loop). The default for a user's primitive;
        dualad's own impls are NumPy calls that dispatch themselves, and one that does not
        (a SciPy function that is not a ufunc) passes ``plain_impl=True``.
    family : Family
        :data:`USER` (the default): the engines check what the rules return as they run.
        dualad's own primitives are declared through their family instead
        (``Family.defprimitive``).
    complex_rules : bool, optional
        The rules are right for complex values, with JAX's conventions (the family's
        default; False for :data:`USER`): complex values meeting a primitive without it
        raise instead of being differentiated with real-only rules.

    Returns
    -------
    Primitive

    Raises
    ------
    RegistrationError
        When the name or NumPy callable is one of dualad's own (or non-differentiable), a
        rule is missing or has the wrong arity, or the formula does not fit the arguments.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> softplus = dualad.defprimitive(
    ...     "softplus_doc", impl=lambda x: np.logaddexp(0.0, x),
    ...     jvp=lambda dx, x, *, out: dx / (1 + np.exp(-x)),
    ...     vjp=lambda ct, x, *, out: ct / (1 + np.exp(-x)))
    >>> y, dy = dualad.jvp(softplus, (0.0,), (1.0,))
    >>> float(dy), float(dualad.grad(softplus)(0.0))
    (0.5, 0.5)
    """
    prim = declare(
        name, impl, jvp=jvp, jvp_all=jvp_all, vjp=vjp, vjp_all=vjp_all, jvp_fused=jvp_fused,
        vjp_add=vjp_add, numpy=numpy, split_args=split_args, nin=nin, elementwise=elementwise,
        multiple_results=multiple_results, domain=domain, examples=examples, doc=doc,
        formula=formula, batched=batched, plain_impl=plain_impl, family=family,
        complex_rules=complex_rules)
    _claim(name, prim.numpy, family)
    REGISTRY[name] = prim
    for fn in prim.numpy:
        NUMPY_TABLE[fn] = prim
    return prim


def declare(
    name: str,
    impl: Rule,
    *,
    jvp: Rule | Sequence[Rule] | None = None,
    jvp_all: Rule | None = None,
    vjp: Rule | Sequence[Rule] | None = None,
    vjp_all: Rule | None = None,
    jvp_fused: Rule | None = None,
    vjp_add: Rule | None = None,
    numpy: Any = (),
    split_args: Rule | None = None,
    nin: int | None = None,
    elementwise: bool = False,
    multiple_results: bool = False,
    domain: Interval = REALS,
    examples: Sequence[Example] = (),
    doc: str = "",
    formula: tuple[str, dict[str, str]] | None = None,
    batched: bool | None = None,
    family: Family = USER,
    plain_impl: bool | None = None,
    complex_rules: bool | None = None,
) -> Primitive:
    """:func:`defprimitive` without the registration: a :class:`Primitive` that is applied
    by calling it (NumPy does not dispatch to it and it is not in :data:`REGISTRY`), for a
    primitive made per function, as :func:`dualad.custom_jvp` makes one.

    >>> double = declare("double_doc", lambda x: 2.0 * x, jvp=lambda dx, x, *, out: 2.0 * dx)
    >>> "double_doc" in REGISTRY, double(3.0)
    (False, 6.0)
    """
    numpy = tuple(numpy) if isinstance(numpy, (tuple, list)) else ((numpy,) if numpy else ())
    rules = _as_rules(jvp)
    if (rules is None) == (jvp_all is None):
        raise RegistrationError(f"primitive {name!r} needs exactly one of jvp= and jvp_all=")
    if nin is None and rules is not None:
        nin = len(rules)
    if jvp_fused is not None and (rules is None or not elementwise or nin != 2
                                  or None in rules):
        raise RegistrationError(
            f"primitive {name!r}: jvp_fused= goes beside jvp= rules of an elementwise "
            f"primitive of two differentiable arguments"
        )
    if rules is not None and nin != len(rules):
        raise RegistrationError(
            f"primitive {name!r} takes {nin} differentiable arguments but has "
            f"{len(rules)} jvp rules"
        )
    if batched is None:
        batched = family.builtin
    if plain_impl is None:
        plain_impl = not family.builtin
    reverse = _as_rules(vjp)
    transposed = not family.builtin and reverse is None and vjp_all is None
    if transposed:  # a JVP rule alone: reverse mode transposes it
        reverse, vjp_all = _transposed(name, rules, jvp_all, batched)
    _check_vjp(name, rules, reverse, vjp_all)
    if vjp_add is not None and (rules is None or nin != 1):
        raise RegistrationError(
            f"primitive {name!r}: vjp_add= goes beside the vjp= rule of a primitive of one "
            f"differentiable argument"
        )
    if not batched and (jvp_fused is not None or vjp_add is not None):
        raise RegistrationError(
            f"primitive {name!r}: jvp_fused= and vjp_add= work on the leading axis of "
            f"directions; declare the primitive with batched=True to use them"
        )
    rule_text = _formula(name, formula, rules, nin, multiple_results)
    if not batched:  # (the transposed rules pull all rows back at once already)
        rules, jvp_all, one_reverse, one_vjp_all = _one_at_a_time(
            rules, jvp_all, reverse, vjp_all, multiple_results)
        if not transposed:
            reverse, vjp_all = one_reverse, one_vjp_all
    this: list[Primitive] = []
    prim = Primitive(
        name=name, impl=_on_plain_arrays(impl, this) if plain_impl else impl,
        jvp=rules, jvp_all=jvp_all, vjp=reverse, vjp_all=vjp_all,
        numpy=numpy, split_args=split_args,
        elementwise=elementwise, multiple_results=multiple_results, nin=nin, domain=domain,
        examples=tuple(examples), doc=doc or (str(rule_text) if rule_text else ""),
        family=family, formula=rule_text, jvp_fused=jvp_fused, checked=not family.builtin,
        vjp_add=vjp_add, batched=batched,
        complex_rules=family.complex_rules if complex_rules is None else complex_rules,
    )
    this.append(prim)
    return prim


def _one_at_a_time(jvp: tuple | None, jvp_all: Rule | None, vjp: tuple | None,
                   vjp_all: Rule | None, multiple_results: bool) -> tuple:
    """A user's rules of one direction (one cotangent row) as rules of ``k``."""
    from_one = _one_direction
    return (
        None if jvp is None else tuple(None if r is None else from_one.each_direction(r)
                                       for r in jvp),
        None if jvp_all is None else from_one.each_direction_all(jvp_all),
        None if vjp is None else tuple(None if r is None else
                                       from_one.each_row(r, multiple_results) for r in vjp),
        None if vjp_all is None else from_one.each_row_all(vjp_all, multiple_results),
    )


def _transposed(name: str, jvp: tuple | None, jvp_all: Rule | None, batched: bool) -> tuple:
    """Reverse-mode rules for JVP rules alone: ``(vjp, vjp_all)``, each the transpose of the
    linear map its JVP rule computes (a JVP rule is linear in the tangents), which the
    reverse engine forms by differentiating the rule itself (:mod:`dualad.transpose`)."""
    if jvp is not None:
        return tuple(None if rule is None else _transpose(name, rule, i, batched)
                     for i, rule in enumerate(jvp)), None
    return None, _transpose(name, jvp_all, None, batched)


def _transpose(name: str, rule: Rule, argument: int | None, batched: bool) -> Rule:
    def transposed_jvp_rule(ct: Any, *xs: Any, **params: Any) -> Any:
        return _transposer[0](name, rule, argument, batched, ct, xs, params)

    transposed_jvp_rule.__wrapped__ = rule  # type: ignore[attr-defined]
    return transposed_jvp_rule


_transposer: list[Rule] = []
"""The transposition of a JVP rule, which needs the reverse engine: registered by
:mod:`dualad.transpose` (this module imports no mode)."""


def register_transposer(transpose: Rule) -> None:
    """Let ``transpose(name, rule, argument, batched, ct, xs, params)`` transpose the JVP
    rules of the primitive ``name``."""
    _transposer[:] = [transpose]


def _on_plain_arrays(impl: Rule, this: list[Primitive]) -> Rule:
    """A user's ``impl`` that only ever sees plain arrays.

    An engine computes a primitive's value by calling ``impl`` on the primals of its own
    level, which are active values of an outer level in a nested derivative (``hessian``,
    ``grad(grad(f))``). A user's ``impl`` may be opaque (a SciPy call, ``np.asarray``, a
    Python loop), so those values go through dispatch again: the outer level applies the
    primitive with its own rules, and ``impl`` runs on the innermost values.
    """

    def impl_on_plain_arrays(*xs: Any, **params: Any) -> Any:
        for x in xs:
            if isinstance(x, _active_types):
                return apply(this[0], xs, params)
        return impl(*xs, **params)

    impl_on_plain_arrays.__wrapped__ = impl  # type: ignore[attr-defined]
    return impl_on_plain_arrays


def _check_vjp(name: str, jvp: tuple | None, vjp: tuple | None, vjp_all: Rule | None) -> None:
    """Both modes or neither: every forward rule has its reverse twin, declared alongside."""
    if jvp is None:
        if vjp_all is None or vjp is not None:
            raise RegistrationError(
                f"primitive {name!r} has jvp_all= and so needs vjp_all= (the reverse-mode "
                f"rule returning one cotangent per argument), and no vjp="
            )
        return
    if vjp is None or vjp_all is not None:
        raise RegistrationError(
            f"primitive {name!r} needs vjp= next to jvp=: one reverse-mode rule per "
            f"argument, rule(ct, *xs, out=out, **params) -> that argument's cotangent, so "
            f"that grad/jacrev work too (None for an argument without a derivative)"
        )
    if len(vjp) != len(jvp):
        raise RegistrationError(
            f"primitive {name!r} has {len(jvp)} jvp rules but {len(vjp)} vjp rules"
        )
    for i, (forward, reverse) in enumerate(zip(jvp, vjp)):
        if (forward is None) != (reverse is None):
            raise RegistrationError(
                f"primitive {name!r}: argument {i + 1} is differentiable in one mode only "
                f"(jvp rule {'None' if forward is None else 'given'}, vjp rule "
                f"{'None' if reverse is None else 'given'}); mark it None in both or in neither"
            )


def defcomposite(
    name: str,
    impl: Rule,
    *,
    numpy: Any,
    domain: Interval = REALS,
    examples: Sequence[Example] = (),
    doc: str = "",
    family: Family = USER,
    complex_rules: bool | None = None,
) -> Composite:
    """Differentiate a NumPy function through ``impl``, which is written with primitives.

    ``complex_rules`` (the family's by default): ``impl`` is right for complex arguments too;
    otherwise they raise.

    >>> import numpy as np, dualad
    >>> dualad.REGISTRY["std"].name
    'std'
    """
    numpy = tuple(numpy) if isinstance(numpy, (tuple, list)) else (numpy,)
    _claim(name, numpy, family)
    comp = Composite(name, impl, numpy, domain, tuple(examples), doc, family,
                     family.complex_rules if complex_rules is None else complex_rules)
    REGISTRY[name] = comp
    for fn in numpy:
        NUMPY_TABLE[fn] = comp
    return comp


NONDIFF_REAL_ONLY: dict[Any, str] = {}
"""The NONDIFF callables that are piecewise constant for real values only -> what to write
for complex ones (``np.sign(z)`` is ``z / |z|``)."""


def defnondiff(*functions: Any, why: str, complex_instead: str | None = None) -> None:
    """Mark NumPy callables whose results are piecewise constant or value-independent;
    ``complex_instead`` says what to write for complex values, where they are not."""
    for fn in functions:
        if fn in NUMPY_TABLE:
            raise RegistrationError(f"{_numpy_name(fn)} already has derivative rules")
        NONDIFF[fn] = why
        if complex_instead is not None:
            NONDIFF_REAL_ONLY[fn] = complex_instead


# --------------------------------------------------------------------------- dispatch

_active_types: tuple[type, ...] = ()
_tags = itertools.count(1)
_running: dict[int, str] = {}
"""Tags of the transform calls that are running now -> the transform's name."""
_returned: dict[int, str] = {}
"""The names of transforms that returned recently (a bounded memory, for error messages)."""
_RETURNED_KEPT = 256


def register_active_type(cls: type) -> None:
    """Let values of ``cls`` (with ``.tag``, ``.primal`` and ``_dualad_apply``) be active."""
    global _active_types
    if cls not in _active_types:
        _active_types = (*_active_types, cls)


def active_types() -> tuple[type, ...]:
    """The classes of active values the engines registered."""
    return _active_types


def is_active_type(cls: type) -> bool:
    """True when values of ``cls`` are active (carry a derivative of some transform)."""
    return issubclass(cls, _active_types)


_array_types: tuple[type, ...] = ()


def _itself(x: Any) -> Any:
    return x


def _apart(a: Any, b: Any) -> bool:
    return False


def _itself_in_order(x: Any, order: str) -> Any:
    return x


@dataclass(frozen=True)
class ArrayKind:
    """What the engines need to know of the arrays of a class registered with
    :func:`register_array_type`, beyond NumPy's protocols."""

    memory: Callable[[Any], Any] = _itself
    """The ndarray whose memory an array shows (to link views, to add in place), or the
    array itself where it holds none that NumPy can see (Dask's)."""
    frozen: Callable[[Any], Any] = _itself
    """The array as the tape keeps it: a copy if it may change later, itself if it cannot."""
    shares_memory: Callable[[Any, Any], bool] = _apart
    """Whether two arrays of the class may show the same memory."""
    copy: Callable[[Any, str], Any] = _itself_in_order
    """A copy in the given memory order (``"K"``, ``"C"``), for a value its owner may
    change; the array itself if it cannot change."""
    ufunc_methods: bool = False
    """NumPy's ufunc methods (``np.add.reduce``) reach the class's library; otherwise
    dualad calls NumPy's functions (``np.sum``)."""
    in_place: bool = False
    """``a += b`` writes into ``a`` (else it makes a new array, as a Dask array's does):
    the engines add cotangents into buffers they made only then."""
    library: str | None = None
    """The library that computes on these arrays (``"dask"``), named in errors; None for
    dualad's own (the traced arrays)."""
    guard: Callable[[], Any] | None = None
    """A context manager in which the library raises where it would otherwise turn its
    arrays into NumPy's silently (Dask computes the whole array for a function it lacks)."""
    to_numpy: str = "np.asarray(x)"
    """How a user makes one of these arrays NumPy's, for errors (``"x.compute()"``)."""


_array_kinds: dict[type, ArrayKind] = {}
_external_types: tuple[type, ...] = ()


def register_array_type(cls: type, kind: ArrayKind | None = None) -> None:
    """Let values of ``cls`` stand for plain arrays below every transform: the engines keep
    them as they are (no ``np.asarray``) and meet them through NumPy's protocols, as they meet
    ndarrays (``dualad.compile``'s traced arrays, Dask's arrays); ``kind`` tells the rest
    (by default: immutable arrays holding no ndarray).

    >>> default = ArrayKind()
    >>> default.frozen(3), default.shares_memory(1, 1), default.ufunc_methods
    (3, False, False)
    """
    global _array_types, _external_types
    kind = ArrayKind() if kind is None else kind
    _array_kinds[cls] = kind
    if cls not in _array_types:
        _array_types = (*_array_types, cls)
    if kind.library is not None and cls not in _external_types:
        _external_types = (*_external_types, cls)


def adds_in_place(x: Any) -> bool:
    """Whether ``x += y`` writes into ``x``'s memory: for ndarrays yes, for a registered
    array class as its kind says.

    >>> adds_in_place(np.ones(2))
    True
    """
    return not isinstance(x, _array_types) or array_kind(x).in_place


def takes_ufunc_methods(x: Any) -> bool:
    """Whether ``np.add.reduce(x)`` and the other ufunc methods reach ``x``'s library: for
    ndarrays and active values yes, for a registered array class as its kind says.

    >>> takes_ufunc_methods(np.ones(2))
    True
    """
    return not isinstance(x, _array_types) or array_kind(x).ufunc_methods


def array_kind(x: Any) -> ArrayKind:
    """The :class:`ArrayKind` of an array of a registered class.

    >>> array_kind(np.ones(2))
    Traceback (most recent call last):
    ...
    TypeError: ndarray is not a registered array type
    """
    for cls in type(x).__mro__:
        kind = _array_kinds.get(cls)
        if kind is not None:
            return kind
    raise TypeError(f"{type(x).__qualname__} is not a registered array type")


def array_types() -> tuple[type, ...]:
    """The array classes registered with :func:`register_array_type`."""
    return _array_types


def is_array(x: Any) -> bool:
    """True for a value of a registered array class (not an ndarray, not active)."""
    return isinstance(x, _array_types)


def lift(a: Any, *others: Any) -> Any:
    """``a`` as an array of the registered kind of the first of ``others`` (or of the items
    of a tuple or list among them, an index key) that is one; ``a`` itself otherwise.

    Rules index and write into plain arrays they make (``positions[key]``,
    ``buffer[key] = v``, ``np.take(positions, indices)``); NumPy's indexing does not
    dispatch, nor does ``np.take`` on its indices, so a key or value of a registered kind
    (``dualad.compile``'s traced arrays) would be turned into numbers, and one of a
    :func:`register_value_subclass` class would lose its class: such an ``a`` takes it.

    >>> lift(np.zeros(2), 1.0, (slice(None),)).shape
    (2,)
    """
    if not _array_types or isinstance(a, (*_array_types, *_active_types)):
        return a  # already of a registered kind, or active (its primal is lifted, if needed)
    for other in others:
        items = other if isinstance(other, (tuple, list)) else (other,)
        for item in items:
            if isinstance(item, _array_types):
                return np.array(a, like=item)  # a copy: rules write into what they lift
            if item.__class__ in _value_subclasses and isinstance(a, np.ndarray):
                return np.array(a, copy=True).view(item.__class__)
    return a


def new_tag() -> int:
    """A fresh tag for a value made by hand (``Dual(x, v)``, ``Tape()``), higher than every
    tag handed out before. Such a tag never expires; transforms use :func:`enter_transform`.

    Tags of hand-made values are odd, those of transform calls even, so that an expired tag
    is recognised without remembering every transform call.
    """
    return 2 * next(_tags) + 1


def enter_transform(name: str) -> int:
    """A fresh tag for one call of the transform ``name`` (``"dualad.grad"``), running until
    :func:`leave_transform`. Values made active at that level and kept after it are *leaked*."""
    tag = 2 * next(_tags)
    _running[tag] = name
    return tag


def leave_transform(tag: int) -> None:
    """The transform call with ``tag`` has returned: its active values expire."""
    _returned[tag] = _running.pop(tag)
    if len(_returned) > 2 * _RETURNED_KEPT:  # forget the older half, now and then
        for old in list(_returned)[:_RETURNED_KEPT]:
            del _returned[old]


def expired(tag: int) -> bool:
    """True when ``tag`` belongs to a transform call that has already returned."""
    return not tag & 1 and tag not in _running


def transform_name(tag: int) -> str:
    """The transform that issued ``tag`` (``"dualad.jvp"``), as far as it is remembered."""
    return _running.get(tag) or _returned.get(tag) or "a dualad transform"


def leaked_error(tag: int, where: str) -> PerturbationConfusionError:
    """The error for an active value used after the transform that made it returned."""
    return PerturbationConfusionError(
        f"{where} is an active value of a {transform_name(tag)} call that has already "
        f"returned (a leaked value, e.g. kept in a global variable, a list or an attribute "
        f"inside the function and used afterwards). Its derivative belongs to that call. "
        f"Return the value from the function instead (with has_aux=True if it is not the "
        f"output), or keep dualad.primal(value) if you want the numbers only."
    )


def is_active(x: Any) -> bool:
    """True when ``x`` carries a derivative of some transform."""
    return isinstance(x, _active_types)


def apply(prim: Primitive, xs: Sequence[Any], params: dict[str, Any]) -> Any:
    """Apply ``prim`` to ``xs``: the active input with the highest tag does the work."""
    top = None
    for x in xs:
        if isinstance(x, _active_types) and (top is None or x.tag > top.tag):
            top = x
    if _external_types:
        external = external_value(xs)
        if external is not None:
            kind = array_kind(external)
            if top is None:
                return run_in_library(prim, kind, prim.impl, *xs, **params)
            return run_in_library(prim, kind, top._dualad_apply, prim, xs, params, top.tag)
    if top is None:
        return prim.impl(*xs, **params)
    return top._dualad_apply(prim, xs, params, top.tag)


def external_value(xs: Sequence[Any]) -> Any:
    """The first array of another library (Dask's) among ``xs`` (through active values), or
    None.

    >>> external_value([np.ones(2)]) is None
    True
    """
    if not _external_types:
        return None
    for x in xs:
        while isinstance(x, _active_types):
            x = x.primal
        if isinstance(x, _external_types):
            return x
    return None


def run_in_library(who: Primitive | Composite, kind: ArrayKind, fn: Callable[..., Any], /,
                   *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on another library's arrays: in the library's guard, and a
    function the library lacks, or cannot compute as called, raising an error that names
    ``who`` (a primitive or a composite)."""
    try:
        with in_library(kind):
            return fn(*args, **kwargs)
    except DualadError:
        raise
    except LIBRARY_ERRORS as error:
        raise library_error(who, kind, error, "") from error


LIBRARY_ERRORS = (FutureWarning, TypeError, ValueError, NotImplementedError, IndexError,
                  AttributeError)
"""What another library raises where it cannot compute a function as dualad calls it."""


def in_library(kind: ArrayKind) -> Any:
    """The context in which ``kind``'s library refuses to compute its arrays silently."""
    return kind.guard() if kind.guard is not None else contextlib.nullcontext()


def external_kind(values: Sequence[Any]) -> ArrayKind | None:
    """The :class:`ArrayKind` of the first array of another library among ``values``
    (through active values and tuples), or None.

    >>> external_kind([np.ones(2), 3.0]) is None
    True
    """
    if not _external_types:
        return None
    for value in values:
        items = value if isinstance(value, (tuple, list)) else (value,)
        found = external_value(items)
        if found is not None:
            return array_kind(found)
    return None


def elementwise_library_error(prim: Primitive, xs: Sequence[Any],
                              error: BaseException) -> UnsupportedPrimitiveError | None:
    """The error naming ``prim`` for ``error``, raised by another library (Dask) in a ufunc
    or operator on ``xs`` or in its rules; None where none is involved or the error is
    dualad's own."""
    if isinstance(error, DualadError) or not _external_types:
        return None
    kind = external_kind(xs)
    return None if kind is None else library_error(prim, kind, error, "")


def library_error(prim: Primitive | Composite, kind: ArrayKind, error: BaseException,
                  rule: str) -> UnsupportedPrimitiveError:
    """The error for ``error``, raised by ``kind``'s library in ``prim``'s ``rule``
    (``"the reverse-mode rule of "``, or ``""`` for the function itself)."""
    name = numpy_name(prim.numpy[0]) if prim.numpy else prim.name
    return UnsupportedPrimitiveError(
        f"{rule}{name} of {kind.library} arrays failed in {kind.library} "
        f"({type(error).__name__}: {error}). {kind.library} does not compute it as dualad "
        f"calls it here (dualad's {prim.name}); make the array NumPy's first "
        f"({kind.to_numpy}) to differentiate with NumPy's arrays, or write the step with "
        f"functions {kind.library} has.")


def strip(x: Any) -> Any:
    """The innermost primal of ``x`` (through every level), for non-differentiable use.

    Raises for a stale array (a view whose values NumPy would have changed in place).
    """
    while isinstance(x, _active_types):
        if x._stale:
            raise x.stale_error()
        x = x.primal
    if isinstance(x, (list, tuple)) and any(map(_contains_active, x)):
        return type(x)(strip(item) for item in x)
    return x


_value_subclasses: tuple[type, ...] = ()


def register_value_subclass(cls: type) -> None:
    """Let values of the ndarray subclass ``cls`` stand for plain arrays: constants of it
    meet active values, and :func:`plain_array` keeps them (dualad's own subclasses that
    mark values, as the sparsity detection's tainted values do)."""
    global _value_subclasses
    if cls not in _value_subclasses:
        _value_subclasses = (*_value_subclasses, cls)


def is_value_subclass(cls: type) -> bool:
    """True for a class registered with :func:`register_value_subclass`."""
    return cls in _value_subclasses


def plain_array(x: Any, dtype: Any = None) -> Any:
    """``np.asarray(strip(x), dtype)`` for non-differentiable use (a mask, a sign to check),
    where an array of a registered kind (:func:`register_array_type`, ``dualad.compile``'s
    traced arrays) stays what it is, so that decisions on its values are seen.

    >>> plain_array([1, 0], dtype=bool)
    array([ True, False])
    """
    x = strip(x)
    if isinstance(x, _array_types) or x.__class__ in _value_subclasses:
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return np.asarray(x, dtype)


def _contains_active(x: Any) -> bool:
    if isinstance(x, _active_types):
        return True
    if isinstance(x, (list, tuple)):
        return any(map(_contains_active, x))
    return False


SPELLINGS: dict[Any, str] = {}
"""Callables outside NumPy -> how a user writes them, where their own name does not say it
(``scipy.special._zeta``, which ``scipy.special.zeta(x, q)`` calls, is ``scipy.special.zeta``).
A family that declares such callables records them here."""

_UFUNC_NAMESPACES = ("scipy.special",)
"""Modules whose ufuncs reach dualad under a name of theirs (``scipy.special.gammaln``)."""


def _numpy_name(fn: Any) -> str:
    spelled = SPELLINGS.get(fn)
    if spelled is not None:
        return spelled
    module = getattr(fn, "__module__", None) or "numpy"
    name = getattr(fn, "__name__", repr(fn))
    if isinstance(fn, np.ufunc) and getattr(np, name, None) is not fn:
        return _foreign_ufunc_name(fn, name)
    if module.startswith("numpy.linalg"):
        return f"np.linalg.{name}"
    if module.startswith("numpy.fft"):
        return f"np.fft.{name}"
    return f"np.{name}"


def _foreign_ufunc_name(fn: Any, name: str) -> str:
    """A ufunc that is not NumPy's own: its name in the (already imported) module that
    exports it, such as ``scipy.special.gammaln``; else the ufunc's own name."""
    for namespace in _UFUNC_NAMESPACES:
        module = sys.modules.get(namespace)
        if module is not None and getattr(module, name, None) is fn:
            return f"{namespace}.{name}"
    return f"the ufunc {name!r} (not NumPy's)"


def numpy_name(fn: Any) -> str:
    """How a user writes ``fn``: ``np.sum``, ``np.linalg.inv``, ``scipy.special.gammaln``, ...

    >>> numpy_name(np.sin), numpy_name(np.linalg.inv)
    ('np.sin', 'np.linalg.inv')
    """
    return _numpy_name(fn)


# --------------------------------------------------------------------------- optional families


@dataclass(frozen=True)
class _Provider:
    owns: Callable[[Any], bool]
    load: Callable[[], None]
    requires: str


_PROVIDERS: list[_Provider] = []


def defprovider(owns: Callable[[Any], bool], load: Callable[[], None], requires: str) -> None:
    """Declare a family of primitives that is registered only when it is first needed.

    A family for another library's functions (scipy.special's ufuncs) must not import that
    library when dualad is imported. ``owns(fn)`` tells whether a callable that reached the
    engines without a declaration belongs to the family (it must not import anything
    either); the first such callable runs ``load()``, which declares the family.
    :func:`load_optional_families` loads every family whose library ``requires`` names an
    installed module, for whoever walks the whole registry (the tests, the generated list of
    supported functions).

    >>> import dualad  # dualad.primitives declares scipy.special's family this way
    >>> [provider.requires for provider in _PROVIDERS]
    ['scipy']
    """
    _PROVIDERS.append(_Provider(owns, load, requires))


def lookup(fn: Any) -> Primitive | Composite | None:
    """The declaration that differentiates ``fn``, loading its optional family if need be.

    The engines call it only for a callable missing from :data:`NUMPY_TABLE`, so the table
    stays the fast path.

    >>> lookup(np.sin).name, lookup(np.floor)
    ('sin', None)
    """
    entry = NUMPY_TABLE.get(fn)
    if entry is not None:
        return entry
    for provider in _PROVIDERS:
        if provider.owns(fn):
            provider.load()
    return NUMPY_TABLE.get(fn)


def load_optional_families() -> None:
    """Declare every optional family whose library is installed (importing that library).

    >>> load_optional_families()
    >>> "gammaln" in REGISTRY  # scipy is installed
    True
    """
    for provider in _PROVIDERS:
        try:
            installed = importlib.util.find_spec(provider.requires) is not None
        except (ImportError, ValueError):  # a finder that refuses it; a module set to None
            installed = False
        if installed:
            provider.load()


def unsupported(fn: Any, detail: str = "") -> UnsupportedPrimitiveError:
    """The error for a NumPy callable dualad cannot differentiate."""
    name = _numpy_name(fn)
    msg = (
        f"{name} is not supported by dualad: it has no derivative rule, and running it on "
        f"the primal values would silently drop the derivative."
    )
    if detail:
        msg += " " + detail
    msg += (
        " Rewrite it with supported NumPy functions, or register a rule with "
        "dualad.defprimitive (see the guide's Custom primitives, docs/custom-primitives.md)."
    )
    return UnsupportedPrimitiveError(msg)
