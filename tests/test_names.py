"""Names cannot collide: what the generated module names for itself (NumPy's import, its
helpers, the float-type local, temporaries, deltas, gradients) moves aside for every name
of the user's (targets, parameters, dimensions, locals, Python's builtins), and a clash
between public names (a target ``f_grad`` beside ``f``) is refused with its file:line.

Each compiled model is imported and its gradient checked against central differences and
autograd running the same source; random models draw every name from a pool that holds
gradgen's own names, builtins and soft keywords.
"""

from __future__ import annotations

import textwrap

import autograd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck import central_difference, import_source
from gradgen import GradgenError
from gradgen.pipeline import compile_file

INTERNAL = [  # names gradgen gives things in a generated module
    "np",
    "numpy",
    "dtype",
    "check_inputs",
    "sigmoid",
    "sigmoid_stable",
    "logsumexp",
    "log_softmax",
    "log_softmax_grad",
    "log1p_excess",
    "reciprocal_or_zero",
    "t1",
    "t2",
    "delta_h",
    "exp_neg_abs_z",
    "z_h",
    "lse",
    "cotangent",
    "tangents",
    "v",
    "i",
]
BUILTINS = [
    "max",
    "min",
    "abs",
    "float",
    "sum",
    "len",
    "range",
    "type",
    "print",
    "object",
]
SOFT = ["match", "case", "_", "__builtins__"]
POOL = INTERNAL + BUILTINS + SOFT + ["x", "W", "n", "k", "loss"]


