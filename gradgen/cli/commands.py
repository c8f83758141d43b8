"""The command line: ``gradgen compile`` (``batch``), ``gradgen check``, ``gradgen ops``,
``gradgen cache`` (``cache``), and (from ``views``) ``gradgen latex``, ``explain`` and ``graph``.

Takes argv, returns an exit status: 0 on success, 2 for bad input (one line on stderr,
``file:line: error: message (hint)``, no traceback; with several models, one line per
model that failed), 1 for an internal error, 130 on Ctrl-C, 143 on SIGTERM. Outputs go
through ``writing``: inputs, links, devices and read-only files are refused, and a
failed or interrupted run never leaves a half-written file. ``--timeout`` and the
progress line come from ``process`` and ``timing``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback

from gradgen import __version__, options, process, timing
from gradgen.cli import batch, check, show, writing
from gradgen.errors import GradgenError
from gradgen.frontend.reading import check_model_path

DESCRIPTION = """\
gradgen compiles a NumPy model (a loss written as a plain Python function with
Array["n", "d"] / float annotations, and Array["n", int] / int for integer data such as
labels) into a standalone NumPy module of forward and gradient functions, derived
symbolically by the chain rule in reverse.
"""

COMPILE_EPILOG = """\
For each compile target f (a public top-level function whose parameters are all
annotated) the module defines f(*args); for a scalar result f_grad(*args) and
f_value_and_grad(*args) -> (value, grads); for an array result
f_vjp(*args, cotangent). One gradient when one parameter is differentiated, else a
tuple in parameter order. --mode adds, as JAX names them: jvp: f_jvp(*args,
tangents) -> (value, value_dot); hvp: f_hvp(*args, v) -> H v; hessian:
f_hessian(*args) (scalar results); jacobian: f_jacobian(*args) (array results).

Compiling runs the model file's top-level code, as importing it does. In a folder,
the models are the .py files that import gradgen (import gradgen, from gradgen
import ...); other files are not run. Each model compiles or fails on its own:
what compiled is written, each failure is one line, and the exit status is 2 if
any failed.

Outputs are never lost: gradgen refuses (exit status 2, nothing written) an
output that is an input of the run (the model, a module it imports), that exists
and is not a regular file (a folder, device, FIFO, socket, or a symbolic link:
give the file it points to as -o), that is read-only, or that two models would
both write. A replaced file keeps its permissions; the new file is written
beside it and renamed, so an interrupted run leaves the old one whole.

An unchanged model compiled again with the same options is read back from the
compile cache without running it (see gradgen cache --help); --no-cache compiles
afresh.

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
    _add_compile(commands)
    check.add_parser(commands)
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
    show.add_commands(commands)
    _add_cache(commands)
    return parser


CACHE_EPILOG = """\
gradgen compile keeps what it writes in a cache: compiling an unchanged model again
with the same options reads the files back in milliseconds, without running the
model. An entry is used only while everything the output depends on is the same: the
model's bytes, the bytes of every module it imported from its folder, the options,
gradgen (its version and its code) and the versions of Python, SymPy, black, Jinja and
NumPy. The folder is $GRADGEN_CACHE_DIR if set, else the user cache folder
(~/.cache/gradgen on Linux, ~/Library/Caches/gradgen on macOS,
%LOCALAPPDATA%\\gradgen\\Cache on Windows). gradgen compile --no-cache bypasses it.
"""


def _add_cache(commands) -> None:
    cache_parser = commands.add_parser(
        "cache",
        help="show or clear the compile cache",
        description="Show or clear the compile cache.",
        epilog=CACHE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache_parser.add_argument(
        "action",
        choices=["info", "clear"],
        help="info: the folder, its entries and their size; clear: remove every entry",
    )


def run_cache(action: str) -> int:
    from gradgen import cache

    if action == "clear":
        removed = cache.clear()
        print(
            f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.folder()}"
        )
        return 0
    found = cache.info()
    print(f"folder: {found['folder']}")
    print(f"entries: {found['entries']}")
    print(f"size: {found['bytes'] / 1e6:.1f} MB ({found['bytes']} bytes)")
    return 0


