"""Classic convolutional networks, built from ``minigrad.nn`` layers, to study and summarize.

Every model follows torchvision's layout where torchvision has the model: a ``features``
Sequential of convolutions and pooling, a ``flatten`` step, then a ``classifier``
Sequential, so layers have paths such as ``features.0`` and ``classifier.6`` and their
parameters names such as ``features.0.weight``. ``print(mg.summary(model, shape))`` shows
each layer's output shape, parameters, receptive field and multiply-adds.

The size of a convolution's or pooling's output, per spatial axis, for input width W,
kernel F, padding P and stride S is

    W_out = (W − F + 2P) / S + 1,

which must be a whole number for the windows to tile the input exactly (``mg.summary``
warns when it is not: the last rows/columns are then never seen).
"""

from __future__ import annotations

from minigrad import nn
from minigrad.tensor import Tensor
from minigrad.tensor_functions import concatenate


class _FeaturesClassifier(nn.Module):
    """features → flatten → classifier: the shape shared by every network in this file."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.flatten = nn.Flatten()
        self.classifier = classifier

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.features(x)))


class LeNet5(_FeaturesClassifier):
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
    recognition", Proc. IEEE 1998) in its common modern form, for 1×28×28 digits → 10 classes.

        features.0  conv 1→6, 5×5, pad 2:   (28 − 5 + 2·2)/1 + 1 = 28  → 6×28×28
        features.2  max pool 2×2, stride 2: (28 − 2)/2 + 1 = 14        → 6×14×14
        features.3  conv 6→16, 5×5:         (14 − 5)/1 + 1 = 10        → 16×10×10
        features.5  max pool 2×2, stride 2: (10 − 2)/2 + 1 = 5         → 16×5×5
        flatten                                                        → 400
        classifier  400 → 120 → 84 → 10

    Parameters: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706. The paper pads the digits to
    32×32 instead of padding conv1, squashes with a scaled tanh, subsamples with trained
    averages and connects C3 to only some S2 maps; here every map is connected, pooling
    takes the maximum and the activation is ReLU, which trains faster from a random start.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__(
            nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, num_classes)))


class AlexNet(_FeaturesClassifier):
    """AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep
    convolutional neural networks", NeurIPS 2012) as one tower on 3×227×227 images.

        features.0   conv 3→96, 11×11, stride 4:  (227 − 11)/4 + 1 = 55    → 96×55×55
        features.2   local response normalization (size 5)
        features.3   max pool 3×3, stride 2:      (55 − 3)/2 + 1 = 27      → 96×27×27
        features.4   conv 96→256, 5×5, pad 2:     (27 − 5 + 2·2)/1 + 1 = 27 → 256×27×27
        features.6   local response normalization
        features.7   max pool 3×3, stride 2:      (27 − 3)/2 + 1 = 13      → 256×13×13
        features.8   conv 256→384, 3×3, pad 1     → 384×13×13
        features.10  conv 384→384, 3×3, pad 1     → 384×13×13
        features.12  conv 384→256, 3×3, pad 1     → 256×13×13
        features.14  max pool 3×3, stride 2:      (13 − 3)/2 + 1 = 6       → 256×6×6
        flatten                                   → 9,216
        classifier   9,216 → 4,096 → 4,096 → num_classes, dropout 0.5 after the first two

    The paper's figure says 224×224, but 11×11 filters with stride 4 give 55×55 only on 227
    (on 224, (224 − 11)/4 is not whole: ``mg.summary`` flags it). The pooling windows (3×3)
    are wider than their stride (2): "overlapping pooling". The paper splits conv2, conv4
    and conv5 across two GPUs (each filter sees half the channels); this single tower
    connects them fully, which gives 62,378,344 parameters.

    Normalization, as in the paper, divides a_i by (k + α Σ a_j²)^β over 5 neighbouring
    channels with k = 2, α = 10⁻⁴, β = 0.75. ``nn.LocalResponseNorm`` follows PyTorch and
    divides α by the size, so the paper's α on the plain sum is alpha = 5 · 10⁻⁴ here.
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__(
            nn.Sequential(nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), _paper_lrn(), nn.MaxPool2d(3, stride=2),
                          nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), _paper_lrn(), nn.MaxPool2d(3, stride=2),
                          nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2)),
            _fully_connected(256 * 6 * 6, num_classes))


def _paper_lrn() -> nn.LocalResponseNorm:
    size = 5
    return nn.LocalResponseNorm(size, alpha=size * 1e-4, beta=0.75, k=2.0)


