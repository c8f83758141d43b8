"""Where ``gradgen check`` and ``check_grads`` take their inputs from: per-parameter
domains (``--domain x=positive``, ``p=0..1``, ``x=nonzero``, ``k=int:0..9``) and values
loaded from an ``.npz`` file (``--inputs values.npz``).

``parse_domains(specs)`` takes the ``--domain`` strings (or the ``domains=`` dict of
``check_grads``) and returns {parameter: ``Domain``}, or raises a one-line
``GradgenError``; it imports nothing heavy, so a bad domain fails before SymPy loads.
``load_npz(path)`` returns the arrays of a file by name. ``settle(targets, domains,
inputs)`` checks both against the targets' parameters and returns the dimension sizes the
given arrays fix. ``draw(targets' parameter, shape, domain, rng)`` draws one argument.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gradgen.errors import GradgenError

HINT = (
    "write NAME=DOMAIN, DOMAIN one of positive, negative, nonzero, LOW..HIGH "
    "(e.g. p=0..1) or int:LOW..HIGH, separated by commas or repeated"
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^(int:)?\s*({_NUMBER})\s*\.\.\s*({_NUMBER})$")
MARGIN = 0.05  # ranges are drawn from their middle 90%: away from their ends


@dataclass(frozen=True)
class Domain:
    """The values one parameter takes: ``kind`` is positive, negative, nonzero, range
    (``low`` to ``high``) or int (integers from ``low`` to ``high``, both included)."""

    kind: str
    low: float = 0.0
    high: float = 0.0

    def __str__(self) -> str:
        if self.kind == "range":
            return f"{self.low:g}..{self.high:g}"
        if self.kind == "int":
            return f"int:{self.low:g}..{self.high:g}"
        return self.kind

    def draw(self, shape, rng):
        """Values of this domain: magnitudes e^N(0, 1/2) (about 0.4 to 2.7) for positive,
        negative and nonzero (random signs); uniform on the middle 90% of a range;
        uniform integers of an int range."""
        if self.kind == "int":
            return rng.integers(
                int(self.low), int(self.high), size=shape, endpoint=True
            )
        if self.kind == "range":
            pad = MARGIN * (self.high - self.low)
            return rng.uniform(self.low + pad, self.high - pad, size=shape)
        magnitude = rng.lognormal(0.0, 0.5, size=shape)
        if self.kind == "positive":
            return magnitude
        if self.kind == "negative":
            return -magnitude
        return magnitude * rng.choice([-1.0, 1.0], size=shape)


def parse_domain(name: str, text: str) -> Domain:
    text = text.strip()
    if text in ("positive", "negative", "nonzero"):
        return Domain(text)
    match = _RANGE.match(text)
    if match:
        low, high = float(match.group(2)), float(match.group(3))
        integer = bool(match.group(1))
        if integer and not (low.is_integer() and high.is_integer()):
            raise GradgenError(
                f"--domain {name}={text}: the ends of an int range are integers",
                hint=HINT,
            )
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise GradgenError(
                f"--domain {name}={text}: LOW..HIGH needs LOW < HIGH", hint=HINT
            )
        return Domain("int" if integer else "range", low, high)
    raise GradgenError(f"--domain {name}={text}: unknown domain {text!r}", hint=HINT)


def _items(specs) -> list[tuple[str, str]]:
    """(name, domain text) from ``--domain`` strings, each ``a=x,b=y``."""
    items = []
    for spec in [specs] if isinstance(specs, str) else specs:
        for part in spec.split(","):
            if not part.strip():
                continue
            name, equals, text = part.partition("=")
            if not equals or not name.strip().isidentifier() or not text.strip():
                raise GradgenError(f"--domain: cannot read {part.strip()!r}", hint=HINT)
            items.append((name.strip(), text))
    return items


def parse_domains(specs) -> dict[str, Domain]:
    """{parameter: Domain} from ``--domain`` strings, or from a dict of parameter to a
    domain's text (``"positive"``, ``"0..1"``), a (low, high) pair or a ``Domain``."""
    if not specs:
        return {}
    if isinstance(specs, dict):
        items = list(specs.items())
    else:
        items = _items(specs)
    domains: dict[str, Domain] = {}
    for name, value in items:
        if name in domains:
            raise GradgenError(f"--domain gives {name} twice", hint=HINT)
        if isinstance(value, Domain):
            domains[name] = value
        elif isinstance(value, tuple) and len(value) == 2:
            domains[name] = parse_domain(name, f"{value[0]}..{value[1]}")
        elif isinstance(value, str):
            domains[name] = parse_domain(name, value)
        else:
            raise GradgenError(
                f"domains: {name} maps to {type(value).__name__}", hint=HINT
            )
    return domains


