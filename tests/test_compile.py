"""dualad.compile: replays equal eager calls, guards record again, errors, readable source.

The references are the eager transforms (themselves checked against JAX elsewhere) at the
same point: a replay must give the same bits, so a value baked into the program at the
recording shows as a difference at a second point.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import dualad


def rosenbrock(x):
    head, tail = x[:-1], x[1:]
    valley = tail - head ** 2
    return np.sum(100.0 * valley ** 2 + (1.0 - head) ** 2)


def chain(x):
    return np.sum(np.tanh(np.sin(x) * x + 1.0) ** 2)


X0 = np.linspace(-1.0, 1.5, 6)
X1 = np.linspace(0.3, -0.7, 6)


def same(a, b):
    leaves_a, tree_a = dualad.tree_flatten(a)
    leaves_b, tree_b = dualad.tree_flatten(b)
    assert tree_a == tree_b
    for u, v in zip(leaves_a, leaves_b):
        assert np.asarray(u).dtype == np.asarray(v).dtype
        np.testing.assert_array_equal(u, v)


TRANSFORMS = {
    "grad": lambda f: dualad.grad(f),
    "value_and_grad": lambda f: dualad.value_and_grad(f),
    "jacfwd": lambda f: dualad.jacfwd(f),
    "jacrev": lambda f: dualad.jacrev(f),
    "hessian": lambda f: dualad.hessian(f),
    "jvp": lambda f: (lambda x, v: dualad.jvp(f, (x,), (v,))),
    "vjp": lambda f: (lambda x, u: dualad.vjp(f, x)[1](u)),
    "hvp": lambda f: (lambda x, v: dualad.hvp(f, (x,), (v,))),
    "linearize": lambda f: (lambda x, v: dualad.linearize(f, x)[1](v)),
}


def _arguments(name, x):
    if name in ("jvp", "hvp", "linearize"):
        return (x, np.cos(x))
    if name == "vjp":
        return (x, np.float64(0.5))
    return (x,)


@pytest.mark.parametrize("function", [rosenbrock, chain])
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_replay_equals_eager(function, name):
    transformed = TRANSFORMS[name](function)
    compiled = dualad.compile(transformed)
    same(compiled(*_arguments(name, X0)), transformed(*_arguments(name, X0)))
    same(compiled(*_arguments(name, X1)), transformed(*_arguments(name, X1)))
    assert compiled.recordings == 1


def test_value_and_grad_of_several_arguments():
    def loss(w, b, x):
        return np.sum((np.tanh(x @ w + b) - 0.5) ** 2)

    x = np.linspace(-1, 1, 12).reshape(4, 3)
    transformed = dualad.value_and_grad(loss, argnums=(0, 1))
    compiled = dualad.compile(transformed)
    for w, b in ((np.ones(3), 0.1), (np.array([0.5, -1.0, 2.0]), -0.3)):
        b = np.float64(b)
        same(compiled(w, b, x), transformed(w, b, x))
    assert compiled.recordings == 1


def test_shapes_and_dtypes_record_again():
    compiled = dualad.compile(dualad.grad(chain))
    for x in (X0, X1, np.linspace(0, 1, 9), X0.astype(np.float32), X1):
        same(compiled(x), dualad.grad(chain)(x))
    assert compiled.recordings == 3


def test_python_numbers_are_part_of_the_key():
    compiled = dualad.compile(lambda x, scale: dualad.grad(chain)(x * scale))
    same(compiled(X0, 2.0), dualad.grad(chain)(X0 * 2.0))
    same(compiled(X1, 2.0), dualad.grad(chain)(X1 * 2.0))
    same(compiled(X1, 3.0), dualad.grad(chain)(X1 * 3.0))
    assert compiled.recordings == 2


# --------------------------------------------------------------------------- guards


def branchy(x):
    if np.sum(x) > 0:
        return np.sum(x ** 2)
    return np.sum(np.sin(x))


def halving(x):
    steps = 0
    while np.max(np.abs(x)) > 1.0:
        x = x / 2.0
        steps += 1
    return np.sum(x ** 3) * (steps + 1)


def masked(x):
    return np.sum(np.exp(x[x > 0]))


def argmax_index(x):
    i = np.argmax(x)
    return x[i] ** 2 + x[int(np.argmin(x))]


def nonzero_count(x):
    where = np.nonzero(x > 0.5)[0]
    return np.sum(x[where] ** 2) + len(where)


def python_number(x):
    scale = float(dualad.primal(np.max(x)))
    return np.sum(x * scale)


GUARDED = {
    branchy: [np.array([1.0, 2.0]), np.array([-1.0, -2.0]), np.array([3.0, 1.0])],
    halving: [np.array([3.0, 1.0]), np.array([9.0, 1.0]), np.array([0.5, 0.2]),
              np.array([3.5, 1.0])],
    masked: [np.array([1.0, -1.0, 2.0]), np.array([1.0, 1.0, 2.0]),
             np.array([-1.0, 3.0, -2.0]), np.array([2.0, -1.0, 1.0])],
    argmax_index: [np.array([1.0, 5.0, 2.0]), np.array([7.0, 5.0, 2.0]),
                   np.array([1.0, 5.0, 0.0])],
    nonzero_count: [np.array([1.0, 0.0, 2.0]), np.array([1.0, 1.0, 2.0]),
                    np.array([0.0, 0.0, 0.7])],
    python_number: [np.array([1.0, 2.0]), np.array([1.0, 3.0]), np.array([1.0, 2.0])],
}


@pytest.mark.parametrize("function", list(GUARDED), ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", ["grad", "jacfwd", "value_and_grad"])
def test_decisions_on_values_are_guarded(function, name):
    transformed = TRANSFORMS[name](function)
    compiled = dualad.compile(transformed)
    points = GUARDED[function]
    for x in points + points[::-1]:
        same(compiled(x), transformed(x))
    assert 1 < compiled.recordings <= len(points)


def test_the_plain_function_is_guarded_too():
    compiled = dualad.compile(masked)
    for x in GUARDED[masked]:
        same(compiled(x), masked(x))


def test_a_program_per_decision_is_kept():
    compiled = dualad.compile(dualad.grad(branchy))
    for x in GUARDED[branchy] * 3:
        compiled(x)
    assert compiled.recordings == 2


def test_strict_raises_naming_the_line():
    compiled = dualad.compile(dualad.grad(branchy), strict=True)
    compiled(np.array([1.0, 2.0]))
    with pytest.raises(dualad.GuardError, match=r"test_compile.py:\d+ in branchy"):
        compiled(np.array([-1.0, -2.0]))
    with pytest.raises(dualad.GuardError, match="shape of a result"):
        strict_mask = dualad.compile(masked, strict=True)
        strict_mask(np.array([1.0, -1.0]))
        strict_mask(np.array([1.0, 1.0]))


W = np.array([1.0, 2.0, 3.0])


def weighted(x):
    return np.sum(W * np.sin(x))


def test_arrays_read_from_outside_are_checked():
    global W
    compiled = dualad.compile(dualad.grad(weighted))
    x = np.array([0.1, 0.2, 0.3])
    same(compiled(x), dualad.grad(weighted)(x))
    W[0] = 10.0  # written into: the replay sees it (it records again)
    same(compiled(x), dualad.grad(weighted)(x))
    saved = W
    try:
        W = np.array([5.0, 5.0, 5.0])  # rebound
        same(compiled(x), dualad.grad(weighted)(x))
    finally:
        W = saved
        W[0] = 1.0
    assert compiled.recordings == 3


def test_enclosing_variables_are_checked():
    def make():
        scale = np.array([1.0, 2.0])

        def f(x):
            return np.sum(scale * x ** 2)

        def rebind(value):
            nonlocal scale
            scale = value

        return f, rebind

    f, rebind = make()
    compiled = dualad.compile(dualad.grad(f))
    x = np.array([1.0, 1.0])
    same(compiled(x), np.array([2.0, 4.0]))
    rebind(np.array([3.0, 3.0]))
    same(compiled(x), np.array([6.0, 6.0]))


# ---------------------------------------------------------------- what cannot be compiled


def test_asarray_of_a_traced_value_raises():
    def f(x):
        return np.sum(np.asarray(x) ** 2)

    with pytest.raises(dualad.CompileError, match=r"np.asarray.*test_compile.py"):
        dualad.compile(f)(X0)


def test_object_array_of_traced_numbers_raises_with_the_fix():
    def f(x):
        return np.array([x[0] * 2, x[1]]) * x[:2]

    with pytest.raises(dualad.CompileError, match=r"np.stack"):
        dualad.compile(f)(X0)


def test_writing_into_a_plain_array_raises():
    def f(x):
        out = np.zeros(3)
        np.multiply(x[:3], 2.0, out=out)
        return out

    with pytest.raises(dualad.CompileError, match=r"zeros_like"):
        dualad.compile(f)(X0)


def test_writing_into_a_constant_after_use_raises():
    def f(x):
        buffer = np.ones(6)
        y = x * buffer
        buffer[0] = 7.0
        return np.sum(y)

    with pytest.raises(dualad.CompileError, match="wrote into a plain array"):
        dualad.compile(f)(X0)


def test_a_traced_value_kept_after_the_call_raises():
    kept = []

    def f(x):
        kept.append(x * 2)
        return np.sum(x)

    dualad.compile(f)(X0)
    with pytest.raises(dualad.CompileError, match="finished"):
        np.sin(kept[0])


def test_grad_of_a_compiled_function_differentiates_the_function():
    compiled = dualad.compile(chain)
    same(dualad.grad(compiled)(X0), dualad.grad(chain)(X0))
    same(compiled(X0), chain(X0))


def test_in_place_buffers_of_traced_values_replay():
    def f(x):
        out = np.zeros_like(x)
        out[1:] = x[1:] - x[:-1]
        out[0] = x[0]
        out *= 2.0
        return out

    compiled = dualad.compile(f)
    for x in (X0, X1):
        same(compiled(x), f(x))
    transformed = dualad.jacrev(f)
    compiled = dualad.compile(transformed)
    for x in (X0, X1):
        same(compiled(x), transformed(x))


def test_results_are_the_callers():
    compiled = dualad.compile(dualad.grad(chain))
    first = compiled(X0)
    first[:] = 0.0
    same(compiled(X0), dualad.grad(chain)(X0))
    identity = dualad.compile(lambda x: x[1:])
    x = X0.copy()
    assert np.shares_memory(identity(x), x)  # as the eager call: a view
    assert np.shares_memory(identity(x), x)


# --------------------------------------------------------------------------- source


def test_source_runs_on_its_own(tmp_path):
    compiled = dualad.compile(dualad.grad(rosenbrock))
    compiled(X0)
    source = compiled.source
    assert "def compiled(x):" in source and "valley = tail - " in source
    namespace = {}
    exec(source, namespace)  # noqa: S102
    same(namespace["compiled"](X1), dualad.grad(rosenbrock)(X1))
    script = tmp_path / "gradient.py"
    script.write_text(source + "\nimport numpy as np\nprint(compiled(np.linspace(0.3, -0.7, "
                      "6)).tolist())\n")
    result = subprocess.run([sys.executable, "-I", str(script)], capture_output=True,
                            text=True, check=True)
    assert eval(result.stdout) == dualad.grad(rosenbrock)(X1).tolist()  # noqa: S307


def test_source_has_its_guards():
    compiled = dualad.compile(dualad.grad(branchy))
    compiled(np.array([1.0, 2.0]))
    namespace = {}
    exec(compiled.source, namespace)  # noqa: S102
    same(namespace["compiled"](np.array([3.0, 1.0])), np.array([6.0, 2.0]))
    assert isinstance(namespace["compiled"](np.array([-3.0, 1.0])),
                      namespace["GuardFailure"])


def test_source_before_a_call_raises():
    with pytest.raises(dualad.CompileError, match="call it once"):
        _ = dualad.compile(chain).source


def test_large_arrays_reuse_buffers():
    compiled = dualad.compile(lambda x, v: dualad.jvp(chain, (x,), (v,)))
    x = np.linspace(-1, 1, 2 ** 12)
    same(compiled(x, np.cos(x)), dualad.jvp(chain, (x,), (np.cos(x),)))
    source = compiled.source
    assert "out=" in source
    same(compiled(x + 1, np.cos(x)), dualad.jvp(chain, (x + 1,), (np.cos(x),)))


SCALE = 2.0


def scaled(x):
    return np.sum(np.sin(x)) * SCALE


def test_numbers_read_from_outside_are_checked():
    global SCALE
    compiled = dualad.compile(dualad.grad(scaled))
    same(compiled(X0), dualad.grad(scaled)(X0))
    try:
        SCALE = 3.0
        same(compiled(X0), dualad.grad(scaled)(X0))
    finally:
        SCALE = 2.0
    assert compiled.recordings == 2


RNG = np.random.default_rng(0)


def test_random_draws_raise():
    def noisy(x):
        return np.sum(x * np.random.normal(size=x.shape))

    def noisy_generator(x):
        return np.sum(x * RNG.normal(size=x.shape))

    for f in (noisy, noisy_generator):
        with pytest.raises(dualad.CompileError, match="random numbers"):
            dualad.compile(dualad.grad(f))(X0)


@pytest.fixture
def global_random_state():
    """NumPy's global random state, restored after the test."""
    saved = np.random.get_state()
    yield
    np.random.set_state(saved)