def _model(tmp_path, text: str, name="model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _check(path, target: str, args: list, modes=None):
    """Compile, import, and compare value and gradient with NumPy, central differences and
    autograd running the model's own source."""
    source = compile_file(str(path), modes=modes)
    module = import_source(source, f"names_{abs(hash(source))}")
    text = path.read_text()
    namespace: dict = {}
    exec(compile(text, str(path), "exec"), namespace)
    value, grads = getattr(module, f"{target}_value_and_grad")(*args)
    np.testing.assert_allclose(value, namespace[target](*args), rtol=1e-12)
    grads = grads if isinstance(grads, tuple) else (grads,)
    reference: dict = {}
    exec(
        compile(
            text.replace("import numpy as", "import autograd.numpy as"), "ref", "exec"
        ),
        reference,
    )
    expected = autograd.grad(reference[target], tuple(range(len(args))))(*args)
    for k, grad in enumerate(grads):
        np.testing.assert_allclose(grad, expected[k], rtol=1e-9, atol=1e-12)
        numeric = central_difference(module.__dict__[target], args, k)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
    return module, source


# A model that makes gradgen use every helper: a sigmoid of its own, a logsumexp, a norm,
# a max (an equality mask), a log_softmax; ``{p}`` names its parameters, ``{d}`` its
# dimensions, ``{l}`` its locals, ``{np}`` its NumPy.
BODY = """
import numpy as {np}
from gradgen import Array


def {target}({p0}: Array["{d0}", "{d1}"], {p1}: Array["{d1}"], {p2}: float) -> float:
    {l0} = 1 / (1 + {np}.exp(-({p0} @ {p1})))
    {l1} = {np}.log({np}.sum({np}.exp({p0}), axis=1))
    {l2} = {p0} - {np}.log({np}.sum({np}.exp({p0}), axis=1, keepdims=True))
    {l3} = {np}.sqrt({np}.sum({p1} ** 2)) + {np}.max({p0})
    return {np}.sum({l0} * {l1}) * {p2} + {np}.sum({l2} ** 2) / {l3}
"""


def _fill(**names) -> str:
    defaults = dict(
        np="np",
        target="f",
        p0="A",
        p1="b",
        p2="c",
        d0="n",
        d1="m",
        l0="s",
        l1="r",
        l2="q",
        l3="u",
    )
    return BODY.format(**(defaults | names))


def _args(rng=None):
    rng = rng or np.random.default_rng(0)
    return [rng.normal(size=(3, 4)), rng.normal(size=4), 0.7]


@pytest.mark.parametrize(
    "kind, names",
    [
        ("parameters", dict(p0="np", p1="sigmoid", p2="dtype", np="numpy")),
        ("parameters", dict(p0="max", p1="check_inputs", p2="log1p_excess")),
        ("parameters", dict(p0="logsumexp", p1="log_softmax_grad", p2="float")),
        ("dimensions", dict(d0="np", d1="dtype")),
        ("dimensions", dict(d0="sigmoid", d1="max")),
        ("dimensions", dict(d0="check_inputs", d1="log_softmax")),
        ("target", dict(target="sigmoid")),
        ("target", dict(target="max")),
        ("target", dict(target="check_inputs")),
        (
            "locals",
            dict(l0="np", l1="dtype", l2="sigmoid", l3="check_inputs", np="numpy"),
        ),
        ("locals", dict(l0="t1", l1="delta_s", l2="dA", l3="exp_neg_abs_t1")),
        ("locals", dict(l0="max", l1="float", l2="lse", l3="f_value_and_grad")),
    ],
)
def test_internal_names_move_aside_for_the_users(tmp_path, kind, names):
    path = _model(tmp_path, _fill(**names))
    target = names.get("target", "f")
    module, source = _check(path, target, _args(), modes="hvp")
    hvp = getattr(module, f"{target}_hvp")(*_args(), tuple(_args()))
    assert len(hvp) == 3 and all(np.all(np.isfinite(h)) for h in hvp)
    compile(source, "generated", "exec")  # and it parses


CLASHES = [
    (
        "def f_grad(x: Array['n']) -> float:\n    return np.sum(x ** 3)\n",
        None,
        "the compile target f_grad has the name gradgen gives a function of f",
    ),
    (
        "def f_value_and_grad(x: Array['n']) -> float:\n    return np.sum(x)\n",
        None,
        "f_value_and_grad has the name gradgen gives a function of f",
    ),
    (
        "def f_hvp(x: Array['n']) -> float:\n    return np.sum(x)\n",
        "hvp",
        "f_hvp has the name gradgen gives a function of f",
    ),
    (
        "def f_value_and(x: Array['n']) -> float:\n    return np.sum(x)\n",
        None,
        "the generated function f_value_and_grad of f_value_and has the name of",
    ),
    (
        "def g(f_value_and_grad: Array['n']) -> float:\n    return np.sum(f_value_and_grad)\n",
        None,
        None,
    ),  # a parameter of another target: no clash
]


@pytest.mark.parametrize("extra, modes, message", CLASHES)
def test_public_names_that_clash_are_refused(tmp_path, extra, modes, message):
    text = (
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        "def f(x: Array['n']) -> float:\n    return np.sum(x ** 2)\n\n\n" + extra
    )
    path = _model(tmp_path, text)
    if message is None:
        compile_file(str(path), modes=modes)
        return
    with pytest.raises(GradgenError) as error:
        compile_file(str(path), modes=modes)
    text = str(error.value)
    assert message in text and text.startswith(f"{path}:") and "\n" not in text


def test_a_parameter_that_hides_a_function_the_code_calls_is_refused(tmp_path):
    path = _model(
        tmp_path,
        """
        import numpy as np
        from gradgen import Array


        def f(f_value_and_grad: Array["n"]) -> float:
            return np.sum(f_value_and_grad ** 2)
        """,
    )
    with pytest.raises(
        GradgenError, match="parameter 'f_value_and_grad' of f has the name"
    ):
        compile_file(str(path))


NAMES = st.sampled_from(POOL)


@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(NAMES, min_size=10, max_size=10, unique=True),
    st.sampled_from(["np", "numpy", "xp"]),
)
def test_random_names_compile_to_the_right_gradient(tmp_path_factory, names, np_name):
    target, p0, p1, p2, d0, d1, l0, l1, l2, l3 = names
    if np_name in names or "_" in (target,):
        np_name = "numpy_" if np_name != "numpy_" else "np_"
    fields = dict(
        np=np_name,
        target=target,
        p0=p0,
        p1=p1,
        p2=p2,
        d0=d0,
        d1=d1,
        l0=l0,
        l1=l1,
        l2=l2,
        l3=l3,
    )
    path = _model(tmp_path_factory.mktemp("names"), _fill(**fields))
    called = {f"{target}_value_and_grad"}
    hides = {"len", "type", "float"}  # builtins the generated module reads
    if {p0, p1, p2, d0, d1} & called or target.startswith("_") or target in hides:
        with pytest.raises(GradgenError):
            compile_file(str(path))
        return
    _check(path, target, _args())


