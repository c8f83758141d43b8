"""``gradgen compile`` of one or more model files: which files of a folder are models,
where each output goes, and compiling each model on its own.

``plan(args)`` takes the parsed arguments and returns one ``Job`` per model, with its
outputs named and checked (``writing.check_outputs``) before any model runs. ``run(jobs,
args)`` compiles each model (or takes its files from the compile cache, ``cache.py``,
unless ``--no-cache``), writes what compiled, prints one line per model that failed, and
returns the exit status: 0, or 2 if any failed.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import sys
from dataclasses import dataclass

from gradgen import cache, process, timing
from gradgen.cli import check, writing
from gradgen.errors import GradgenError
from gradgen.frontend.reading import check_model_path, read_source
from gradgen.options import parse_modes, parse_target, parse_wrt

_IMPORT = re.compile(rb"^[ \t]*(from|import)[ \t]+gradgen\b", re.MULTILINE)


@dataclass
class Job:
    """One model to compile: the file as given, its outputs (as shown, and absolute:
    resolved before any model runs) and the command that regenerates them."""

    model: str
    output: str
    test: str | None
    command: str

    def files(self) -> list[str]:
        return [self.output] + ([self.test] if self.test else [])


def imports_gradgen(path: str) -> bool:
    """Whether a file imports gradgen (``import gradgen``, ``from gradgen import ...``),
    read from its AST without running it; from its bytes if it does not parse."""
    try:
        tree = ast.parse(read_source(path))
    except (GradgenError, SyntaxError, ValueError):
        try:
            with open(path, "rb") as handle:
                return bool(_IMPORT.search(handle.read()))
        except OSError:
            return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(n == "gradgen" or n.startswith("gradgen.") for n in names):
            return True
    return False


def expand(models: list[str]) -> list[tuple[str, bool]]:
    """(path, named explicitly) for each model, each file once; a folder gives the
    ``.py`` files in it that import gradgen."""
    out, seen = [], set()
    for model in models:
        if os.path.isdir(model):
            names = sorted(os.listdir(model))
            paths = [
                os.path.join(model, n)
                for n in names
                if n.endswith(".py") and not n.startswith("_")
            ]
            found = [
                (p, False) for p in paths if os.path.isfile(p) and imports_gradgen(p)
            ]
        else:
            found = [(model, True)]
        for path, explicit in found:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                out.append((path, explicit))
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
    if getattr(args, "unroll", None) is not None:
        parts += ["--unroll" if args.unroll else "--no-unroll"]
    if getattr(args, "checkpoint", 0):
        parts += ["--checkpoint", str(args.checkpoint)]
    if args.target != "numpy":
        parts += ["--target", args.target]
    if args.emit_test:
        parts += ["--emit-test"] + (["--dims", args.dims] if args.dims else [])
        parts += ["--seed", str(args.seed)] if args.seed else []
    return shlex.join(parts)


def _job(path: str, args, single: bool) -> Job:
    name = os.path.splitext(os.path.basename(path))[0] + ".py"
    if single:
        out = os.path.join("generated", name) if args.output is None else args.output
    else:
        out = os.path.join("generated" if args.output is None else args.output, name)
    test = None
    if args.emit_test:
        test = os.path.join(os.path.dirname(out), f"test_{os.path.basename(out)}")
    return Job(path, out, test, _command(path, args, args.output if single else None))


def plan(args) -> list[Job]:
    """The jobs of ``gradgen compile``; every problem with the options or the outputs is
    refused here, before any model runs."""
    parse_wrt(args.wrt)
    parse_modes(check.modes_of(args))
    parse_target(args.target)
    if args.output == "":
        raise GradgenError(
            "-o names no file",
            hint="name the output with -o, or leave -o out for generated/<model>.py",
        )
    models = expand(args.models)
    if not models:
        raise GradgenError(
            "no model files found",
            args.models[0],
            hint="in a folder, a model file is a .py file that imports gradgen",
        )
    single = len(models) == 1 and models[0][1]
    if not single and (args.functions or args.wrt):
        raise GradgenError(
            "--function and --wrt apply to a single model file",
            hint="compile the files one at a time",
        )
    check.check_test_options(args, single)
    jobs = []
    for path, _ in models:
        name = os.path.splitext(os.path.basename(path))[0] + ".py"
        if single:
            out = (
                os.path.join("generated", name) if args.output is None else args.output
            )
        else:
            out = os.path.join(
                "generated" if args.output is None else args.output, name
            )
        test = None
        if args.emit_test:
            test = os.path.join(os.path.dirname(out), f"test_{os.path.basename(out)}")
        shown = args.output if single else None
        jobs.append(Job(path, out, test, _command(path, args, shown)))
    outputs = [(j.output, "output", j.model) for j in jobs]
    outputs += [(j.test, "emitted test", j.model) for j in jobs if j.test]
    writing.check_outputs(outputs, [j.model for j in jobs])
    return jobs


def _cache_key(job: Job, args) -> str | None:
    """The cache key of a job: the model's bytes, where it and the outputs are, and
    every option the files depend on (None when the model cannot be read)."""
    digest = cache.file_digest(job.model)
    if digest is None:
        return None
    files = job.files()
    return cache.key(
        {
            "kind": "compile",
            "model": digest,
            "path": job.model,
            "real": os.path.realpath(job.model),
            "files": files,
            "where": [os.path.abspath(f) for f in files],
            "command": job.command,
            "functions": args.functions,
            "wrt": parse_wrt(args.wrt),
            "modes": check.modes_of(args),
            "checks": not args.no_checks,
            "unroll": getattr(args, "unroll", None),
            "checkpoint": getattr(args, "checkpoint", 0),
            "target": args.target,
            "dims": args.dims,
            "seed": args.seed,
        }
    )


def _compile_cached(job: Job, args) -> tuple[list, list]:
    """``_compile`` through the cache: a hit runs nothing of the model's; it gives the
    same files, and the modules the model imported, still protected as inputs."""
    check_model_path(job.model)  # before SymPy loads
    start = timing.perf_counter()
    key = None if args.no_cache else _cache_key(job, args)
    if key is None:
        return _compile(job, args)
    base = os.path.dirname(os.path.realpath(job.model))
    entry = cache.lookup(key, base)
    if entry is not None:
        if args.verbose:
            seconds = timing.perf_counter() - start
            print(f"{job.model}: cache hit, {seconds * 1e3:.1f} ms", file=sys.stderr)
        imported = [os.path.join(base, name) for name in entry["depends"]]
        return [tuple(f) for f in entry["files"]], imported
    files, imported = _compile(job, args)
    if _cache_key(job, args) == key:  # the model did not change while it compiled
        cache.store(key, {"files": files, "depends": cache.depends(imported, base)})
    return files, imported


def _compile(job: Job, args) -> tuple[list, list]:
    """The files of one job, (shown, text), and the inputs they must not overwrite."""
    from gradgen.frontend import loop_runtime
    from gradgen.frontend.model_file import find_targets, load_model
    from gradgen.pipeline import compile_targets

    wrt, modes = parse_wrt(args.wrt), check.modes_of(args)
    with timing.record() as times:
        model = load_model(job.model)
        targets = find_targets(model, args.functions)
        source = compile_targets(
            targets,
            wrt,
            job.command,
            modes,
            not args.no_checks,
            args.target,
            getattr(args, "unroll", None),
            getattr(args, "checkpoint", 0),
        )
    if args.verbose:
        _report(job.model, times)
        for note in loop_runtime.NOTES:
            print(note, file=sys.stderr)
    files = [(job.output, source)]
    if job.test:
        files.append((job.test, _emitted_test(targets, args, wrt, modes, job, source)))
    return files, model.imported


def _emitted_test(targets, args, wrt, modes, job: Job, source: str) -> str:
    from gradgen.checking.check import choose_dims
    from gradgen.checking.emitted_test import emitted_test
    from gradgen.options import parse_dims

    sizes = choose_dims(targets, parse_dims(args.dims))
    return emitted_test(
        targets, source, job.output, job.test, sizes, args.seed, wrt, modes, job.command
    )


def _report(path: str, times: dict) -> None:
    """Seconds per pipeline stage, in pipeline order, on stderr."""
    total = sum(times.values())
    parts = [f"{name} {seconds:.3f}" for name, seconds in times.items()]
    timing.clear()
    print(f"{path}: {total:.3f} s: " + ", ".join(parts), file=sys.stderr)


def run(jobs: list[Job], args) -> int:
    """Compile and write each job on its own; 2 if any failed."""
    cwd = os.getcwd()
    where = {f: os.path.join(cwd, f) for job in jobs for f in job.files()}
    inputs = [job.model for job in jobs]
    failed = 0
    for job in jobs:
        try:
            with timing.working_on(job.model), process.deadline(args.timeout):
                files, imported = _compile_cached(job, args)
        except process.TimedOut as exc:
            real = os.path.abspath(job.model)
            failed += _failed(process.timeout_error(exc, job.model, real))
            continue
        except GradgenError as exc:
            failed += _failed(exc)
            continue
        try:
            for shown, text in files:
                writing.write(where[shown], text, inputs + imported, shown)
                timing.clear()
                print(f"wrote {shown}")
        except GradgenError as exc:
            failed += _failed(exc)
    return 2 if failed else 0


def _failed(exc: GradgenError) -> int:
    timing.clear()
    print(exc, file=sys.stderr)
    return 1
