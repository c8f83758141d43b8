"""Reading a model: its file, its targets and annotations, its branches rewritten, and
tracing a target into the IR (``trace.py``, on ``traced.Tracer`` arguments)."""
