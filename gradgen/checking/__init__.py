"""Numbers against numbers: central differences, tolerances and input domains, ``gradgen
check`` and the tests ``--emit-test`` writes."""
