"""Bad input: one line `file:line: error: ...` with a hint, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from gradgen import dispatch
from gradgen.cli.commands import main

HEADER = "import numpy as np\nfrom gradgen import Array\n\n\n"
# (name, model body after HEADER, line of the error within the file, words in the message)
CASES = [
    ("syntax", "def f(x: float) -> float\n    return x\n", 5, "invalid Python"),
    ("no_target", "def f(x):\n    return x\n", None, "no compile target"),
    (
        "no_parameters",
        "def f():\n    return 1.0\n",
        None,
        "has parameters, all annotated",
    ),
    (
        "unsupported_call",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.median(x))\n",
        6,
        "np.median is not supported",
    ),
    (
        "unsupported_ufunc",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.cbrt(x))\n",
        6,
        "np.cbrt is not supported (write np.sign(x) * np.abs(x) ** (1 / 3))",
    ),
    (
        "astype_int",
        "def f(x: Array['n']) -> float:\n    return np.sum(x.astype(int))\n",
        6,
        ".astype(int64) of floats (floats made integers have no derivative",
    ),
    (
        "two_comparisons",
        "def f(x: Array['n']) -> float:\n    return np.sum(((x > 0) - (x < 1)) * x)\n",
        6,
        "arithmetic on two comparisons (other than + and *, their or and and)",
    ),
    (
        "ufunc_method",
        "def f(x: Array['n']) -> float:\n    return np.add.reduce(x)\n",
        6,
        "np.add.reduce is not supported (write np.sum(x, axis=...))",
    ),
    (
        "nan_reduction",
        "def f(x: Array['n']) -> float:\n    return np.nanmax(x)\n",
        6,
        "np.nanmax is not supported (a traced value is never nan: write np.max instead)",
    ),
    (
        "if_on_number",
        "def f(x: float) -> float:\n    if x:\n        return x\n    return -x\n",
        6,
        "an if tests a traced number, not a comparison",
    ),
    (
        "while_on_traced",
        "def f(x: float) -> float:\n    while x < 10:\n        x = x * 2\n"
        "    return x\n",
        6,
        "a while loop whose condition depends on traced data",
    ),
    (
        "branch_shapes",
        "def f(x: Array['n']) -> float:\n    if np.sum(x) > 0:\n        y = x\n"
        "    else:\n        y = np.sum(x)\n    return np.sum(y)\n",
        6,
        "give shapes (n,) and ()",
    ),
    (
        "one_branch_only",
        "def f(x: float) -> float:\n    if x > 0:\n        y = x\n    return y\n",
        8,
        "'y' is assigned in only one branch",
    ),
    (
        "return_in_loop",
        "def f(x: float) -> float:\n    for k in range(3):\n        if x > k:\n"
        "            return x\n    return -x\n",
        7,
        "a return, break or continue inside an if on traced data",
    ),
    (
        "symbolic_size_condition",
        "def f(x: Array['n']) -> float:\n    if x.shape[0] > 2:\n"
        "        return np.sum(x[:2])\n    return np.sum(x)\n",
        6,
        "depends on a dimension whose size is a name",
    ),
    (
        "matmul_dims",
        "def f(A: Array['n', 'd'], B: Array['k', 'm']) -> float:\n"
        "    return np.sum(A @ B)\n",
        6,
        "inner dimensions d and k differ",
    ),
    (
        "broadcast_dims",
        "def f(a: Array['n'], b: Array['m']) -> float:\n"
        "    c = a + b\n    return np.sum(c)\n",
        6,
        "do not broadcast",
    ),
    (
        "bad_annotation",
        "def f(x: Array['n'], k: str) -> float:\n    return np.sum(x) * k\n",
        5,
        "annotated str",
    ),
    (
        "bare_array",
        "def f(x: Array) -> float:\n    return np.sum(x)\n",
        5,
        "without dimensions",
    ),
    (
        "dim_named_like_param",
        "def f(x: Array['x']) -> float:\n    return np.sum(x)\n",
        5,
        "also a parameter name",
    ),
    (
        "tuple_return",
        "def f(x: float) -> float:\n    return x, 2 * x\n",
        6,
        "returns 2 values",
    ),
    (
        "constant_return",
        "def f(x: float) -> float:\n    return 3.0\n",
        6,
        "does not depend on its parameters",
    ),
    (
        "float_conversion",
        "import math\n\ndef f(x: float) -> float:\n    return math.exp(x)\n",
        8,
        "converted to a Python number",
    ),
    (
        "array_constant",
        "def f(x: Array[2]) -> float:\n    return np.sum(x * np.array(['a', 'b']))\n",
        6,
        "this array cannot be a constant of the model (pass it to the function",
    ),
    (
        "partial_value",
        "def f(x: Array[2]) -> float:\n    a = 1.0 / (x > 0).astype(float)\n"
        "    return np.sum(a - a)\n",
        7,
        "this value is infinite or undefined for some inputs: a division by zero",
    ),
    (
        "partial_output",
        "def f(x: Array[2]) -> float:\n    return np.sum(x / (x > 0).astype(float))\n",
        6,
        "this value is infinite or undefined for some inputs: a division by zero",
    ),
    (
        "partial_in_a_loop",
        "def f(X: Array['T', 2]) -> float:\n    h = np.zeros(2)\n"
        "    for t in range(X.shape[0]):\n"
        "        h = np.where(X[t] < 0, 1.0 / (X[t] > 0).astype(float), h)\n"
        "    return np.sum(np.tanh(h))\n",
        8,
        "this value is infinite or undefined for some inputs: a division by zero",
    ),
    (
        "difference_of_masks",
        "def f(x: Array[2]) -> float:\n"
        "    return np.sum(((x > 0) - np.array([True, False])) * x)\n",
        6,
        "arithmetic on two comparisons (other than + and *, their or and and)",
    ),
    (
        "eye_offset",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.eye(x.shape[0], k=1) @ x)\n",
        6,
        "np.eye with k other than 0",
    ),
    (
        "integer_dtype_of_a_fraction",
        "def f(x: Array['n']) -> float:\n"
        "    return np.sum(x * np.full_like(x, 2.7, dtype=int))\n",
        6,
        "an integer dtype (int64) for a value that is not whole",
    ),
    (
        "where_of_a_list",
        "def f(x: Array[2]) -> float:\n"
        "    return np.sum(np.where([x[0] > 0, x[1] > 0], x, -x))\n",
        6,
        "np.where of a list of conditions",
    ),
    (
        "select_of_numbers",
        "def f(x: Array[2]) -> float:\n    return np.sum(np.select([x], [x]))\n",
        6,
        "np.select needs comparisons or boolean masks as its conditions",
    ),
    (
        "where_condition",
        "def f(x: Array[2]) -> float:\n    return np.sum(np.where('yes', x, 0.0))\n",
        6,
        "np.where needs a comparison or a mask as its condition, not a str",
    ),
    (
        "select_condition",
        "def f(x: Array[2]) -> float:\n    return np.sum(np.select([None], [x]))\n",
        6,
        "np.select needs a comparison or a mask as its condition, not a NoneType",
    ),
    (
        "logic_on_numbers",
        "def f(x: Array[2]) -> float:\n    return np.sum(np.where((x > 0) & x, x, 0.0))\n",
        6,
        "&, |, ^ and ~ combine comparisons and boolean masks only",
    ),
    (
        "index_range",
        "def f(x: Array[3]) -> float:\n    return x[3]\n",
        6,
        "index 3 is out of range for an axis of size 3",
    ),
    (
        "write_into_view",
        "def f(x: Array['n']) -> float:\n    y = x[1:]\n    y[0] = 2.0\n"
        "    return np.sum(x)\n",
        7,
        "writing into a view",
    ),
    (
        "user_code_fails",
        "def f(x: float) -> float:\n    y = undefined_name + x\n    return y\n",
        6,
        "NameError",
    ),
    (
        "import_fails",
        "import not_a_module\n\ndef f(x: float) -> float:\n    return x\n",
        5,
        "ModuleNotFoundError",
    ),
    (
        "return_shape",
        "def f(x: Array['n']) -> float:\n    return np.exp(x)\n",
        6,
        "returns shape (n,) but is annotated float",
    ),
    (
        "float_of_a_named_size",
        "def f(x: Array['n']) -> float:\n    return np.sum(x) / float(x.shape[0])\n",
        6,
        "a dimension size that is a name (x.shape[i]) is converted to a Python number",
    ),
    (
        "max_of_a_named_size",
        "def f(x: Array['n']) -> float:\n    return np.sum(x) * max(x.shape[0], 2)\n",
        6,
        "a comparison of a dimension size that is a name",
    ),
    (
        "int_of_a_named_size",
        "def f(x: Array['T']) -> float:\n    return np.sum(x[: int(x.shape[0])])\n",
        6,
        "a dimension size that is a name (x.shape[i]) is made a Python integer",
    ),
    (
        "range_of_a_size_in_a_comprehension",
        "def f(x: Array['T']) -> float:\n    return sum(x[t] for t in range(x.shape[0]))\n",
        6,
        "is made a Python integer (int(n), or range() outside a for loop's header) "
        "(loop over it in a for statement",
    ),
    (
        "bad_axis",
        "def f(x: Array['n', 'd']) -> float:\n    return np.sum(np.sum(x, axis=2))\n",
        6,
        "axis 2 is out of range",
    ),
    (
        "bad_keyword",
        "def f(x: Array['n']) -> float:\n    return np.sum(x, dtype=float)\n",
        6,
        "np.sum",
    ),
    (
        "einsum_operand_lists",
        "def f(x: Array['n', 'd']) -> float:\n    return np.einsum(x, [0, 99], [])\n",
        6,
        'np.einsum: einsum subscripts [0, 99] (write the subscripts as "ij,jk->ik")',
    ),
    (
        "einsum_sizes_differ",
        "def f(x: Array['n', 'd']) -> float:\n"
        "    return np.sum(np.einsum('ij,jk->ik', x, x))\n",
        6,
        "np.einsum: label 'j' is d in one operand and n in another",
    ),
    (
        "transpose_not_a_permutation",
        "def f(x: Array['n', 'd']) -> float:\n"
        "    return np.sum(np.transpose(x, (0, 0)))\n",
        6,
        "np.transpose: axes (0, 0) are not a permutation",
    ),
    (
        "pad_mode",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.pad(x, 1, 'edge'))\n",
        6,
        "np.pad with mode='edge' (join slices with np.concatenate)",
    ),
    (
        "split_a_named_size",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.split(x, 2)[0])\n",
        6,
        "np.split into 2 parts of an axis of size n (split at constant points",
    ),
    (
        "inv_of_a_stack",
        "def f(x: Array[2, 'n', 'n']) -> float:\n    return np.sum(np.linalg.inv(x))\n",
        6,
        "np.linalg.inv needs a square matrix, got shape (2, n, n) (loop over a stack",
    ),
    (
        "norm_ord_0",
        "def f(x: Array['n']) -> float:\n    return np.linalg.norm(x, 0)\n",
        6,
        "np.linalg.norm of a vector with ord=0 (ord=0 counts nonzeros",
    ),
    (
        "float_index",
        "def f(p: Array['n', 'c'], y: Array['n']) -> float:\n"
        "    return np.sum(p[0, y])\n",
        6,
        "parameter 'y', annotated as floats, is used as an index (indices are "
        "integer data: annotate the parameter Array['n', int]",
    ),
    (
        "integer_return",
        "def f(x: Array['n']) -> Array['n', int]:\n    return x\n",
        5,
        "the return value of f is annotated as integers",
    ),
    (
        "type_first",
        "def f(x: Array[int, 'n']) -> float:\n    return np.sum(x)\n",
        5,
        "the type int comes before a dimension (write the type last",
    ),
    (
        "boolean_mask_read",
        "def f(x: Array['n']) -> float:\n    return np.sum(x[x > 0])\n",
        6,
        "indexing with a boolean mask gives an array whose size depends on the data "
        "(keep the shape: np.where(mask, x, 0) or x * mask in place of x[mask]",
    ),
    (
        "index_array_write",
        "def f(p: Array['n', 'c'], y: Array['n', int]) -> float:\n"
        "    z = p * 1.0\n    z[np.arange(p.shape[0]), y] = p[:, 0]\n"
        "    return np.sum(z)\n",
        7,
        "writing an array or a traced value through integer index arrays (write a "
        "number (z[np.arange(n), y] = 0), or with a mask",
    ),
    (
        "mask_write_array",
        "def f(x: Array['n']) -> float:\n    z = x * 1.0\n    z[x > 0] = x\n"
        "    return np.sum(z)\n",
        7,
        "write z = np.where(mask, v, z)",
    ),
    (
        "float_arange",
        "def f(x: Array['n']) -> float:\n    return np.sum(x * np.arange(0.5, 3))\n",
        6,
        "np.arange(0.5): the bounds of np.arange are integers or sizes",
    ),
    (
        "floats_to_integers",
        "def f(x: Array['n']) -> float:\n    return np.sum(x[x.astype(int)])\n",
        6,
        ".astype(int64) of floats (floats made integers have no derivative",
    ),
    (
        "slice_by_data",
        "def f(x: Array['n'], k: int) -> float:\n    return np.sum(x[:k])\n",
        6,
        "a slice bound that is a traced value (its length would depend on the data) "
        "(slice with constants or sizes",
    ),
    (
        "r_slice",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.r_[0:3, x] ** 2)\n",
        6,
        "a slice (0:3) in np.r_[...] is not supported (write np.concatenate([...]), "
        "with np.arange or np.linspace for the range)",
    ),
    (
        "r_directive",
        "def f(a: Array['n'], b: Array['n']) -> float:\n"
        "    return np.sum(np.r_['0,2', a, b])\n",
        6,
        "the directive '0,2' in np.r_[...] is not supported (write np.concatenate("
        "[...]), with axis= and np.reshape as needed)",
    ),
    (
        "c_slice",
        "def f(x: Array[3]) -> float:\n    return np.sum(np.c_[x, 0:6:2])\n",
        6,
        "a slice (0:6:2) in np.c_[...] is not supported (write np.column_stack([...]),",
    ),
    (
        "c_directive",
        "def f(x: Array['n']) -> float:\n    return np.sum(np.c_['r', x, x])\n",
        6,
        "the directive 'r' in np.c_[...] is not supported (write np.column_stack(",
    ),
    (
        "r_shapes",
        "def f(x: Array['n'], A: Array['n', 2]) -> float:\n"
        "    return np.sum(np.r_[x, A])\n",
        6,
        "np.r_[...]: np.concatenate of shapes (n,) and (n, 2)",
    ),
    (
        "vstack_shapes",
        "def f(x: Array['n', 2], y: Array['m', 3]) -> float:\n"
        "    return np.sum(np.vstack([x, y]))\n",
        6,
        "np.vstack of shapes (n, 2) and (m, 3): only axis 0 may differ",
    ),
    (
        "hstack_shapes",
        "def f(x: Array[2, 'n'], y: Array[3, 'm']) -> float:\n"
        "    return np.sum(np.hstack([x, y]))\n",
        6,
        "np.hstack of shapes (2, n) and (3, m): only axis 1 may differ",
    ),
    (
        "column_stack_shapes",
        "def f(x: Array['n'], y: Array[3, 'm']) -> float:\n"
        "    return np.sum(np.column_stack([x, y]))\n",
        6,
        "np.column_stack of shapes (n, 1) and (3, m): only axis 1 may differ",
    ),
    (
        "sum_of_a_list_shapes",
        "def f(x: Array['n'], y: Array['m']) -> float:\n" "    return np.sum([x, y])\n",
        6,
        "np.sum of a list of shapes (n,) and (m,): all must be equal",
    ),
    (
        "array_of_a_list_shapes",
        "def f(x: Array['n'], y: Array['m']) -> float:\n"
        "    return np.sum(np.array([x, y]) ** 2)\n",
        6,
        "np.array of a list of shapes (n,) and (m,): all must be equal",
    ),
    (
        "index_array_outside",
        "def f(x: Array[3]) -> float:\n    return np.sum(x[[0, 7]])\n",
        6,
        "index 7 is out of range for an axis of size 3 (index inside the axis)",
    ),
    (
        "inner_shapes",
        "def f(x: Array[3], y: Array[4]) -> float:\n    return np.inner(x, y)\n",
        6,
        "error: np.inner of shapes (3,) and (4,): sizes 3 and 4 on axes that must match "
        "(give equal sizes the same dimension name)",
    ),
    (
        "batched_matmul_shapes",
        "def f(T: Array[2, 3, 4], U: Array[3, 4, 2]) -> float:\n"
        "    return np.sum(T @ U)\n",
        6,
        "error: matmul of shapes (2, 3, 4) and (3, 4, 2): sizes 2 and 3 on axes that "
        "must match",
    ),
    (
        "sign_of_a_mask",
        "def f(x: Array['n']) -> float:\n    return np.sum(x * np.sign(x > 0))\n",
        6,
        "np.sign of a comparison or mask (make it a number first with .astype(float))",
    ),
    (
        "in_place_numbers_into_a_mask",
        "def f(x: Array['n']) -> float:\n    m = x > 0\n    m += 1\n"
        "    return np.sum(x * m)\n",
        7,
        "an in-place operation makes numbers of a mask",
    ),
    (
        "floats_written_into_integers",
        "def f(x: Array['n']) -> float:\n    z = np.zeros(x.shape[0], dtype=int)\n"
        "    z[0] = 3 * x[0]\n    return np.sum(x * z)\n",
        7,
        "floats written into an array of integers",
    ),
    (
        "in_place_floats_into_integers",
        "def f(x: Array['n'], y: Array['n', int]) -> float:\n    z = y.copy()\n"
        "    z += 0.5\n    return np.sum(x * z)\n",
        7,
        "an in-place operation makes floats of an array of integers",
    ),
    (
        "integers_to_a_negative_power",
        "def f(x: Array['n'], y: Array['n', int]) -> float:\n"
        "    return np.sum(x * np.power(y, -2))\n",
        6,
        "integers to a negative integer power (NumPy refuses it) (make them floats "
        "first: y.astype(float) ** -1)",
    ),
    (
        "arange_of_booleans",
        "def f(x: Array['n']) -> float:\n"
        "    return np.sum(x * np.arange(x.shape[0], dtype=bool))\n",
        6,
        "np.arange with dtype=bool",
    ),
    (
        "only_integers",
        "def f(y: Array['n', int]) -> float:\n    return np.sum(y * 1.0)\n",
        5,
        "f has no float parameter to differentiate",
    ),
]


def _run(tmp_path, capsys, argv):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.err.strip()


@pytest.mark.parametrize("name,body,line,words", CASES, ids=[c[0] for c in CASES])
def test_bad_model_gets_one_located_line(
    tmp_path, capsys, monkeypatch, name, body, line, words
):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + body)
    status, err = _run(tmp_path, capsys, ["compile", path.name])
    assert status == 2
    assert len(err.splitlines()) == 1, err
    where = f"{name}.py:{line}: error: " if line else f"{name}.py: error: "
    assert err.startswith(where), err
    assert words in err
    assert "Traceback" not in err
    assert not (tmp_path / "generated").exists(), "a failed compile wrote something"


def test_missing_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, err = _run(tmp_path, capsys, ["compile", "nowhere.py"])
    assert status == 2
    assert err == "nowhere.py: error: no such file (check the path of the model file)"


def test_errors_have_no_traceback_from_the_console_script(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(
        HEADER + "def f(x: float) -> float:\n    while x < 1:\n        x = 2 * x\n"
        "    return x\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "gradgen", "compile", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert f"{path}:6: error:" in run.stderr
    assert "np.where" in run.stderr  # the hint says what to write instead


def test_error_inside_a_helper_names_the_helper_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "helper.py").write_text(HEADER + textwrap.dedent("""\
        def act(z):
            return np.median(z)


        def f(x: Array['n']) -> float:
            return np.sum(act(x))
        """))
    status, err = _run(tmp_path, capsys, ["compile", "helper.py"])
    assert status == 2 and err.startswith(
        "helper.py:6: error: np.median is not supported"
    )


def test_wrt_naming_integer_data_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "labels.py").write_text(
        HEADER + "def f(x: Array['n'], y: Array['n', int]) -> float:\n"
        "    return np.sum(x * y)\n"
    )
    status, err = _run(tmp_path, capsys, ["compile", "labels.py", "--wrt", "y"])
    assert status == 2 and len(err.splitlines()) == 1
    assert err.startswith(
        "labels.py:5: error: --wrt names 'y', which is integer data: it is not "
        "differentiated (name float parameters only"
    )
    assert not (tmp_path / "generated").exists()


def test_a_rewrite_hint_is_given_only_for_calls_that_are_not_traced():
    import numpy as np

    import gradgen.ops  # noqa: F401 - fills the dispatch tables

    traced = dispatch.FUNCTIONS.keys() | dispatch.ELEMENTWISE.keys()
    names = [n for n in dispatch.REWRITES if n.count(".") == 1]  # not np.add.reduce
    assert names
    for name in names:
        assert getattr(np, name.removeprefix("np.")) not in traced, name
