"""LeNet-5's training step written by hand in plain numpy: the floor for any numpy engine.

No graph and no autograd: every gradient below was derived on paper. It is the fastest
recipe we know for plain numpy — activations kept channels-first (C, N, H, W), im2col by one
slice copy per kernel offset, one GEMM per product, 2×2 max pooling as np.maximum over four
strided views, float32 throughout, and no input gradient for the first convolution.

Architecture (as ``mg.models.LeNet5``): conv 1→6 5×5 pad 2, ReLU, max-pool 2,
conv 6→16 5×5, ReLU, max-pool 2, 400→120→84→10, cross-entropy, SGD.
"""

import numpy as np


def im2col(x: np.ndarray, k: int, pad: int) -> tuple[np.ndarray, tuple[int, int]]:
    """x (C, N, H, W) → columns (C·k·k, N·H_out·W_out)."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    c, n, h, w = x.shape
    ho, wo = h - k + 1, w - k + 1
    cols = np.empty((c, k, k, n, ho, wo), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, i, j] = x[:, :, i:i + ho, j:j + wo]
    return cols.reshape(c * k * k, n * ho * wo), (ho, wo)


def col2im(dcols: np.ndarray, shape: tuple[int, ...], k: int) -> np.ndarray:
    """The adjoint of im2col (no padding): columns added back by one slice-add per kernel offset."""
    c, n, h, w = shape
    ho, wo = h - k + 1, w - k + 1
    dcols = dcols.reshape(c, k, k, n, ho, wo)
    dx = np.zeros(shape, dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + ho, j:j + wo] += dcols[:, i, j]
    return dx


def pool(x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """2×2/2 max pooling of (C, N, H, W) and the four views' masks for the gradient."""
    views = [x[:, :, i::2, j::2] for i in range(2) for j in range(2)]
    out = np.maximum(np.maximum(views[0], views[1]), np.maximum(views[2], views[3]))
    return out, [v == out for v in views]


def unpool(g: np.ndarray, masks: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    dx = np.empty(shape, g.dtype)
    for (i, j), m in zip([(i, j) for i in range(2) for j in range(2)], masks, strict=True):
        dx[:, :, i::2, j::2] = g * m
    return dx


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    return {"w1": uniform((6, 25), 25), "b1": uniform((6,), 25),
            "w2": uniform((16, 150), 150), "b2": uniform((16,), 150),
            "w3": uniform((400, 120), 400), "b3": uniform((120,), 400),
            "w4": uniform((120, 84), 120), "b4": uniform((84,), 120),
            "w5": uniform((84, 10), 84), "b5": uniform((10,), 84)}


def train_step(p: dict[str, np.ndarray], images: np.ndarray, labels: np.ndarray, lr: float) -> float:
    """Forward, cross-entropy, backward and SGD update for images (N, 1, 28, 28); returns the loss."""
    n = images.shape[0]
    lr = np.float32(lr)
    # forward
    cols1, (h1, w1) = im2col(images.transpose(1, 0, 2, 3), 5, pad=2)
    z1 = (p["w1"] @ cols1).reshape(6, n, h1, w1) + p["b1"][:, None, None, None]
    a1 = np.maximum(z1, 0)
    p1, masks1 = pool(a1)
    cols2, (h2, w2) = im2col(p1, 5, pad=0)
    z2 = (p["w2"] @ cols2).reshape(16, n, h2, w2) + p["b2"][:, None, None, None]
    a2 = np.maximum(z2, 0)
    p2, masks2 = pool(a2)
    f = p2.transpose(1, 0, 2, 3).reshape(n, 400)
    z3 = f @ p["w3"] + p["b3"]
    a3 = np.maximum(z3, 0)
    z4 = a3 @ p["w4"] + p["b4"]
    a4 = np.maximum(z4, 0)
    logits = a4 @ p["w5"] + p["b5"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    # backward: dL/dlogits = (softmax − onehot) / N
    g = np.exp(log_probs)
    g[np.arange(n), labels] -= 1
    g /= np.float32(n)
    grads = {"w5": a4.T @ g, "b5": g.sum(0)}
    g = (g @ p["w5"].T) * (z4 > 0)
    grads |= {"w4": a3.T @ g, "b4": g.sum(0)}
    g = (g @ p["w4"].T) * (z3 > 0)
    grads |= {"w3": f.T @ g, "b3": g.sum(0)}
    g = (g @ p["w3"].T).reshape(n, 16, 5, 5).transpose(1, 0, 2, 3)
    g = unpool(g, masks2, a2.shape) * (z2 > 0)
    g2 = g.reshape(16, -1)
    grads |= {"w2": g2 @ cols2.T, "b2": g2.sum(1)}
    g = col2im(p["w2"].T @ g2, p1.shape, 5)
    g = unpool(g, masks1, a1.shape) * (z1 > 0)
    g1 = g.reshape(6, -1)
    grads |= {"w1": g1 @ cols1.T, "b1": g1.sum(1)}
    for k, v in grads.items():
        p[k] -= lr * v
    return float(loss)
