"""Options shared by every command and by the Python API: which parameters to
differentiate (``--wrt``, ``wrt=``), ``--function``, ``--timeout``, ``--seed``, ``--dims``,
``--mode`` and ``--target`` (``target=``). It imports nothing heavy: bad options are refused before SymPy loads.

``parse_wrt`` takes what the user gave (``None``, ``"W0,W1"``, ``["W0", "W1"]``) and
returns ``None`` (every parameter) or a non-empty list of names, or raises a one-line
``GradgenError``; ``add_targets`` and ``add_timeout`` put the options on an argparse
parser, with the same help on every command.
"""

from __future__ import annotations

import argparse

from gradgen.errors import GradgenError

DEFAULT_TIMEOUT = 300.0

DIMS_HINT = "write sizes as name=size separated by commas, e.g. --dims n=7,d=3"
MODES = ("jvp", "hvp", "hessian", "jacobian")
MODES_HINT = (
    "modes: grad (always), jvp, hvp, hessian (scalar results), jacobian (array results), "
    "all"
)

WRT_HINT = (
    "name parameters separated by commas, e.g. {option} W0,W1; "
    "leave {option} out to differentiate all of them"
)


def parse_wrt(value, option: str = "--wrt") -> list[str] | None:
    """The parameter names to differentiate, in the order given, each once; ``None``
    (all of them) when ``value`` is ``None``."""
    if value is None:
        return None
    hint = WRT_HINT.format(option=option)
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = [part for v in value for part in v.split(",")]
    else:
        raise GradgenError(
            f"{option} must be a parameter name, a comma-separated string or a list "
            f"of names, not {type(value).__name__}",
            hint=hint,
        )
    names = list(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not names:
        raise GradgenError(
            f"{option} names no parameter: nothing to differentiate", hint=hint
        )
    return names


def differentiated(target, wrt: list[str] | None) -> list[str]:
    """The names of the parameters of ``target`` (a ``model_file.Target``) to
    differentiate: those ``wrt`` names (``parse_wrt``), else every float parameter;
    integer data (``Array['n', int]``, ``int``) never. Naming what is not a float
    parameter is an error at the target."""
    names = [p.name for p in target.params]
    integers = {p.name for p in target.params if p.integer}
    for name in wrt or []:
        if name not in names:
            raise GradgenError(
                f"--wrt names {name!r}, which is not a parameter of "
                f"{target.name}({', '.join(names)})",
                target.model.path,
                target.line,
                hint="list parameters separated by commas, e.g. --wrt W0,W1",
            )
        if name in integers:
            raise GradgenError(
                f"--wrt names {name!r}, which is integer data: it is not differentiated",
                target.model.path,
                target.line,
                hint="name float parameters only; annotate a parameter float or "
                "Array['n', 'd'] to differentiate it",
            )
    floats = [n for n in names if n not in integers]
    if not floats:
        raise GradgenError(
            f"{target.name} has no float parameter to differentiate",
            target.model.path,
            target.line,
            hint="annotate the parameters to differentiate float or Array['n', 'd']",
        )
    return [n for n in floats if wrt is None or n in wrt]


def add_targets(parser, verb: str, wrt_help: str) -> None:
    """``--function NAME`` (repeatable) and ``--wrt A,B``."""
    parser.add_argument(
        "--function",
        action="append",
        metavar="NAME",
        dest="functions",
        help=f"{verb} only this target (repeatable); default: all targets",
    )
    parser.add_argument("--wrt", metavar="A,B", help=f"{wrt_help}; default: all")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds"
        ) from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not 0 or a positive number")
    return value


def add_timeout(parser) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="stop a model that runs longer than this, naming the stage it was in "
        f"(default {DEFAULT_TIMEOUT:g}; 0: no limit)",
    )


def seed(text: str) -> int:
    """``--seed``: an integer, 0 or more (the seeds NumPy accepts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def parse_dims(text: str | None) -> dict[str, int]:
    """``--dims n=7,d=3``: the size of each dimension name."""
    sizes: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, _, value = item.partition("=")
        try:
            size = int(value)
        except ValueError:
            raise GradgenError(
                f"--dims: {item.strip()!r} is not name=size", hint=DIMS_HINT
            )
        if not name.strip().isidentifier() or size < 1:
            raise GradgenError(
                f"--dims: {item.strip()!r} is not name=size", hint=DIMS_HINT
            )
        sizes[name.strip()] = size
    return sizes


TARGETS = ("numpy", "array-api")


def parse_target(target) -> bool:
    """Whether ``target`` (``numpy``, the default, or ``array-api``) is the Array API
    target; an unknown target is an error."""
    if target not in TARGETS:
        raise GradgenError(
            f"unknown target {target!r}", hint="targets: numpy (default), array-api"
        )
    return target == "array-api"


def add_target(parser) -> None:
    """``--target numpy|array-api``."""
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="numpy",
        help="numpy (default): a module that calls NumPy; array-api: a module that "
        "takes its array namespace from its arguments (array_api_compat) and calls "
        "only the Array API standard's functions, for NumPy, CuPy, PyTorch, JAX or "
        "Dask arrays",
    )


def parse_modes(modes) -> tuple[str, ...]:
    """The modes asked for, in canonical order: a comma-separated string or a list;
    ``grad`` is always built, ``all`` is every mode."""
    if modes is None:
        return ()
    if isinstance(modes, str):
        modes = modes.split(",")
    wanted = set()
    for mode in (m.strip() for m in modes):
        if mode == "all":
            wanted.update(MODES)
        elif mode in MODES:
            wanted.add(mode)
        elif mode not in ("grad", ""):
            raise GradgenError(f"unknown mode {mode!r}", hint=MODES_HINT)
    return tuple(m for m in MODES if m in wanted)
