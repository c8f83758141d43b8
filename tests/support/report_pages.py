"""The reports of the examples, as ``gradgen report`` writes them (built once per test
session: the ``report_pages`` fixture in conftest.py).

The named points of the examples (the CS231n sigmoid gate, the sigmoid split into f, g, h,
i at z = 1, the trained XOR net) and, for every other example, seeded random inputs saved
as an .npz file, as a user would give them with --at.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradcheck import DRIVERS, ROOT
from gradgen.checking.check import choose_dims, shapes_of
from gradgen.cli.commands import main
from gradgen.frontend.model_file import find_targets, load_model

EXAMPLES = ROOT / "examples"
GATE_POINT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
NAMED = {  # page name -> (model, arguments)
    "gate": ("gate.py", ["--at", GATE_POINT]),
    "sigmoid": ("sigmoid.py", ["--function", "sigmoid", "--at", "z=1"]),
    "xor": ("xor.py", ["--at", str(EXAMPLES / "xor_trained.npz")]),
}


def models() -> list[Path]:
    """The example files that define compile targets."""
    return [p for p in sorted(EXAMPLES.glob("*.py")) if p.stem not in DRIVERS]


def random_point(model: Path, folder: Path, functions=None) -> Path:
    """Seeded standard-normal inputs for every parameter of the model's targets; 0 and
    1 for integer data (an index into any axis of two or more)."""
    targets = find_targets(load_model(str(model)), functions)
    sizes = choose_dims(targets, None)
    rng = np.random.default_rng(0)
    arrays = {}
    for target in targets:
        for p, shape in zip(target.params, shapes_of(target, sizes)):
            value = rng.integers(0, 2, shape) if p.integer else rng.normal(size=shape)
            arrays.setdefault(p.name, value)
    path = folder / f"{model.stem}_{'_'.join(functions or [])}.npz"
    np.savez(path, **arrays)
    return path


def _arguments(folder: Path) -> dict:
    pages = {name: (EXAMPLES / m, args) for name, (m, args) in NAMED.items()}
    for model in models():
        if model.stem not in pages:
            pages[model.stem] = (model, ["--at", str(random_point(model, folder))])
    array = ["sigmoid_array"]  # the other target of sigmoid.py: an array output
    point = random_point(EXAMPLES / "sigmoid.py", folder, array)
    pages["sigmoid_array"] = (
        EXAMPLES / "sigmoid.py",
        ["--function", array[0], "--at", str(point)],
    )
    return pages


def build(folder: Path) -> dict[str, Path]:
    """Page name -> the HTML file ``gradgen report`` wrote for it, in ``folder``."""
    out = {}
    for name, (model, args) in _arguments(folder).items():
        path = folder / f"{name}.html"
        assert main(["report", str(model), *args, "-o", str(path)]) == 0, name
        out[name] = path
    return out
