"""Neural-network layers (``nn.Conv2d``, ``nn.Linear``, …), their function forms (``nn.functional``)
and weight initialisation (``nn.init``), with PyTorch's names and semantics.

Every layer is a composition of minigrad's primitives: none has a hand-written gradient.
"""

from minigrad.nn import functional, init
from minigrad.nn.modules import *  # noqa: F403 (the layers are the package's API)
from minigrad.nn.modules import __all__ as _layers

__all__ = ["functional", "init", *_layers]
