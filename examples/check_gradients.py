"""Fit a tiny two-layer network with minigrad's engine, then check its gradients.

Autograd's gradient of every parameter is printed next to the numerical one (central
differences), element by element: the whole point of backprop is that the two agree.

    python examples/check_gradients.py
"""

import numpy as np

import minigrad as mg


def model(x: mg.Tensor, w1: mg.Tensor, b1: mg.Tensor, w2: mg.Tensor) -> mg.Tensor:
    """y = tanh(x·W1 + b1)·W2"""
    return (x @ w1 + b1).tanh() @ w2


def loss_fn(x: mg.Tensor, y: mg.Tensor, *params: mg.Tensor) -> mg.Tensor:
    """Mean squared error."""
    return ((model(x, *params) - y) ** 2).mean()


def main() -> None:
    mg.manual_seed(0)
    x = mg.randn(64, 2, dtype="float64")
    y = x[:, :1] * x[:, 1:]  # the target: x0·x1
    params = [mg.tensor(mg.randn(2, 8, dtype="float64").data, requires_grad=True, name="w1"),
              mg.tensor(np.zeros(8), requires_grad=True, name="b1"),
              mg.tensor(mg.randn(8, 1, dtype="float64").data, requires_grad=True, name="w2")]

    print("training y = x0·x1 with a 2-8-1 tanh network, plain gradient descent")
    for step in range(301):
        loss = loss_fn(x, y, *params)
        for p in params:
            p.grad = None
        loss.backward()
        with mg.no_grad():
            for p in params:
                p.data -= 0.1 * p.grad.data
        if step % 100 == 0:
            print(f"  step {step:3d}  loss {loss.item():.5f}")

    print("\nautograd vs central differences (first entries of w1 and b1, every entry of w2):")
    loss = loss_fn(x, y, *params)
    analytic = mg.grad(loss, params)
    numeric = mg.numerical_grad(lambda *ps: loss_fn(x, y, *ps), params)
    print(f"  {'parameter':<12}{'autograd':>16}{'numerical':>16}{'|difference|':>16}")
    for p, a, n in zip(params, analytic, numeric, strict=True):
        rows = list(np.ndindex(*p.shape))[: 8 if p.name == "w2" else 2]
        for index in rows:
            diff = abs(a.data[index] - n.data[index])
            print(f"  {p.name + str(list(index)):<12}{a.data[index]:>16.10f}{n.data[index]:>16.10f}{diff:>16.2e}")
    print("\nmg.gradcheck on the whole loss:", mg.gradcheck(lambda *ps: loss_fn(x, y, *ps), params))


if __name__ == "__main__":
    main()
