"""Which library function converted an active array, and what to write instead.

NumPy's own dispatch never shows dualad some calls: SciPy's Python functions, NumPy's functions
written in Python (``np.vectorize``, ``np.polynomial``) and ``plain[key] = active`` convert the
active value, and the conversion is all dualad sees. This module reads the call stack at that
moment to name the function the user called. It is the one place that does.

SciPy's functions written in Python convert their arguments with ``np.asarray``, which an
active array refuses. The error would name ``np.asarray``; the user called
``scipy.stats.norm.logpdf``. When a conversion is refused, :func:`scipy_caller` reads the
call stack for the outermost frame inside SciPy and names the public function it belongs to,
and :func:`conversion_message` says what to do: dualad's differentiable version
(``dualad.scipy``) where there is one, otherwise how to write it. This module imports neither
SciPy nor ``dualad.scipy`` (it is part of the engine): the names are a table.
"""

from __future__ import annotations

import dis
import sys
from typing import Any

from .errors import ConversionError

DISTRIBUTIONS = {
    "norm": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"),
    "t": ("logpdf", "pdf"), "cauchy": ("logpdf", "pdf"), "laplace": ("logpdf", "pdf"),
    "expon": ("logpdf", "pdf"), "gamma": ("logpdf", "pdf"), "beta": ("logpdf", "pdf"),
    "lognorm": ("logpdf", "pdf"), "poisson": ("logpmf", "pmf"), "nbinom": ("logpmf", "pmf"),
    "multivariate_normal": ("logpdf", "pdf"),
}
"""The ``scipy.stats`` distributions and methods that ``dualad.scipy.stats`` provides."""

FUNCTIONS = ("scipy.special.logsumexp", "scipy.special.softmax", "scipy.special.log_softmax",
             "scipy.special.polygamma", "scipy.special.multigammaln",
             "scipy.optimize.rosen", "scipy.integrate.odeint")
"""The SciPy functions that ``dualad.scipy`` provides under the same names."""

enabled = False
"""Set by ``dualad.scipy.enable()``: a missed call then needs another explanation."""


def covered(name: str) -> str | None:
    """dualad's twin of the SciPy function ``name`` (as :func:`scipy_caller` writes it)."""
    if name in FUNCTIONS:
        return "dualad." + name
    dist, _, method = name.removeprefix("scipy.stats.").rpartition(".")
    if name.startswith("scipy.stats.") and method in DISTRIBUTIONS.get(
            dist.removesuffix("(...)"), ()):
        return "dualad." + name
    return None


def called_from_scipy() -> bool:
    """True when the function that called the caller is SciPy's (np.asarray is C code, so
    that is the frame that converts)."""
    return sys._getframe(2).f_globals.get("__name__", "").startswith("scipy.")


def scipy_caller() -> str | None:
    """The public name of the outermost SciPy function on the call stack, if any."""
    frame = sys._getframe(1)
    outermost = None
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("scipy."):
            outermost = frame
        elif outermost is not None:
            break
        frame = frame.f_back
    return None if outermost is None else _public_name(outermost)


def _public_name(frame: Any) -> str:
    """``scipy.special._logsumexp.logsumexp`` -> ``scipy.special.logsumexp``; a method of a
    distribution -> ``scipy.stats.norm.logpdf`` (``scipy.stats.norm(...).logpdf`` frozen)."""
    module = frame.f_globals["__name__"].split(".")
    public = ".".join(part for part in module if not part.startswith("_"))
    code = frame.f_code
    owner = frame.f_locals.get("self") if code.co_argcount else None
    if owner is None or "." not in getattr(code, "co_qualname", "."):
        return f"{public}.{code.co_name}"
    frozen = type(owner).__name__.endswith("_frozen")
    dist = (getattr(owner, "dist", None) or getattr(owner, "_dist", None)) if frozen else owner
    name = getattr(dist, "name", None) or type(dist).__name__.removesuffix("_gen")
    return f"{public}.{name}{'(...)' if frozen else ''}.{code.co_name}"


