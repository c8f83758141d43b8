"""The command line: ``gradgen compile``, ``gradgen check``, ``gradgen ops``, and (from
``views``) ``gradgen latex``, ``explain`` and ``graph``.

Takes argv, returns an exit status: 0 on success, 2 for bad input (one line on stderr,
``file:line: error: message (hint)``, no traceback), 1 for an internal error. Output files
are written to a temporary file and renamed, so a failed run never leaves a half-written or
truncated module behind.
"""

from __future__ import annotations

import argparse
import ast
import os
import shlex
import sys
import tempfile
import traceback

from . import __version__, check_command, timing, views
from .errors import GradgenError

DESCRIPTION = """\
gradgen compiles a NumPy model (a loss written as a plain Python function with
Array["n", "d"] / float annotations) into a standalone NumPy module of forward and
gradient functions, derived symbolically by the chain rule in reverse.
"""

COMPILE_EPILOG = """\
For each compile target f (a public top-level function whose parameters are all
annotated) the module defines f(*args); for a scalar result f_grad(*args) and
f_value_and_grad(*args) -> (value, grads); for an array result
f_vjp(*args, cotangent). One gradient when one parameter is differentiated, else a
tuple in parameter order. --mode adds, as JAX names them: jvp: f_jvp(*args,
tangents) -> (value, value_dot); hvp: f_hvp(*args, v) -> H v; hessian:
f_hessian(*args) (scalar results); jacobian: f_jacobian(*args) (array results).

examples:
  gradgen compile examples/xor.py                 writes generated/xor.py
  gradgen compile examples/xor.py -o xor_grad.py --wrt W0,W1
  gradgen compile examples/                       every model file in the folder
  gradgen compile examples/xor.py --mode hvp,hessian --emit-test
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradgen",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    comp = commands.add_parser(
        "compile",
        help="write the gradient module of a model file",
        description="Write the generated NumPy module of one or more model files.",
        epilog=COMPILE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    comp.add_argument(
        "models",
        nargs="+",
        metavar="MODEL",
        help="model file, or a folder: every model file in it",
    )
    comp.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (one model) or folder (several); "
        "default generated/<model name>.py under the current folder",
    )
    comp.add_argument(
        "--function",
        action="append",
        metavar="NAME",
        dest="functions",
        help="compile only this target (repeatable); default: all targets",
    )
    comp.add_argument(
        "--wrt", metavar="A,B", help="differentiate only these parameters; default: all"
    )
    comp.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the time each pipeline stage took (on stderr)",
    )
    comp.add_argument(
        "--mode",
        action="append",
        metavar="MODES",
        help="also emit (comma-separated): jvp, hvp, hessian, jacobian, all",
    )
    comp.add_argument(
        "--no-checks",
        action="store_true",
        help="leave out the checks of the arguments (shapes against the annotations, "
        "integers made floats) at the start of each generated function",
    )
    comp.add_argument(
        "--emit-test",
        action="store_true",
        help="also write test_<module>.py beside the module: a pytest file checking it "
        "against central differences (needs NumPy and pytest only)",
    )
    check_command.add_sizes(comp, "the emitted test")
    check_command.add_parser(commands)
    ops = commands.add_parser(
        "ops",
        help="list the supported NumPy operations",
        description="List every NumPy call, operator and array attribute "
        "gradgen can trace.",
    )
    ops.add_argument(
        "--markdown",
        action="store_true",
        help="print the list as the Markdown page docs/operations.md",
    )
    views.add_commands(commands)
    return parser


def _is_model_file(path: str) -> bool:
    """Whether a file defines a compile target, read without running it."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return True  # let the compile report the problem
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if args and all(a.annotation is not None for a in args):
                return True
    return False


def _expand(models: list[str]) -> list[tuple[str, bool]]:
    """(path, explicitly named) for each model; a folder gives its model files."""
    out = []
    for model in models:
        if os.path.isdir(model):
            for name in sorted(os.listdir(model)):
                path = os.path.join(model, name)
                if (
                    name.endswith(".py")
                    and not name.startswith("_")
                    and _is_model_file(path)
                ):
                    out.append((path, False))
        else:
            out.append((model, True))
    return out


