"""check_grads, compare and ``dualad check`` never hand the caller's arrays to the function.

A function may update its arguments in place (``x *= 2``). Called with the caller's own
arrays, it changed them: the finite differences then moved from a different point than the
JVP, check_grads blamed "random numbers", and the caller's data was changed after the call.
Every evaluation now gets fresh copies, and so does a hand-written gradient in compare.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import dualad
from dualad.checking import GradientCheckError
from dualad.cli import main


def doubles_in_place(x):
    x *= 2
    return np.sum(x ** 2)  # the derivative is 8x


def scales_in_place(x, w):
    x *= w
    w += 1.0
    return np.tanh(x) * w


def _point():
    rng = np.random.default_rng(12)
    return rng.standard_normal(4), rng.standard_normal(4)


def test_check_grads_leaves_the_callers_arrays_bit_for_bit_unchanged():
    x, w = _point()
    before = x.tobytes(), w.tobytes()
    report = dualad.check_grads(scales_in_place, (x, w), modes=("fwd",))
    assert (x.tobytes(), w.tobytes()) == before
    assert report.max_rel_error < 1e-8
    report = dualad.check_grads(doubles_in_place, (x,), modes=("fwd",), order=2)
    assert x.tobytes() == before[0]
    assert {c.function for c in report.checks} == {"f", "x -> jvp(f)(x; v)"}


def test_a_failing_check_leaves_the_callers_arrays_unchanged_too():
    # a wrong rule makes reverse mode fail, and check_grads then differences every element
    wrong_square = dualad.defprimitive(
        "wrong_square_checking_inputs", impl=np.square,
        jvp=lambda dx, x, *, out: 2 * x * dx, vjp=lambda ct, x, *, out: 3 * ct * x)

    def f(x):
        x *= 2
        return np.sum(wrong_square(x))

    x, _ = _point()
    before = x.tobytes()
    with pytest.raises(GradientCheckError, match="reverse mode"):
        dualad.check_grads(f, (x,), order=1)
    assert x.tobytes() == before


def test_check_grads_of_an_in_place_function_in_forward_mode():
    # before: f(x) doubled the caller's x, so the JVP's primal (at 2x) disagreed with f(x)
    # ("does f draw random numbers?")
    x = np.array([1.0, -2.0, 0.5])
    report = dualad.check_grads(doubles_in_place, (x,), modes=("fwd",), order=2)
    assert report.max_rel_error < 1e-8
    _, tangent = dualad.jvp(doubles_in_place, (x,), (np.array([1.0, 0.0, 0.0]),))
    assert float(tangent) == pytest.approx(8 * x[0], rel=1e-15)


def test_check_grads_of_an_in_place_function_in_both_modes():
    x, w = _point()
    before = x.tobytes(), w.tobytes()
    dualad.check_grads(doubles_in_place, (x,))
    dualad.check_grads(scales_in_place, (x, w))
    assert (x.tobytes(), w.tobytes()) == before


def test_compare_gives_f_and_the_hand_gradient_their_own_copies():
    def f(w):
        h = w ** 3
        return np.sum(h)

    def hand(w):  # wrong (2 w**2 for 3 w**2), and it updates w in place
        dh = np.ones_like(w)
        dw = 2 * w ** 2 * dh
        w *= 10
        return dw

    w = np.array([2.0, -1.0])
    before = w.tobytes()
    c = dualad.compare(f, hand, w)
    assert w.tobytes() == before
    assert not c.agrees
    np.testing.assert_array_equal(c["w"].manual, [8.0, 2.0])
    np.testing.assert_array_equal(c["w"].dualad, [12.0, 3.0])
    # the diagnosis runs hand and traces f again: at the caller's point, not at 10 w
    (m,) = c.mismatches
    assert m.manual_name == "dw"
    np.testing.assert_array_equal(m.manual, [8.0, 2.0])
    np.testing.assert_array_equal(m.dualad, [12.0, 3.0])


def test_compare_of_an_in_place_hand_gradient_of_a_correct_formula_agrees():
    def hand(x):
        x *= 3
        return x * x / 3  # 3 x**2 computed from the updated x

    x = np.array([0.5, 2.0])
    before = x.tobytes()
    c = dualad.compare(lambda x: np.sum(x ** 3), hand, x)
    assert c.agrees and x.tobytes() == before


def test_compare_copies_lists_of_arguments_too():
    def hand(x):
        g = np.array([2 * v for v in x])
        x[0] = 100.0  # updates the caller's list
        return g

    point = [1.0, 2.0]
    c = dualad.compare(lambda x: x[0] ** 2 + x[1] ** 2, hand, point)
    assert c.agrees and point == [1.0, 2.0]


def test_compare_of_an_in_place_function(capsys):
    x = np.array([1.0, -2.0])
    c = dualad.compare(doubles_in_place, lambda x: 8 * x, x)
    assert c.agrees and x.tolist() == [1.0, -2.0]


def test_dualad_check_of_an_in_place_function(capsys, tmp_path):
    source = tmp_path / "inplace.py"
    source.write_text(textwrap.dedent("""
        import numpy as np

        def f(x):
            x *= 2
            return np.sum(x ** 2)

        def hand(x):
            return 8 * x
    """))
    status = main(["check", f"{source}:f", "--at", "x=[1, -2, 0.5]"])
    out = capsys.readouterr().out
    assert status == 0 and "check_grads passed" in out
    status = main(["check", f"{source}:f", f"{source}:hand", "--at", "x=[1, -2, 0.5]"])
    assert status == 0 and "agrees" in capsys.readouterr().out


def test_dualad_check_of_an_in_place_function_does_not_blame_random_numbers(capsys,
                                                                           tmp_path):
    source = tmp_path / "inplace.py"
    source.write_text(textwrap.dedent("""
        import numpy as np

        def f(x):
            x *= 2
            return np.sum(x ** 2)
    """))
    main(["check", f"{source}:f", "--at", "x=[1, -2, 0.5]"])
    out = capsys.readouterr().out
    assert "random numbers" not in out
    assert "forward mode" not in out  # forward mode is checked first, and passes
