"""The first-order functions of one target, as the model contract names them: ``f``,
``f_grad`` and ``f_value_and_grad`` (``f_vjp`` for an array result), each with the
statements it needs, optimised and named."""

from __future__ import annotations

from sympy.core.parameters import distribute

from gradgen import ir, ops
from gradgen.codegen import type_hints
from gradgen.codegen.entry import dtype_lines, entry_lines, float_names
from gradgen.codegen.loops import step_sections
from gradgen.codegen.layout import dims_lines, docstring, statement_blocks, tuple_text
from gradgen.codegen.naming import Namer
from gradgen.codegen.optimize import optimise
from gradgen.codegen.printer import ModuleText
from gradgen.codegen.statements import returned
from gradgen.codegen.template import Function
from gradgen.explain import latex
from gradgen.timing import stage


def _named(program: ir.Program) -> set:
    return {n.sym for n in program.graph.nodes if n.names}


def named_statements(program: ir.Program, namer: Namer, stmts, results, keep):
    """Optimised statements, results and the final names: what one generated function
    prints, and what the formulas (``latex``, ``explain``, ``graph``) show."""
    with stage("optimise"):
        stmts, results = optimise(stmts, results, keep, program.graph)
    with stage("naming"):
        return stmts, results, namer.mapping(stmts)


def _gradient_inputs(program: ir.Program):
    """The statements, results and kept values of ``f_value_and_grad`` (or ``f_vjp``)."""
    named = _named(program)
    keep = named | {program.output} | set(program.grads)
    keep |= {
        s.target for s in program.backward if s.role == "adjoint" and s.node in named
    }
    results = list(program.grads)
    if not program.array_output:
        results.insert(0, program.output)
    return program.forward + program.backward, results, keep


def gradient_statements(program: ir.Program):
    """The named, optimised statements of ``f_value_and_grad`` (``f_vjp`` for an array
    output), exactly as the generated module computes them: (stmts, results, mapping).
    """
    with distribute(False):
        namer = Namer(program)
        return named_statements(program, namer, *_gradient_inputs(program))


def _function(
    program: ir.Program,
    namer: Namer,
    text: ModuleText,
    name: str,
    stmts,
    results,
    keep,
    returns,
    doc: str,
    summary: str,
    extra_params=(),
    formulas: bool = False,
    result: str = "",
) -> Function:
    """One generated function; ``result`` is the type hint of what it returns."""
    if not any(s.expr.has(ops.LoopBack) for s in stmts):  # no backward pass: no tape
        stmts = [s.with_expr(ops.untaped(s.expr)) for s in stmts]
    stmts, results, mapping = named_statements(program, namer, stmts, results, keep)
    if formulas:  # the derivation, in the docstring of the function that computes it
        with stage("formulas"):
            derivation = latex.derive(program, stmts, results, mapping)
            derivation.sections += step_sections(program)
        doc += "\n\n" + latex.to_text(derivation)
    used = set()
    for expr in [s.expr for s in stmts] + results:
        used |= {s for s in expr.free_symbols if ir.is_dim_symbol(s)}
    inputs = {p.sym for p in program.params} | set(extra_params)
    shapes = program.graph.shapes
    printed = returned(text.mapped(mapping), results, stmts, inputs, shapes)
    extra = [(mapping[s].name, program.graph.shapes[s] or None) for s in extra_params]
    entry, after, sizes = entry_lines(program, text, name, extra)
    params = [p.name for p in program.params] + [n for n, _ in extra]
    blocks = statement_blocks(
        stmts,
        mapping,
        text,
        program.graph.shapes,
        forward_header=bool(program.backward)
        and any(s.section == "backward" for s in stmts),
    )
    returns_text = returns(printed)
    dims = dims_lines(program, used | sizes) + after
    dims += dtype_lines(text, float_names(program, params), blocks, returns_text)
    types = type_hints.params(program) + [type_hints.of(s, program) for _, s in extra]
    return Function(
        name, params, doc, summary, dims, blocks, returns_text, entry, types, result
    )


def _shape_text(p: ir.Param) -> str:
    """``(n, d)``, ``float``; ``(n,) integers`` and ``int`` for integer data."""
    if not p.shape:
        return "int" if p.integer else "float"
    return ir.shape_str(p.shape) + (" integers" if p.integer else "")


def _shapesdocstring(program: ir.Program) -> str:
    parts = [f"{p.name} {_shape_text(p)}" for p in program.params]
    return "Shapes: " + ", ".join(parts) + "."


def integer_note(program: ir.Program) -> str:
    """What the docstrings say of integer data: it is not differentiated."""
    names = [p.name for p in program.params if p.integer]
    if not names:
        return ""
    which = ", ".join(names)
    verb = "is" if len(names) == 1 else "are"
    return (
        f"{which} {verb} integer data, not differentiated: the gradient lists the "
        "float parameters in order."
    )


def generated_functions(program: ir.Program, text: ModuleText) -> list[Function]:
    """The value function and its gradient functions, as the model contract names them;
    ``text`` prints the expressions."""
    namer = Namer(program)
    name, args = program.name, ", ".join(p.name for p in program.params)
    named = _named(program)
    grads_text = tuple_text([namer.names[g] for g in program.grads])
    wrt_text = ", ".join(program.wrt)
    where = f"{program.path}:{program.line}"
    functions = [
        _function(
            program,
            namer,
            text,
            name,
            program.forward,
            [program.output],
            named,
            lambda r: r[0],
            docstring(
                f"Value of ``{name}`` as defined at {where}.", _shapesdocstring(program)
            ),
            f"{name}({args}) -> value",
            result=type_hints.value(program),
        )
    ]
    stmts, results, keep = _gradient_inputs(program)
    if program.array_output:
        cot = namer.names[program.cotangent]
        functions.append(
            _function(
                program,
                namer,
                text,
                f"{name}_vjp",
                stmts,
                results,
                keep,
                ", ".join,
                docstring(
                    f"Vector-Jacobian product of ``{name}`` with respect to {wrt_text}.",
                    f"``{cot}`` has the shape of the result; returns {grads_text}, the gradient "
                    f"of sum({name}(...) * {cot}).",
                ),
                f"{name}_vjp({args}, {cot}) -> {grads_text}",
                extra_params=[program.cotangent],
                formulas=True,
                result=type_hints.wrt(program),
            )
        )
        return functions
    value = program.value_name
    functions.append(
        Function(
            f"{name}_grad",
            [p.name for p in program.params],
            docstring(
                f"Gradient of ``{name}`` with respect to {wrt_text}: returns {grads_text}."
            ),
            f"{name}_grad({args}) -> {grads_text}",
            [],
            [],
            f"{name}_value_and_grad({args})[1]",
            hints=type_hints.params(program),
            result=type_hints.wrt(program),
        )
    )
    functions.append(
        _function(
            program,
            namer,
            text,
            f"{name}_value_and_grad",
            stmts,
            results,
            keep,
            lambda r: f"{r[0]}, {tuple_text(r[1:])}",
            docstring(
                f"Value of ``{name}`` and its gradient with respect to {wrt_text}.",
                f"Returns ({value}, {grads_text}); each gradient has its parameter's shape."
                + (" " + integer_note(program) if integer_note(program) else ""),
            ),
            f"{name}_value_and_grad({args}) -> ({value}, {grads_text})",
            formulas=True,
            result=f"tuple[{type_hints.value(program)}, {type_hints.wrt(program)}]",
        )
    )
    return functions
