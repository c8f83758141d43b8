"""Emitting: lay out a module from its functions with the Jinja template.

Takes ``Function`` records (names, docstrings, printed statements grouped in blocks) and
returns the module source, unformatted. The template lays out; it builds no expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gradgen.codegen import safe_text

# In a wheel the templates ship inside the package; in a source checkout they sit beside it.
_HERE = Path(__file__).resolve().parent.parent  # the gradgen package
TEMPLATE_FOLDERS = [str(_HERE / "templates"), str(_HERE.parent / "templates")]


@dataclass
class Block:
    """Statements under one comment. ``depth`` indents them (a loop body is at depth 1);
    ``header`` (such as ``for i in np.ndindex(W.shape):``) opens them, one level out."""

    comment: str | None
    statements: list[tuple[str, str, str]] = field(default_factory=list)
    depth: int = 0
    header: str | None = None


@dataclass
class Function:
    """One generated function: ``entry`` lines (the checks of its arguments) come first,
    then ``dims`` (the sizes it reads, ``n = X.shape[0]``), then its blocks. ``hints``
    are its parameters' type hints, ``result`` its result's (``type_hints.py``)."""

    name: str
    params: list[str]
    doc: str
    summary: str
    dims: list[str]
    blocks: list[Block]
    returns: str
    entry: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    result: str = ""
    listed: bool = True  # in the module docstring's list (a loop's helpers are not)

    def signature(self) -> str:
        """``name(x: FloatArray, w: float) -> float``, without ``def``."""
        params = [f"{p}: {h}" for p, h in zip(self.params, self.hints)]
        return f"{self.name}({', '.join(params)}) -> {self.result}"


def environment() -> jinja2.Environment:
    """The templates' environment. Its filters ``docstring`` and ``comment`` escape text
    that came from a model (``safe_text``): every such piece goes through one of them.
    """
    import jinja2  # here: the cache reads TEMPLATE_FOLDERS without loading Jinja

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_FOLDERS),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["docstring"] = safe_text.docstring
    env.filters["comment"] = safe_text.comment
    return env


def render_module(
    title: str,
    source: str,
    command: str,
    functions: list[Function],
    rewrites: list[str] = (),
    helpers: list[tuple[str, str]] = (),
    np: str = "np",
    types: tuple = ("FloatArray", "Any", None),
    array_api: tuple[str, set, str] | None = None,
    notes: list[str] = (),
) -> str:
    """``rewrites`` describes the stable forms used; ``helpers`` lists (helper, name in
    the module) for the helper functions the code calls (macros in helpers.py.j2); ``np``
    is the name the module imports NumPy as; ``types`` the names of the type hints for a
    float array, for ``typing.Any`` and for an integer array (None: no function takes
    one). ``array_api``: for the Array API target, the module's name for
    ``array_namespace``, the modules the code calls (``math``, ``itertools``, and
    ``xpx`` for array_api_extra; ``floats_only`` when a function takes no array, whose
    Python numbers become NumPy's arrays through ``array_api_compat.numpy``) and the
    module's name for array_api_extra; helpers come
    from helpers_array_api.py.j2, and ``np`` is then the namespace's local name. ``notes`` are paragraphs of the module docstring (which parameters are
    integer data)."""
    template = environment().get_template("module.py.j2")
    return template.render(
        title=title,
        source=source,
        command=command,
        functions=functions,
        rewrites=rewrites,
        helpers=helpers,
        helper_names=dict(helpers),
        np=np,
        array_api=array_api is not None,
        namespace=array_api[0] if array_api else "",
        uses_math=bool(array_api and "math" in array_api[1]),
        uses_itertools=bool(array_api and "itertools" in array_api[1]),
        extra=array_api[2] if array_api and "xpx" in array_api[1] else None,
        floats_only=bool(array_api and "floats_only" in array_api[1]),
        array_type=types[0],
        any_type=types[1],
        int_array_type=types[2] if len(types) > 2 else None,
        notes=notes,
    )
