"""Steepest descent on the bowl f(w1, w2) = w1^2 + w2^2 / 2 with the generated gradient.

From (1, 1) with step size 1 the walk is (1, 1) -> (-1, 0) -> (1, 0): the step is too large
for the w1 direction, so w1 overshoots back and forth while w2 lands on 0 at once.

    gradgen compile examples/bowl.py      # writes generated/bowl.py
    python examples/descent.py
"""

import sys
from pathlib import Path


def main(steps=2, rate=1.0):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from generated.bowl import f, f_grad

    w1, w2 = 1.0, 1.0
    path = [(w1, w2)]
    print(f"step 0: w = ({w1:g}, {w2:g})  f = {f(w1, w2):g}")
    for step in range(1, steps + 1):
        d1, d2 = f_grad(w1, w2)
        w1, w2 = w1 - rate * d1, w2 - rate * d2
        path.append((w1, w2))
        print(f"step {step}: w = ({w1:g}, {w2:g})  f = {f(w1, w2):g}")
    return path


if __name__ == "__main__":
    main()