def conversion_message(name: str, what: str) -> str:
    """What to tell a user whose active array ``name`` (a SciPy function) converted."""
    start = (f"{name} converts its arguments to plain arrays ({what}), which would drop "
             f"the derivative of an active array.")
    twin = covered(name)
    if twin is None:
        return (f"{start} dualad has no differentiable version of it: write the computation "
                f"with NumPy functions, declare it with its derivative "
                f"(dualad.defprimitive; see the guide's Custom primitives), or pass "
                f"dualad.primal(x) if you want the values only. The SciPy functions dualad "
                f"covers are listed in the guide's SciPy page (docs/scipy.md).")
    if enabled:
        return (f"{start} dualad.scipy.enable() is on, but this call did not go through it: "
                f"a name imported from SciPy before enable() (from scipy.special import "
                f"logsumexp) still refers to SciPy's own function. Call {twin} directly, or "
                f"import the name after enabling (or write it with its module, "
                f"{name.split('(')[0]}).")
    return (f"{start} Call dualad's differentiable version, {twin}, or run "
            f"dualad.scipy.enable() (or `with dualad.scipy.enable():`) to send calls of "
            f"{name} with active arguments there.")


_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]


def assigning() -> bool:
    """True when NumPy converts an active value for ``plain[key] = value``: the Python code
    that called NumPy (the caller of ``__float__``/``__array__``) is at a subscript store."""
    frame = sys._getframe(2)
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _STORE_SUBSCR


def numpy_caller() -> tuple[str, str] | None:
    """The NumPy function the user called that converts an active value with np.asarray
    (np.vectorize, np.polynomial's functions, which NumPy does not dispatch to dualad): the
    outermost of the NumPy frames above ``__array__``'s caller, as (module, qualname)."""
    frame = sys._getframe(2)
    found = None
    while frame is not None and frame.f_globals.get("__name__", "").startswith("numpy."):
        found = (frame.f_globals["__name__"], frame.f_code.co_qualname)
        frame = frame.f_back
    return found


def converted_by(module: str, qualname: str) -> str:
    """The message for an active value converted by the NumPy function module.qualname."""
    if qualname.startswith("vectorize."):
        return (
            "np.vectorize calls the function on one element at a time, as NumPy scalars, "
            "which cannot carry the derivative. Write the function with whole-array NumPy "
            "operations (np.where(condition, a, b) for an if, np.maximum, ...), which is also "
            "much faster; or call it in a Python loop over the elements and np.stack the "
            "results."
        )
    if qualname == "piecewise":
        return (
            "np.piecewise(x, ...) with a plain x and functions that return active values: "
            "NumPy fills a plain array with their results, which cannot hold the derivative. "
            "Pass an active x, or write np.where(condition, f(x), g(x))."
        )
    public = ".".join(part for part in module.split(".") if not part.startswith("_"))
    name = f"{public.replace('numpy', 'np', 1)}.{qualname}"
    if module.startswith("numpy.polynomial"):
        if qualname.endswith(".__call__"):
            name = "a np.polynomial series called on x (np.polynomial.Polynomial(c)(x), ...)"
        return (
            f"{name} converts its arguments with np.array, which would drop the derivative of "
            f"an active value (NumPy does not hand np.polynomial to dualad). Evaluate with the "
            f"module's function and plain coefficients, np.polynomial.chebyshev.chebval(x, c) "
            f"(polyval, legval, hermval, ...), which works with an active x; for a series "
            f"object p, pass p.convert().coef. With active coefficients write a power series "
            f"as np.polyval(c[::-1], x), or use the pseudo-Vandermonde matrix of a plain x: "
            f"np.polynomial.chebyshev.chebvander(x, len(c) - 1) @ c."
        )
    return (
        f"{name} converts its arguments with np.asarray/np.array, which would drop the "
        f"derivative of an active value (NumPy does not hand it to dualad). Write it with "
        f"NumPy functions that dualad supports (see the Supported functions page), or pass "
        f"dualad.primal(x) if you want the values only."
    )


def buffer_error() -> ConversionError:
    """The error for ``plain[key] = active``: the buffer should be made from the value."""
    return ConversionError(
        "out[key] = value with an active value and a plain NumPy array out (np.zeros(n), "
        "np.empty(n), ...): a plain array cannot hold the derivative. Create the buffer from "
        "the traced value, so that it carries derivatives: out = np.zeros_like(x) (or "
        "np.empty_like, np.ones_like, np.full_like(x, value), x.copy(); another shape with "
        "np.zeros_like(x, shape=(n, m)))."
    )
