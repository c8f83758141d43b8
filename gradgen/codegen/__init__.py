"""From differentiated IR to a module: optimise (CSE, folding), name, print as NumPy, lay
out the functions (first order, modes, dense loops), render the template, format with
black. Where a line of generated code is decided: ``printer.py`` (an expression, as NumPy
or as the Array API standard's), ``statements.py`` (the lines of one statement),
``layout.py`` (its block and comment), ``first_order.py`` and ``builder.py`` (which
statements a function has)."""
