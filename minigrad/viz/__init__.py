"""Pictures of computation graphs: what a tensor was computed from, and what backward computes.

``to_dot(root)`` gives graphviz DOT text (no graphviz program needed), ``draw(root)`` a
``graphviz.Digraph`` (shown inline in Jupyter), ``render(root, "graph.svg")`` a file.
Each tensor is a box (name, shape, dtype; optionally values and gradients), each primitive
application an oval (name and parameters); parameters, inputs, constants, intermediates and
the output are coloured apart. Options draw the backward graph, cluster or collapse the
nodes by Module call, and cap the picture's size. From a shell::

    python -m minigrad.viz lenet5 --input-shape 1,1,28,28 -o lenet5.svg --collapse
"""

from minigrad.viz.dot import draw, to_dot
from minigrad.viz.files import FORMATS, render

__all__ = ["FORMATS", "draw", "render", "to_dot"]
