"""Numbers against numbers: central differences and their tolerances, ``gradgen check``
and the tests ``--emit-test`` writes (their inputs come from ``gradgen/domains.py``)."""
