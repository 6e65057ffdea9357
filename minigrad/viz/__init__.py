"""Pictures of computation graphs: what a tensor was computed from, and what backward computes.

``to_dot(root)`` gives graphviz DOT text (no graphviz program needed), ``draw(root)`` a
``graphviz.Digraph`` (shown inline in Jupyter), ``render(root, "graph.svg")`` a file.
Each tensor is a box (name, shape, dtype; optionally values and gradients), each primitive
application an oval (name and parameters); parameters, inputs, constants, intermediates and
the output are coloured apart. Options draw the backward graph, cluster or collapse the
nodes by Module call, and cap the picture's size. From a shell::

    python -m minigrad.viz lenet5 --input-shape 1,1,28,28 -o lenet5.svg --collapse

Pictures of data (with matplotlib, the ``plots`` extra): ``filters(conv.weight)`` draws a
convolution's filters as a grid of images, ``feature_maps(model, image)`` the maps its
convolution layers compute for one image.

Backprop step by step: ``trace(L)`` is the table of the steps L's backward runs (``print``
it), ``animate(L, "backprop.html")`` a self-contained page that steps through them on the graph.
"""

from minigrad.viz.animate import Animation, animate
from minigrad.viz.dot import draw, to_dot
from minigrad.viz.files import FORMATS, render
from minigrad.viz.images import feature_maps, filters
from minigrad.viz.trace import Trace, trace

__all__ = ["FORMATS", "draw", "feature_maps", "filters", "render", "to_dot"]
__all__ += ["Animation", "Trace", "animate", "trace"]  # backprop step by step
