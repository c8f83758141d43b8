"""From differentiated IR to a module: optimise (CSE, folding), name, print as NumPy, lay
out the functions (first order, modes, dense loops), render the template, format with
black. Where a line of generated code is decided: ``printer.py`` (an expression),
``layout.py`` (its block and comment), ``first_order.py`` and ``builder.py`` (which
statements a function has)."""