def _command(path: str, args, output: str | None) -> str:
    parts = ["gradgen", "compile", path]
    if output:
        parts += ["-o", output]
    for name in args.functions or []:
        parts += ["--function", name]
    if args.wrt:
        parts += ["--wrt", args.wrt]
    for mode in args.mode or []:
        parts += ["--mode", mode]
    if args.no_checks:
        parts += ["--no-checks"]
    if args.emit_test:
        parts += ["--emit-test"] + (["--dims", args.dims] if args.dims else [])
        parts += ["--seed", str(args.seed)] if args.seed else []
    return shlex.join(parts)


def _unwritable(path: str, exc: OSError) -> GradgenError:
    return GradgenError(
        f"cannot write {path}: {exc.strerror}",
        path,
        hint="choose a writable file with -o",
    )


def write_atomically(path: str, text: str | bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".gradgen-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(
            fd, "wb" if binary else "w", encoding=None if binary else "utf-8"
        ) as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # as open() would make it, not mkstemp's 0600
        os.replace(temp, path)
    except OSError as exc:
        os.unlink(temp)
        raise _unwritable(path, exc) from None


def run_compile(args) -> int:
    from .pipeline import compile_file

    models = _expand(args.models)
    if not models:
        raise GradgenError(
            "no model files found",
            args.models[0],
            hint="a model file defines a function whose parameters are "
            "all annotated",
        )
    single = len(models) == 1 and models[0][1]
    if not single and (args.functions or args.wrt):
        raise GradgenError(
            "--function and --wrt apply to a single model file",
            hint="compile the files one at a time",
        )
    check_command.check_test_options(args, single)
    outputs = []
    for path, _ in models:
        stem = os.path.splitext(os.path.basename(path))[0]
        if single:
            out = args.output or os.path.join("generated", f"{stem}.py")
            shown = args.output
        else:
            out = os.path.join(args.output or "generated", f"{stem}.py")
            shown = None
        wrt = (
            [w.strip() for w in args.wrt.split(",") if w.strip()] if args.wrt else None
        )
        command = _command(path, args, shown)
        modes = check_command.modes_of(args)
        with timing.record() as times:
            source = compile_file(
                path, args.functions, wrt, command, modes, not args.no_checks
            )
        if args.verbose:
            _report(path, times)
        outputs.append((out, source))
        if args.emit_test:
            outputs.append(_emitted_test(path, args, wrt, modes, out, source, command))
    for out, source in outputs:  # everything compiled: now write
        write_atomically(out, source)
        print(f"wrote {out}")
    return 0


def _report(path: str, times: dict) -> None:
    """Seconds per pipeline stage, in pipeline order, on stderr."""
    total = sum(times.values())
    parts = [f"{name} {seconds:.3f}" for name, seconds in times.items()]
    print(f"{path}: {total:.3f} s: " + ", ".join(parts), file=sys.stderr)


def _emitted_test(path, args, wrt, modes, out, source, command):
    from .checking import choose_dims, parse_dims
    from .emit_test import emitted_test
    from .source import find_targets, load_model

    targets = find_targets(load_model(path), args.functions)
    sizes = choose_dims(targets, parse_dims(args.dims))
    test = os.path.join(os.path.dirname(out), f"test_{os.path.basename(out)}")
    text = emitted_test(
        targets, source, out, test, sizes, args.seed, wrt, modes, command
    )
    return test, text


def run_ops(markdown: bool) -> int:
    from .numpy_api import operations_markdown, supported_operations

    if markdown:
        print(operations_markdown(), end="")
        return 0
    rows = supported_operations()
    width = max(len(call) for _, call, _ in rows if len(call) <= 40)
    section = None
    for where, call, note in rows:
        if where != section:
            print(("\n" if section else "") + where)
            section = where
        if len(call) > width and note:
            print(f"  {call}\n  {' ' * width}  {note}")
        else:
            print(f"  {call.ljust(width)}  {note}".rstrip())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "compile":
            return run_compile(args)
        if args.command == "check":
            return check_command.run(args)
        if args.command in views.RUNNERS:
            return views.RUNNERS[args.command](args, write_atomically)
        return run_ops(args.markdown)
    except GradgenError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug in gradgen, not in the user's model
        if os.environ.get("GRADGEN_DEBUG"):
            traceback.print_exc()
        print(
            f"gradgen: internal error: {type(exc).__name__}: {exc} "
            "(set GRADGEN_DEBUG=1 for the traceback and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