def _fully_connected(in_features: int, num_classes: int) -> nn.Sequential:
    """AlexNet's and VGG's head: two 4,096-unit ReLU layers, each followed by dropout 0.5."""
    return nn.Sequential(nn.Linear(in_features, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, num_classes))


class VGG16(_FeaturesClassifier):
    """VGG-16, configuration D of Simonyan & Zisserman, "Very deep convolutional networks for
    large-scale image recognition", ICLR 2015, on 3×224×224 images.

    Only 3×3 convolutions with padding 1, which keep the size ((W − 3 + 2·1)/1 + 1 = W), and
    2×2 max pooling with stride 2, which halves it: 224 → 112 → 56 → 28 → 14 → 7.

        block 1   2 × conv 64,  pool  → 64×112×112
        block 2   2 × conv 128, pool  → 128×56×56
        block 3   3 × conv 256, pool  → 256×28×28
        block 4   3 × conv 512, pool  → 512×14×14
        block 5   3 × conv 512, pool  → 512×7×7
        flatten                       → 25,088
        classifier 25,088 → 4,096 → 4,096 → num_classes, dropout 0.5 after the first two

    Two stacked 3×3 convolutions see 5×5 and three see 7×7, with fewer parameters and more
    nonlinearities than one large filter. 138,357,544 parameters; the receptive field at the
    last pooling layer is 212 pixels.
    """

    # out_channels of a 3×3 convolution, or "M" for a 2×2 max pooling
    config: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                                     512, 512, 512, "M")

    def __init__(self, num_classes: int = 1000) -> None:
        layers: list[nn.Module] = []
        channels = 3
        for v in self.config:
            if isinstance(v, int):
                layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU()]
                channels = v
            else:  # "M"
                layers.append(nn.MaxPool2d(2, stride=2))
        super().__init__(nn.Sequential(*layers), _fully_connected(512 * 7 * 7, num_classes))


class SimpleCNN(_FeaturesClassifier):
    """The smallest useful convolutional network, [INPUT – CONV – RELU – POOL – FC], for
    3×32×32 images (CS231n, "Convolutional Neural Networks for Visual Recognition",
    the CIFAR-10 example architecture).

        features.0  conv 3→12, 3×3, pad 1:  (32 − 3 + 2·1)/1 + 1 = 32  → 12×32×32
        features.1  ReLU
        features.2  max pool 2×2, stride 2: (32 − 2)/2 + 1 = 16        → 12×16×16
        flatten                                                        → 3,072
        classifier  3,072 → num_classes

    Parameters: 12·(3·3·3) + 12 = 336 in the convolution, 3,072·10 + 10 = 30,730 in the head.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__(nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
                         nn.Sequential(nn.Linear(12 * 16 * 16, num_classes)))


class InceptionBlock(nn.Module):
    """GoogLeNet's Inception module (Szegedy et al., "Going deeper with convolutions", CVPR 2015).

    Four branches look at the same input at different scales; 1×1 convolutions first shrink
    the channels ("bottlenecks") so that the 3×3 and 5×5 filters stay cheap:

        branch1  1×1 conv → ch1x1
        branch2  1×1 conv → ch3x3red, 3×3 conv (pad 1) → ch3x3
        branch3  1×1 conv → ch5x5red, 5×5 conv (pad 2) → ch5x5
        branch4  3×3 max pool (stride 1, pad 1), 1×1 conv → pool_proj

    Every convolution has a bias and is followed by ReLU. Padding keeps H×W in every branch
    ((W − 3 + 2·1)/1 + 1 = W, (W − 5 + 2·2)/1 + 1 = W), so the outputs concatenate on the
    channel axis, in this order: ch1x1 + ch3x3 + ch5x5 + pool_proj channels. Block 3a of
    GoogLeNet is ``InceptionBlock(192, 64, 96, 128, 16, 32, 32)`` (28×28, 192 → 256 channels).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(*_conv_relu(in_channels, ch1x1, 1))
        self.branch2 = nn.Sequential(*_conv_relu(in_channels, ch3x3red, 1), *_conv_relu(ch3x3red, ch3x3, 3))
        self.branch3 = nn.Sequential(*_conv_relu(in_channels, ch5x5red, 1), *_conv_relu(ch5x5red, ch5x5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *_conv_relu(in_channels, pool_proj, 1))

    def forward(self, x: Tensor) -> Tensor:
        return concatenate([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], axis=1)


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int) -> tuple[nn.Module, nn.Module]:
    """A size-keeping convolution (padding (F − 1)/2) and its ReLU."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2), nn.ReLU()