def load_npz(path: str, option: str = "--inputs") -> dict:
    """The arrays of an ``.npz`` file (``numpy.savez``), by name."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise GradgenError(
            f"cannot read the inputs {path}: {reason}",
            path,
            hint=f"{option} takes an .npz file from numpy.savez, one array per "
            "parameter",
        ) from None


def _params(targets) -> dict:
    """{parameter name: (target, parameter)}, the first target naming it."""
    found: dict = {}
    for t in targets:
        for p in t.params:
            found.setdefault(p.name, (t, p))
    return found


def _unknown(what: str, name: str, params: dict, targets) -> GradgenError:
    t = targets[0]
    return GradgenError(
        f"{what} names {name!r}, which is not a parameter of "
        + ", ".join(
            f"{u.name}({', '.join(p.name for p in u.params)})" for u in targets
        ),
        t.model.path,
        t.line,
        hint=f"the parameters: {', '.join(params)}",
    )


def settle(targets, domains: dict, inputs: dict) -> dict[str, int]:
    """Check the domains and the given arrays against the targets' parameters; return
    the sizes of the dimension names that the given arrays fix."""
    params = _params(targets)
    for name, domain in domains.items():
        if name not in params:
            raise _unknown("--domain", name, params, targets)
        if domain.kind == "int":  # every parameter is real-valued for now
            t, p = params[name]
            dims = ", ".join(str(d) if d.is_Integer else f'"{d}"' for d in p.shape)
            kind = f"an array of floats, Array[{dims}]" if p.shape else "a float"
            raise GradgenError(
                f"--domain {name}=int:...: {name} is {kind}; integer ranges are for "
                "integer parameters",
                t.model.path,
                t.line,
                hint=f"give {name} a real range instead, e.g. --domain "
                f"{name}={domain.low:g}..{domain.high:g}",
            )
    sizes: dict[str, tuple[int, str]] = {}  # dimension name -> (size, from which array)
    for name, value in inputs.items():
        if name not in params:
            raise _unknown("--inputs", name, params, targets)
        t, p = params[name]
        problem = _misfit(p, tuple(getattr(value, "shape", ())), sizes)
        if problem:
            raise GradgenError(
                f"--inputs gives {name} the shape {problem}",
                t.model.path,
                t.line,
                hint="make the sizes agree with the annotations",
            )
    return {name: size for name, (size, _) in sizes.items()}


def _misfit(p, shape: tuple, sizes: dict) -> str | None:
    """What is wrong with ``shape`` for parameter ``p`` (None if it fits); records the
    sizes it fixes in ``sizes``."""
    dims = ", ".join(str(d) for d in p.shape) + ("," if len(p.shape) == 1 else "")
    declared = f"({dims})" if p.shape else "a float"
    if len(shape) != len(p.shape):
        return f"{shape}; expected {declared}"
    for d, n in zip(p.shape, shape):
        if d.is_Integer and int(d) != n:
            return f"{shape}; expected {declared}"
        if not d.is_Integer:
            size, source = sizes.setdefault(d.name, (n, p.name))
            if size != n:
                return f"{shape}; expected {declared}, {d} = {size} (from {source})"
    return None
