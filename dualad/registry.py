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

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import PerturbationConfusionError, RegistrationError, UnsupportedPrimitiveError

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
    Tangents carry a leading axis of directions: ``dx.shape == (k,) + x.shape``.
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

    @property
    def builtin(self) -> bool:
        """Declared by dualad itself (not by a user)."""
        return self.family.builtin

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<dualad composite {self.name}>"


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


def _claim(name: str, numpy: tuple[Any, ...]) -> None:
    if name in REGISTRY:
        raise RegistrationError(f"a primitive named {name!r} is already registered")
    for fn in numpy:
        if fn in NUMPY_TABLE:
            raise RegistrationError(
                f"{_numpy_name(fn)} is already differentiated by {NUMPY_TABLE[fn].name!r}"
            )
        if fn in NONDIFF:
            raise RegistrationError(f"{_numpy_name(fn)} is registered as non-differentiable")


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
    family: Family = USER,
    complex_rules: bool | None = None,
) -> Primitive:
    """Declare a differentiable operation with its forward rule, in one place.

    The returned :class:`Primitive` is callable like ``impl``; called on dual arrays it
    carries their tangents. Passing ``numpy=`` makes NumPy's own function (or ufunc)
    dispatch to it, with ``split_args(*args, **kwargs) -> (xs, params)`` splitting NumPy's
    arguments into differentiable arrays and static parameters.

    Parameters
    ----------
    name : str
        Unique name, NumPy's where there is one.
    impl : callable
        ``impl(*xs, **params)``, the primal computation.
    jvp : callable or sequence of callables
        One rule per differentiable argument, ``rule(dx, *xs, out=out, **params)``,
        returning that argument's contribution to the output tangent. Tangents have a
        leading axis of directions. Give exactly one of ``jvp`` and ``jvp_all``.
    jvp_all : callable
        ``jvp_all(dxs, *xs, out=out, **params)`` returning the output tangent from all
        tangents at once (``None`` for constants).
    vjp : callable or sequence of callables
        Reverse-mode rules, one per differentiable argument, in the order of ``jvp``:
        ``rule(ct, *xs, out=out, **params)`` returns the cotangent of that argument from the
        output cotangent ``ct`` (leading batch axis: ``ct.shape == (k,) + out.shape``;
        a tuple of them for ``multiple_results``). A result shaped like the broadcast
        output is summed back to the argument's shape by the engine. ``None`` marks an
        argument without a derivative, exactly where ``jvp`` has ``None``. Required with
        ``jvp``.
    vjp_all : callable
        ``vjp_all(ct, *xs, out=out, **params)`` returning one cotangent per argument;
        required with ``jvp_all``.
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
        When the name or NumPy callable is taken, a forward or reverse rule is missing
        or has the wrong arity, or the formula does not fit the arguments.

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
    _check_vjp(name, rules, _as_rules(vjp), vjp_all)
    if vjp_add is not None and (rules is None or nin != 1):
        raise RegistrationError(
            f"primitive {name!r}: vjp_add= goes beside the vjp= rule of a primitive of one "
            f"differentiable argument"
        )
    rule_text = _formula(name, formula, rules, nin, multiple_results)
    _claim(name, numpy)
    prim = Primitive(
        name=name, impl=impl, jvp=rules, jvp_all=jvp_all, vjp=_as_rules(vjp), vjp_all=vjp_all,
        numpy=numpy, split_args=split_args,
        elementwise=elementwise, multiple_results=multiple_results, nin=nin, domain=domain,
        examples=tuple(examples), doc=doc or (str(rule_text) if rule_text else ""),
        family=family, formula=rule_text, jvp_fused=jvp_fused, checked=not family.builtin,
        vjp_add=vjp_add,
        complex_rules=family.complex_rules if complex_rules is None else complex_rules,
    )
    REGISTRY[name] = prim
    for fn in numpy:
        NUMPY_TABLE[fn] = prim
    return prim


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
) -> Composite:
    """Differentiate a NumPy function through ``impl``, which is written with primitives.

    >>> import numpy as np, dualad
    >>> dualad.REGISTRY["std"].name
    'std'
    """
    numpy = tuple(numpy) if isinstance(numpy, (tuple, list)) else (numpy,)
    _claim(name, numpy)
    comp = Composite(name, impl, numpy, domain, tuple(examples), doc, family)
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
    if top is None:
        return prim.impl(*xs, **params)
    return top._dualad_apply(prim, xs, params, top.tag)


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


def _contains_active(x: Any) -> bool:
    if isinstance(x, _active_types):
        return True
    if isinstance(x, (list, tuple)):
        return any(map(_contains_active, x))
    return False


def _numpy_name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or "numpy"
    name = getattr(fn, "__name__", repr(fn))
    if module.startswith("numpy.linalg"):
        return f"np.linalg.{name}"
    if module.startswith("numpy.fft"):
        return f"np.fft.{name}"
    return f"np.{name}"


def numpy_name(fn: Any) -> str:
    """How a user writes ``fn``: ``np.sum``, ``np.linalg.inv``, ..."""
    return _numpy_name(fn)


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
