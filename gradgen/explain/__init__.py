"""The math shown to people: formulas in text and LaTeX (``notation``, ``latex``), the chain
rule path by path (``chain``, ``paths``), the graph, pictures, MathML and ``gradgen report``.
"""