def _add_compile(commands) -> None:
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
        help="model file, or a folder: every .py file in it that imports gradgen",
    )
    comp.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (one model) or folder (several); "
        "default generated/<model name>.py under the current folder",
    )
    options.add_targets(comp, "compile", "differentiate only these parameters")
    options.add_timeout(comp)
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
        "integers made floats) at the start of each generated function; the bare code "
        "assumes arguments of the annotated shapes, every named size at least 1",
    )
    options.add_target(comp)
    comp.add_argument(
        "--unroll",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="--unroll: unroll every loop of a fixed length (one block per step); "
        "--no-unroll: keep every loop a loop where it can be; default: loops over a "
        "length that is a name (range(T), for x_t in X) and loops of 20 steps or more "
        "stay loops, shorter ones are unrolled (-v says which loops are unrolled, and why)",
    )
    comp.add_argument(
        "--checkpoint",
        type=_positive,
        default=0,
        metavar="K",
        help="loops that stay loops keep their carried values every K steps only, and "
        "the backward pass recomputes each K steps forward before going back through "
        "them: memory of T/K states and K steps' tape instead of T steps' tape, for one "
        "more forward pass (default: keep every step's)",
    )
    comp.add_argument(
        "--emit-test",
        action="store_true",
        help="also write test_<module>.py beside the module: a pytest file checking it "
        "against central differences (needs NumPy and pytest only)",
    )
    check.add_sizes(comp, "the emitted test")
    comp.add_argument(
        "--no-cache",
        action="store_true",
        help="compile afresh, neither reading nor writing the compile cache "
        "(see gradgen cache --help)",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of steps >= 1")
    return value


def run_compile(args) -> int:
    return batch.run(batch.plan(args), args)


def run_model_command(args) -> int:
    """``check``, ``latex``, ``explain``, ``graph``, ``report``: one model, at most one
    output."""
    output = getattr(args, "output", None)
    if output is not None:
        writing.check_outputs([(output, "output", args.model)], [args.model])

    def write(path, data):
        writing.write(path, data, [args.model])
        timing.clear()

    real = os.path.abspath(args.model)
    check_model_path(args.model)  # before SymPy loads
    try:
        with timing.working_on(args.model), process.deadline(args.timeout):
            if args.command == "check":
                return check.run(args)
            return show.RUNNERS[args.command](args, write)
    except process.TimedOut as exc:
        raise process.timeout_error(exc, args.model, real) from None


def operations_markdown(rows) -> str:
    """The supported operations as a Markdown page (docs/operations.md)."""
    lines = [
        "# Supported operations",
        "",
        "Generated by `gradgen ops --markdown` from gradgen's dispatch tables; any other",
        "NumPy call is refused with an error naming it and the line of the model.",
    ]
    section = None
    for where, call, note in rows:
        if where != section:
            section = where
            lines += ["", f"## {section}", "", "| operation | notes |", "|---|---|"]
        lines.append(f"| `{call}` | {note} |")
    return "\n".join(lines) + "\n"


def run_ops(markdown: bool) -> int:
    from gradgen.operations import (
        ROWS as rows,
    )  # the tables' list, without loading them

    if markdown:
        print(operations_markdown(rows), end="")
        return 0
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
    if args.command in ("ops", "cache"):
        return _run(args)
    with process.handling_signals(), timing.progress(sys.stderr):
        return _run(args)


def _command(args) -> int:
    if args.command == "compile":
        return run_compile(args)
    if args.command == "ops":
        return run_ops(args.markdown)
    if args.command == "cache":
        return run_cache(args.action)
    return run_model_command(args)


def _run(args) -> int:
    try:
        with process.stack_budget():
            return _command(args)
    except GradgenError as exc:
        return _stop(str(exc), 2)
    except KeyboardInterrupt:
        return _stop("gradgen: interrupted", 130)
    except process.Terminated:
        return _stop("gradgen: terminated", 128 + signal.SIGTERM)
    except BrokenPipeError:  # the reader of our output went away (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug in gradgen, not in the user's model
        if os.environ.get("GRADGEN_DEBUG"):
            traceback.print_exc()
        return _stop(
            f"gradgen: internal error: {type(exc).__name__}: {exc} "
            "(set GRADGEN_DEBUG=1 for the traceback and please report it)",
            1,
        )


def _stop(message: str, status: int) -> int:
    timing.clear()
    print(message, file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