@pytest.mark.parametrize("name", ["type", "len", "zip", "tuple", "isinstance"])
def test_a_target_that_would_hide_a_builtin_the_module_uses_is_refused(tmp_path, name):
    """The argument check calls ``type``, ``len``, ``zip``; the type hints name ``tuple``:
    a module-level function of that name would break every function of the module."""
    path = _model(
        tmp_path,
        f"""
        import numpy as np
        from gradgen import Array


        def {name}(x: Array["n"], y: Array["n"]) -> float:
            return np.sum(np.log(1 + np.exp(x * y)) + x ** 2)
        """,
    )
    with pytest.raises(GradgenError) as error:
        compile_file(str(path))
    text = str(error.value)
    assert text.startswith(f"{path}:6: error: the compile target {name} has the name")
    assert f"Python's built-in {name}" in text and text.endswith(
        "(rename the function)"
    )


@pytest.mark.parametrize("name", ["print", "range", "sorted"])
def test_a_target_named_like_a_builtin_the_module_does_not_use_compiles(tmp_path, name):
    """Its value, a local named after it, hides nothing the module reads."""
    path = _model(
        tmp_path,
        f"""
        import numpy as np
        from gradgen import Array


        def {name}(x: Array["n"], y: Array["n"]) -> float:
            return np.sum(np.log(1 + np.exp(x * y)) + x ** 2)
        """,
    )
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    module, _ = _check(path, name, [x, y])
    dx, _ = getattr(module, f"{name}_grad")(np.array([1, 2]), np.array([3, 4]))
    assert dx.dtype == np.float64


def test_targets_named_like_the_sigmoid_helper_and_its_fallback(tmp_path):
    """Targets ``sigmoid`` and ``sigmoid_stable`` (the helper's name, and the one it takes
    beside a sigmoid of the user's) beside a softplus whose gradient needs the helper: each
    keeps its own meaning."""
    text = """
        import numpy as np
        from gradgen import Array


        def sigmoid(x: Array["n"]) -> float:
            return np.sum(1 / (1 + np.exp(-x)))


        def sigmoid_stable(x: Array["n"]) -> float:
            return np.sum(x ** 3)


        def softplus(x: Array["n"]) -> float:
            return np.sum(np.log(1 + np.exp(x)))
        """
    path = _model(tmp_path, text)
    x = np.array([0.5, -1.0, 2.0])
    for target in ["sigmoid", "sigmoid_stable", "softplus"]:
        module, _ = _check(path, target, [x])
    np.testing.assert_allclose(module.sigmoid_stable_grad(x), 3 * x**2, rtol=1e-15)


def test_a_target_named_float_is_refused_as_hiding_pythons_float(tmp_path):
    path = _model(
        tmp_path,
        """
        import numpy as np
        from gradgen import Array


        def float(x: Array["n"]) -> float:
            return np.sum(x ** 2)
        """,
    )
    with pytest.raises(GradgenError) as error:
        compile_file(str(path))
    assert str(error.value) == (
        f"{path}:6: error: the return value is annotated float, which in this model is "
        "its own function float, not Python's (rename the model's float)"
    )