def test_a_draw_served_by_the_gaussian_cache_raises(global_random_state):
    # the legacy generator draws Gaussians in pairs and caches the second: drawing it does
    # not move the Mersenne Twister, only the cache
    np.random.seed(0)
    np.random.standard_normal()
    assert np.random.get_state(legacy=False)["has_gauss"] == 1

    def noisy(x):
        return x * np.random.standard_normal()

    with pytest.raises(dualad.CompileError, match="random numbers"):
        dualad.compile(noisy)(X0)


def test_the_global_state_reader_sees_what_get_state_sees(global_random_state):
    from dualad.compiling.randomness import GLOBAL, GlobalState

    np.random.seed(1)
    seen = []
    for draw in (lambda: None, np.random.standard_normal, np.random.standard_normal,
                 lambda: np.random.random(700), lambda: np.random.seed(1)):
        draw()
        state = np.random.get_state(legacy=False)
        seen.append((GLOBAL.read(), state))
        if GLOBAL._state is not None:  # the fast path: the same bytes as get_state's
            inner = state["state"]
            assert GLOBAL.read()[:2500] == inner["key"].astype(np.uint32).tobytes() + \
                np.int32(inner["pos"]).tobytes()
    for (a, state_a), (b, state_b) in itertools.combinations(seen, 2):
        same_state = all(np.array_equal(state_a["state"][k], state_b["state"][k])
                         for k in ("key", "pos")) and state_a["has_gauss"] == \
            state_b["has_gauss"] and (not state_a["has_gauss"]
                                      or state_a["gauss"] == state_b["gauss"])
        assert (a == b) == same_state
    # another bit generator behind np.random: read through get_state
    other = GlobalState()
    legacy = np.random.mtrand._rand
    try:
        np.random.mtrand._rand = np.random.RandomState(np.random.PCG64(3))
        before = other.read()
        assert other.read() == before
        np.random.mtrand._rand.standard_normal()
        assert other.read() != before
    finally:
        np.random.mtrand._rand = legacy
    # np.random.set_bit_generator swaps the generator inside the same RandomState
    mersenne = np.random.get_bit_generator()
    try:
        np.random.set_bit_generator(np.random.PCG64(4))
        before = GLOBAL.read()
        np.random.standard_normal()
        assert GLOBAL.read() != before
    finally:
        np.random.set_bit_generator(mersenne)
    before = GLOBAL.read()
    np.random.random()
    assert GLOBAL.read() != before


