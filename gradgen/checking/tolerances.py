"""The step and tolerances of the numeric checks (``finite_differences.py``), in a module that
imports nothing, so that ``gradgen check --help`` can quote them without loading NumPy.
``gradgen compile --emit-test`` copies the lines below the marker into the test it writes.
"""

# --- copied into emitted tests ---

EPS = 1e-5  # the central-difference step
RTOL = 1e-5  # a check passes when its relative error is at most this
FLOOR = 1e-4  # errors are relative to at least FLOOR * max(1, |value|)
