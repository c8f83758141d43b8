"""What to write instead of a NumPy call gradgen does not trace, where a rewrite with the
operations it does trace exists: the hint of the refusal (``file:line: error: np.cbrt is
not supported (write np.sign(x) * np.abs(x) ** (1 / 3))``).

Fills ``dispatch.REWRITES``, by the name the refusal gives (``np.cbrt``,
``np.add.reduce``); a call with no entry gets the hint to look at ``gradgen ops``.
"""

from __future__ import annotations

from gradgen import dispatch

_NEVER_NAN = "a traced value is never nan: write {} instead"

REWRITES = {
    "np.cbrt": "write np.sign(x) * np.abs(x) ** (1 / 3)",
    "np.reciprocal": "write 1 / x",
    "np.float_power": "write x ** y",
    "np.round": "write np.floor(x + 0.5); its derivative is 0, as rounding's",
    "np.around": "write np.floor(x + 0.5); its derivative is 0, as rounding's",
    "np.rint": "write np.floor(x + 0.5); its derivative is 0, as rounding's",
    "np.trunc": "write np.sign(x) * np.floor(np.abs(x))",
    "np.fix": "write np.sign(x) * np.floor(np.abs(x))",
    "np.fmod": "write x - y * np.sign(x / y) * np.floor(np.abs(x / y))",
    "np.divmod": "write (x // y, x % y)",
    "np.copysign": "write np.abs(x) * np.sign(y)",
    "np.heaviside": "write np.where(x > 0, 1.0, 0.0); its derivative is 0",
    "np.sinc": "write np.sin(np.pi * x) / (np.pi * x)",
    "np.ldexp": "write x * 2.0 ** e",
    "np.count_nonzero": "write np.sum(x != 0)",
    "np.any": "write np.sum(condition) > 0",
    "np.all": "write np.sum(condition) == condition.size",
    "np.average": "write np.sum(w * x) / np.sum(w), or np.mean(x)",
    "np.ptp": "write np.max(x) - np.min(x)",
    "np.nan_to_num": "a traced value is never nan: leave it out, or bound it with "
    "np.clip",
    "np.add.reduce": "write np.sum(x, axis=...)",
    "np.multiply.reduce": "write np.prod(x, axis=...)",
    "np.maximum.reduce": "write np.max(x, axis=...)",
    "np.minimum.reduce": "write np.min(x, axis=...)",
    "np.add.accumulate": "write np.cumsum(x, axis=...)",
    "np.multiply.accumulate": "write np.cumprod(x, axis=...)",
    "np.add.outer": "broadcast: x[:, None] + y[None, :]",
    "np.subtract.outer": "broadcast: x[:, None] - y[None, :]",
    "np.multiply.outer": "broadcast: x[:, None] * y[None, :]",
}
REWRITES |= {
    f"np.nan{name}": _NEVER_NAN.format(f"np.{name}")
    for name in ("sum", "mean", "max", "min", "prod", "var", "std", "cumsum", "cumprod")
}

dispatch.REWRITES.update(REWRITES)