# --------------------------------------------------------------------------- jacfwd at large n
# jacfwd of an input this large splits the directions into chunks whose seeds the program
# makes at each call (np.eye), instead of keeping them and what the rules derive from them.

N_LARGE = 400
X_LARGE = np.linspace(-1.2, 1.3, N_LARGE)


def _rosenbrock_gradient(x):
    """Rosenbrock's gradient in closed form."""
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def mlp(p, X):
    """A one-hidden-layer network's squared output, R^n -> R: its tangents pass through
    views (reshapes, transposes) of large temporaries."""
    m = p.shape[0] // (X.shape[1] + 1)
    w, U = p[:m], p[m:].reshape(m, X.shape[1])
    return np.mean(((1.0 / (1.0 + np.exp(-(X @ U.T)))) @ w) ** 2)


def _mlp_gradient(p, X):
    """The same network's gradient in closed form."""
    m = p.shape[0] // (X.shape[1] + 1)
    w, U = p[:m], p[m:].reshape(m, X.shape[1])
    s = 1.0 / (1.0 + np.exp(-(X @ U.T)))
    out = s @ w
    ct = 2.0 * out / X.shape[0]
    dU = ((ct[:, None] * s * (1.0 - s)) * w).T @ X
    return np.concatenate([s.T @ ct, dU.ravel()])


