"""The command line: ``commands.main`` parses and dispatches; one module per command family
(``batch``: compile, ``check``, ``show``: latex/explain/graph/ops), writing outputs safely,
and the process around a command (signals, ``--timeout``)."""
