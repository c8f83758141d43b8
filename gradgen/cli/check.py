"""``gradgen check``: the command line of the gradient check.

Takes the parsed arguments; prints, for each target, a table of relative errors (the
generated gradient, and the functions of ``--mode``, against central differences along
random directions) and returns the exit status: 0 when every check passes, 1 when one
fails (2, through the caller, for bad input).
"""

from __future__ import annotations

import argparse

from gradgen import options
from gradgen.checking.tolerances import EPS, RTOL
from gradgen.domains import load_npz, parse_domains
from gradgen.errors import GradgenError
from gradgen.frontend.reading import check_model_path

# checking (and with it SymPy) is imported when a command runs, so `gradgen --help` is quick

EPILOG = f"""\
Compiles the model in memory, draws standard normal inputs (seeded) of small sizes, all
different from one another (or those of --dims), or from each parameter's --domain
(positive, negative and nonzero: magnitudes about 0.4 to 2.7; LOW..HIGH: uniform in
its middle 90%), or takes them from --inputs FILE.npz, and compares each generated derivative
with central differences (step {EPS:g}) along random directions: the gradient's (or
VJP's) inner product with a random direction, the JVP and the Jacobian applied to one, the
HVP and the Hessian applied to one against the difference quotient of the gradient. A
check passes when its relative error is at most --rtol. Exit status 0 when all pass, 1
when one fails, 2 for bad input.

examples:
  gradgen check examples/xor.py
  gradgen check examples/deep.py --dims n=7,d=3,k=2,m=5 --seed 1 --mode all
  gradgen check model.py --domain x=positive --domain p=0..1
  gradgen check examples/xor.py --inputs examples/xor_trained.npz
"""


def add_parser(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check a model's generated derivatives against central differences",
        description="Check the generated derivatives of a model file numerically.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("model", metavar="MODEL", help="model file")
    options.add_targets(check, "check", "differentiate only these parameters")
    add_sizes(check, "the random inputs")
    check.add_argument(
        "--mode",
        action="append",
        metavar="MODES",
        help="also check these (comma-separated): jvp, hvp, hessian, jacobian, all",
    )
    check.add_argument(
        "--domain",
        action="append",
        metavar="NAME=DOMAIN",
        help="draw a parameter from a domain (repeatable, or comma-separated): "
        "positive, negative, nonzero, LOW..HIGH (e.g. p=0..1), int:LOW..HIGH",
    )
    check.add_argument(
        "--inputs",
        metavar="FILE.npz",
        help="take these parameters' values from an .npz file (numpy.savez, one array "
        "per parameter name); the sizes of the dimension names follow from them",
    )
    check.add_argument(
        "--rtol",
        type=float,
        default=RTOL,
        help=f"largest relative error that passes (default {RTOL:g})",
    )
    options.add_timeout(check)


def add_sizes(parser, what: str) -> None:
    parser.add_argument(
        "--dims",
        metavar="n=7,d=3",
        help=f"sizes of the dimension names for {what}; default: small, all different",
    )
    parser.add_argument(
        "--seed", type=options.seed, default=0, help=f"seed of {what} (default 0)"
    )


def check_test_options(args, single: bool) -> None:
    """``compile``: --dims and --seed shape the emitted test; --dims names one model's."""
    if (args.dims or args.seed) and not args.emit_test:
        raise GradgenError(
            "--dims and --seed apply to --emit-test",
            hint="add --emit-test, or run gradgen check",
        )
    if args.dims and not single:
        raise GradgenError(
            "--dims applies to a single model file",
            hint="compile the files one at a time",
        )
    options.parse_dims(args.dims)  # bad sizes fail before any compiling


def modes_of(args) -> str | None:
    return ",".join(args.mode) if args.mode else None


def run(args) -> int:
    wrt = options.parse_wrt(args.wrt)
    dims = options.parse_dims(args.dims)
    options.parse_modes(modes_of(args))  # bad options fail before SymPy loads
    domains = parse_domains(args.domain)
    if args.inputs is not None:
        check_model_path(args.inputs, ".npz file of inputs")
    from gradgen.checking.check import check_file

    inputs = load_npz(args.inputs) if args.inputs is not None else None
    reports = check_file(
        args.model,
        args.functions,
        dims,
        args.seed,
        modes_of(args),
        wrt,
        rtol=args.rtol,
        domains=domains,
        inputs=inputs,
    )
    print(
        f"{args.model}: generated derivatives against central differences "
        f"(step {EPS:g}); pass at relative error <= {args.rtol:g}"
    )
    for report in reports:
        print()
        print(report.text())
    failed = [r for r in reports if not r.ok]
    return 1 if failed else 0