MLP_X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
P_LARGE = np.linspace(-0.5, 0.6, 4 * 100)


@pytest.mark.parametrize("chunk_size", [None, 48])
def test_jacfwd_of_a_large_input_replays_eager_bits(chunk_size):
    cases = [(rosenbrock, (X_LARGE,), (X_LARGE[::-1] * 0.9,), _rosenbrock_gradient),
             (lambda p: mlp(p, MLP_X), (P_LARGE,), (P_LARGE + 0.1,),
              lambda p: _mlp_gradient(p, MLP_X))]
    for f, first, second, gradient in cases:
        jacobian = dualad.jacfwd(f, chunk_size=chunk_size)
        compiled = dualad.compile(jacobian)
        for args in (first, second):
            got = compiled(*args)
            same(got, jacobian(*args))
            np.testing.assert_allclose(got, gradient(*args), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(dualad.compile(dualad.jacrev(f))(*args), got,
                                       rtol=1e-12, atol=1e-12)
        assert compiled.recordings == 1
        assert "base64" not in compiled.source  # no seed kept as a constant


def test_jacfwd_of_several_large_inputs_replays_eager_bits():
    k = np.arange(300)

    def f(x, z):
        return np.sin(x) * np.cos(k) + np.sum(z ** 2) * x

    jacobian = dualad.jacfwd(f, argnums=(0, 1), chunk_size=70)  # chunks across both
    compiled = dualad.compile(jacobian)
    x, z = X_LARGE[:300], np.linspace(1.0, 2.0, 200)
    for scale in (1.0, -0.5):
        got = compiled(x * scale, z * scale)
        same(got, jacobian(x * scale, z * scale))
        dx, dz = got
        np.testing.assert_allclose(dx, np.diag(np.cos(x * scale) * np.cos(k))
                                   + np.sum((z * scale) ** 2) * np.eye(300), rtol=1e-13)
        np.testing.assert_allclose(dz, np.outer(x * scale, 2.0 * z * scale), rtol=1e-13)
        rev = dualad.jacrev(f, argnums=(0, 1))(x * scale, z * scale)
        np.testing.assert_allclose(dx, rev[0], rtol=1e-13)
        np.testing.assert_allclose(dz, rev[1], rtol=1e-13)
    assert compiled.recordings == 1


def _peak_bytes(fn, *args):
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("chunk_size", [None, 32])
def test_jacfwd_replay_takes_no_more_memory_than_eager(chunk_size):
    # every temporary of a chunk dies before the next chunk, as in the eager call: a
    # buffer written into by out= under several names, a view of a large temporary and a
    # pooled buffer no later result takes are deleted too
    X = np.linspace(-1.0, 1.0, 64).reshape(16, 4)
    cases = [(rosenbrock, np.linspace(-1.0, 1.0, 600)),
             (lambda p: mlp(p, X), np.linspace(-0.5, 0.5, 5 * 120))]
    for f, x in cases:
        jacobian = dualad.jacfwd(f, chunk_size=chunk_size)
        compiled = dualad.compile(jacobian)
        compiled(x)
        same(compiled(x), jacobian(x))
        assert _peak_bytes(compiled, x) <= 1.25 * _peak_bytes(jacobian, x)


def test_elementwise_chains_of_large_arrays_run_block_by_block():
    # past blocks.SETTINGS.min_bytes, the chain's temporaries live one block at a time: the
    # same bits, less memory than the eager call's whole-array temporaries
    from dualad.compiling import blocks

    def chain(x):
        return np.tanh(np.exp(-x * x) * np.sin(x)) + x**2

    n = blocks.SETTINGS.min_bytes // 8 + 1000  # not a whole number of blocks
    x = np.linspace(-2.0, 2.0, n)
    v = np.cos(x)
    jvp = lambda x, v: dualad.jvp(chain, (x,), (v,))  # noqa: E731
    compiled = dualad.compile(jvp)
    compiled(x[::-1].copy(), v)
    same(compiled(x, v), jvp(x, v))
    length = blocks.SETTINGS.block_bytes // 8
    assert f"in range(0, {n}, {length}):" in compiled.source
    assert _peak_bytes(compiled, x, v) < 0.75 * _peak_bytes(jvp, x, v)
    small = dualad.compile(jvp)
    small(x[:1000], v[:1000])
    assert "for " not in small.source
