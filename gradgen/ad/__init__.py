"""The calculus over the IR: stable rewrites before differentiating, the reverse sweep
(gradients), the forward sweep (tangents) and the elementwise partials both use. Each
structural operation's own VJP and JVP rules live with it in ``gradgen/ops``."""
