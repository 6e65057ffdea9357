"""Pictures of data: a convolution's filters, and the feature maps a model computes, as grids of images.

Needs matplotlib, an optional extra (``pip install 'minigrad[plots]'``); it is imported only
when a picture is drawn, so ``import minigrad`` works without it. Each function returns a
``matplotlib.figure.Figure`` made without pyplot (no window opens, no figure stays
registered): Jupyter shows it inline, ``fig.savefig("filters.png")`` writes it.

Every image is scaled symmetrically around 0 by its own largest magnitude,

    s = a / max|a| ∈ [−1, 1]   (an all-zero image stays 0),

and drawn with the colormap's ends at −1 and +1, so 0 is the middle colour and a weight's
sign can be seen (with "gray": negative dark, zero mid-grey, positive light).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.nn import Conv2d, ConvTranspose2d, LocallyConnected2d, Module
from minigrad.state import no_grad
from minigrad.tensor import Tensor, is_int
from minigrad.tensor_functions import as_tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CONV_LAYERS = (Conv2d, ConvTranspose2d, LocallyConnected2d)  # whose outputs feature_maps draws by default


def _figure() -> Figure:
    """A new matplotlib Figure; ImportError naming the extra when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("minigrad.viz.filters and feature_maps draw with matplotlib, an optional extra: "
                          "pip install 'minigrad[plots]'") from err
    return Figure(layout="constrained")


def _symmetric(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """a / max|a|, the maximum taken over ``axes`` (each image by its own scale); zeros where max|a| = 0."""
    peak = np.abs(a).max(axis=axes, keepdims=True)
    return np.divide(a, peak, out=np.zeros(a.shape), where=peak > 0)


def _grid(images: Sequence[np.ndarray], title: str, ncols: int | None, cmap: str) -> Figure:
    """One small axes per image, row by row, titled by its index: 2-d images in [−1, 1] through
    ``cmap`` (−1 and 1 at its ends), (H, W, 3) images as RGB in [0, 1]."""
    if ncols is not None and (not is_int(ncols) or isinstance(ncols, bool) or ncols < 1):
        raise ValueError(f"ncols must be a positive integer or None, got {ncols!r}")
    ncols = min(int(ncols or math.ceil(math.sqrt(len(images)))), len(images))
    nrows = math.ceil(len(images) / ncols)
    fig = _figure()
    fig.set_size_inches(max(1.2 * ncols, 3.0), 1.2 * nrows + 0.4)
    fig.suptitle(title, fontsize=9)
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.imshow(image, cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest")  # (RGB ignores the three)
        ax.set_title(str(i), fontsize=7)
        ax.set_axis_off()
    return fig


def _filter_images(w: np.ndarray) -> list[np.ndarray]:
    """Filter o of a weight (O, C, kH, kW) as one image: C = 1 its only channel, C = 3 an RGB
    image (the three channels scaled together, then s ↦ (s + 1)/2 so 0 is mid-grey), any other
    C the mean over channels (the filter's response to an input equal in every channel)."""
    channels = w.shape[1]
    if channels == 3:
        return list((_symmetric(w, (1, 2, 3)).transpose(0, 2, 3, 1) + 1) / 2)
    return list(_symmetric(w.mean(axis=1), (1, 2)))


def filters(weight: Any, ncols: int | None = None, cmap: str = "gray") -> Figure:
    """A grid of a convolution's filters, one image per output channel.

    ``weight`` is (O, C, kH, kW) (a Conv2d's ``weight``, a Tensor or an array). Each filter
    is scaled by its own max|w| (see the module's docstring): with C = 1 the image is the
    filter itself, with C = 3 it is drawn in colour (the channels read as R, G, B), with any
    other C it is the mean over the C input channels. ``ncols`` defaults to ⌈√O⌉.
    """
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"filters: expected a convolution weight (out_channels, in_channels, kH, kW), got {w.shape}")
    o, c, kh, kw = w.shape
    return _grid(_filter_images(w), f"{o} filters of {c}×{kh}×{kw}", ncols, cmap)


def _layers(model: Module, layer: str | None) -> dict[str, Module]:
    """The layer named by its path ("features.0"), or every convolution layer when ``layer`` is None."""
    modules = dict(model.named_modules())
    if layer is None:
        found: dict[str, Module] = {path: m for path, m in modules.items() if isinstance(m, CONV_LAYERS)}
        if not found:
            raise ValueError("feature_maps: the model has no convolution layer; name a layer with layer=")
        return found
    if layer not in modules:
        raise ValueError(f"feature_maps: the model has no layer {layer!r}; its layers are "
                         f"{', '.join(p for p in modules if p)}")
    return {layer: modules[layer]}


def _recorder(outputs: dict[str, Any], path: str) -> Callable[[Module, tuple, Any], None]:
    """A forward hook that stores the module's output under ``path`` (the last call's, if called again)."""
    def record(module: Module, inputs: tuple, output: Any) -> None:
        outputs[path] = output
    return record


def _capture(model: Module, x: Tensor, layers: dict[str, Module]) -> dict[str, Any]:
    """Each layer's output for x, from one forward in evaluation mode without a graph.

    Evaluation mode means batch norm reads its running statistics (and does not update them)
    and dropout is off; every module's own mode is restored afterwards, and the hooks removed.
    """
    outputs: dict[str, Any] = {}
    modes = [(m, m.training) for m in model.modules()]
    removers = [m.register_forward_hook(_recorder(outputs, path)) for path, m in layers.items()]
    model.eval()
    try:
        with no_grad():
            model(x)
    finally:
        for remove in removers:
            remove()
        for m, training in modes:
            m.training = training
    missing = [path for path in layers if path not in outputs]
    if missing:
        raise ValueError(f"feature_maps: the model's forward never called {', '.join(missing)}")
    return outputs


def feature_maps(model: Module, x: Any, layer: str | None = None, ncols: int | None = None,
                 cmap: str = "gray") -> Figure | dict[str, Figure]:
    """Runs one image x (1, C, H, W) through ``model`` and draws a layer's output channels as images.

    ``layer`` is a path as ``model.named_modules()`` gives it ("features.0"): that layer's
    output (1, C', H', W') is drawn as a grid of C' images, each scaled by its own max|a|.
    With ``layer=None`` every convolution layer (Conv2d, ConvTranspose2d, LocallyConnected2d)
    is drawn, and the result is a dict {path: Figure}. The forward runs in evaluation mode
    under ``no_grad``, with forward hooks that are removed afterwards: the model's parameters,
    batch norm's running statistics and every module's train/eval mode are left as they were.
    """
    x = as_tensor(x, "feature_maps")
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"feature_maps: expected one image of shape (1, C, H, W), got {x.shape}")
    figures = {}
    for path, out in _capture(model, x, _layers(model, layer)).items():
        if not isinstance(out, Tensor) or out.ndim != 4:
            raise ValueError(f"feature_maps: layer {path!r} gives {getattr(out, 'shape', type(out).__name__)}, "
                             "not feature maps (1, C, H, W)")
        maps = out.data[0].astype(np.float64)
        figures[path] = _grid(list(_symmetric(maps, (1, 2))), f"{path}: {len(maps)} maps of "
                              f"{maps.shape[1]}×{maps.shape[2]}", ncols, cmap)
    return figures if layer is None else figures[layer]


__all__ = ["feature_maps", "filters"]
