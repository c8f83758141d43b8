"""The variant rows a run times beside each workload's implementations, and their ratios.

Besides ``gradgen v+g no checks`` (peers.py: the model compiled with ``checks=False``, no
``check_inputs`` call at entry; checked ÷ unchecked is what the entry check costs),
``variant_impls(workload, args, params, source, baseline)`` returns, for the generated
module's ``source`` and the workload's (float64) arguments:

- ``gradgen v+g f32`` and ``hand-written v+g f32``: the same functions on float32 copies of
  the array arguments (not for workloads on Python floats), whose value and gradients must
  be float32 and agree with the float64 ones to float32's precision; f32 ÷ f64 is what
  single precision gains; with ``baseline`` (the source of an earlier module, run.py's
  ``--compare``) also ``gradgen v+g (before) f32``, reported rather than failed if it does
  not keep float32 or agree;
- ``gradgen v+g A/A``: the default value+grad again, from a second copy of the same module,
  timed as an entry of its own: its ratio to the first is what noise alone gives.

``ratios(samples)`` computes each paired ratio of ``RATIOS`` whose two rows were timed,
``table(results)`` prints them, and ``dtype_problem(out, dtype)`` says which output is not
of the float type a row must return.
"""

from __future__ import annotations

import numpy as np

from peers import BASELINE, GENERATED, HAND, UNCHECKED_LABEL, Impl, generated_impls
from timing import paired_ratio

UNCHECKED = GENERATED + UNCHECKED_LABEL
GENERATED_F32, HAND_F32 = GENERATED + " f32", HAND + " f32"
AA = GENERATED + " A/A"
BEFORE = GENERATED + BASELINE
BEFORE_F32 = BEFORE + " f32"
F32_RTOL = 1e-4  # float32 keeps about 7 digits; sums over hundreds of terms lose some

# (label, numerator row, denominator row): each a median over rounds of paired ratios.
RATIOS = [
    ("checked÷unchecked", GENERATED, UNCHECKED),
    ("A/A", AA, GENERATED),
    ("gen f32÷f64", GENERATED_F32, GENERATED),
    ("hand f32÷f64", HAND_F32, HAND),
    ("gen÷hand f32", GENERATED_F32, HAND_F32),
    ("before f32÷f64", BEFORE_F32, BEFORE),
    ("gen÷before", GENERATED, BEFORE),
    ("unchecked÷before", UNCHECKED, BEFORE),
]


def float32(args: list) -> list | None:
    """The arguments with every array made float32; None if there is no array."""
    if not any(isinstance(a, np.ndarray) for a in args):
        return None
    return [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args]


def variant_impls(
    workload, args: list, params: list[str], source: str, baseline: str | None = None
) -> list[Impl]:
    impls = [generated_impls(workload, args, params, source, " A/A")[1]]
    args32 = float32(args)
    if args32 is None:
        return impls
    hand = workload.handwritten
    impls += [
        generated_impls(workload, args32, params, source, " f32")[1],
        Impl(HAND_F32, lambda: hand(*args32)),
    ]
    if baseline is not None:
        before = generated_impls(workload, args32, params, baseline, BASELINE + " f32")
        before[1].experimental = True
        impls.append(before[1])
    for impl in impls[1:]:
        impl.rtol, impl.dtype = F32_RTOL, np.float32
    return impls


def dtype_problem(out: tuple, dtype) -> str | None:
    """None if the value (unless None) and every gradient of ``out`` are of ``dtype``."""
    value, grads = out
    named = [("value", value)] if value is not None else []
    named += [(f"gradient {i + 1}", g) for i, g in enumerate(grads)]
    for what, x in named:
        got = np.asarray(x).dtype
        if got != dtype:
            return f"{what} is {got}, not {np.dtype(dtype)}"
    return None


def ratios(samples: dict, pairs: list = RATIOS) -> dict:
    """The paired ratio of each (label, numerator, denominator) of ``pairs`` whose two
    rows were timed."""
    return {
        label: paired_ratio(samples[a], samples[b])
        for label, a, b in pairs
        if a in samples and b in samples
    }


def table(results: list[dict], pairs: list = RATIOS, key: str = "ratios") -> str:
    """Per workload, every ratio of ``pairs`` that any workload has (in its result's
    ``key``): median [IQR]."""
    labels = [label for label, _, _ in pairs if any(label in r[key] for r in results)]
    width = max([18] + [len(label) for label in labels])
    lines = [f"{'workload':>13}  " + "  ".join(f"{h:>{width}}" for h in labels)]
    for result in results:
        cells = []
        for label in labels:
            r = result[key].get(label)
            cells.append(
                f"{r['median']:.3f} [{r['q1']:.2f}-{r['q3']:.2f}]" if r else "-"
            )
        lines.append(
            f"{result['name']:>13}  " + "  ".join(f"{c:>{width}}" for c in cells)
        )
    return "\n".join(lines)
