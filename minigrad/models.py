"""Classic convolutional networks, built from ``minigrad.nn`` layers, to study and summarize:
LeNet5, AlexNet (one or two towers), ZFNet, VGG11/13/16/19, GoogLeNet with its InceptionBlock,
and SimpleCNN.

Every chain-shaped model follows torchvision's layout: a ``features`` Sequential of
convolutions and pooling, a ``flatten`` step, then a ``classifier`` Sequential, so layers
have paths such as ``features.0`` and ``classifier.6`` and their parameters names such as
``features.0.weight``; GoogLeNet names its stages as torchvision does (``inception4a``).
``print(mg.summary(model, shape))`` shows each layer's output shape, parameters, receptive
field, multiply-adds and activations.

The size of a convolution's or pooling's output, per spatial axis, for input width W,
kernel F, padding P and stride S is

    W_out = (W − F + 2P) / S + 1,

which must be a whole number for the windows to tile the input exactly (``mg.summary``
warns when it is not: the last rows/columns are then never seen). Each docstring counts the
model's parameters layer by layer: a convolution from C_in to C_out channels with F×F
filters in g groups has (F·F·C_in/g + 1)·C_out (weights and one bias per filter), a
Linear from n to m features (n + 1)·m.
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
    convolutional neural networks", NeurIPS 2012) on 3×227×227 images; one tower by default,
    the paper's two towers with ``groups=2``.

        layer        what                          output size               parameters
        features.0   conv 3→96, 11×11, stride 4    (227 − 11)/4 + 1 = 55     (11·11·3 + 1)·96 = 34,944
        features.2   local response normalization (size 5)
        features.3   max pool 3×3, stride 2        (55 − 3)/2 + 1 = 27
        features.4   conv 96→256, 5×5, pad 2       (27 − 5 + 2·2)/1 + 1 = 27 (5·5·96/g + 1)·256
        features.6   local response normalization
        features.7   max pool 3×3, stride 2        (27 − 3)/2 + 1 = 13
        features.8   conv 256→384, 3×3, pad 1      13                        (3·3·256 + 1)·384 = 885,120
        features.10  conv 384→384, 3×3, pad 1      13                        (3·3·384/g + 1)·384
        features.12  conv 384→256, 3×3, pad 1      13                        (3·3·384/g + 1)·256
        features.14  max pool 3×3, stride 2        (13 − 3)/2 + 1 = 6
        flatten      256·6·6 = 9,216
        classifier   9,216 → 4,096 → 4,096 → 1,000, dropout 0.5 after the first two:
                     (9,216 + 1)·4,096 + (4,096 + 1)·4,096 + (4,096 + 1)·1,000 = 58,631,144

    With g = ``groups`` = 1 (one tower: every filter sees every channel) conv2, conv4 and conv5
    have 614,656, 1,327,488 and 884,992 parameters: 62,378,344 in all. With g = 2, as the
    paper split them across two GPUs (each filter sees the half of the channels on its own
    GPU; conv3 and the classifier still see both halves), they have 307,456, 663,936 and
    442,624: 62,378,344 − 307,200 − 663,552 − 442,368 = 60,965,224, the paper's "60 million".

    The paper's figure says 224×224, but 11×11 filters with stride 4 give 55×55 only on 227
    (on 224, (224 − 11)/4 is not whole: ``mg.summary`` flags it). The pooling windows (3×3)
    are wider than their stride (2): "overlapping pooling".

    Normalization, as in the paper, divides a_i by (k + α Σ a_j²)^β over 5 neighbouring
    channels with k = 2, α = 10⁻⁴, β = 0.75. ``nn.LocalResponseNorm`` follows PyTorch and
    divides α by the size, so the paper's α on the plain sum is alpha = 5 · 10⁻⁴ here.
    """

    def __init__(self, num_classes: int = 1000, groups: int = 1) -> None:
        super().__init__(
            nn.Sequential(nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), _paper_lrn(), nn.MaxPool2d(3, stride=2),
                          nn.Conv2d(96, 256, 5, padding=2, groups=groups), nn.ReLU(), _paper_lrn(),
                          nn.MaxPool2d(3, stride=2),
                          nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(384, 384, 3, padding=1, groups=groups), nn.ReLU(),
                          nn.Conv2d(384, 256, 3, padding=1, groups=groups), nn.ReLU(), nn.MaxPool2d(3, stride=2)),
            _fully_connected(256 * 6 * 6, num_classes))


def _paper_lrn() -> nn.LocalResponseNorm:
    """AlexNet's normalization (size 5, k = 2, α = 10⁻⁴ on the plain sum, β = 0.75)."""
    size = 5
    return nn.LocalResponseNorm(size, alpha=size * 1e-4, beta=0.75, k=2.0)


def _fully_connected(in_features: int, num_classes: int) -> nn.Sequential:
    """AlexNet's, ZFNet's and VGG's head: two 4,096-unit ReLU layers, each followed by dropout 0.5."""
    return nn.Sequential(nn.Linear(in_features, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, num_classes))


class ZFNet(_FeaturesClassifier):
    """ZFNet (Zeiler & Fergus, "Visualizing and understanding convolutional networks", ECCV
    2014; arXiv 2013), the network of the paper's figure 3, on 3×224×224 images.

    It is AlexNet with a smaller, denser first layer — 7×7 filters with stride 2 instead of
    11×11 with stride 4, after the paper's deconvnet pictures showed dead and aliased
    first-layer filters — a stride-2 second layer, one tower (no grouping), and each
    normalization after its pooling:

        layer        what                              output size                 parameters
        features.0   conv 3→96, 7×7, stride 2, pad 1   ⌊(224 − 7 + 2·1)/2⌋ + 1 = 110  (7·7·3 + 1)·96 = 14,208
        features.2   max pool 3×3, stride 2, pad 1     ⌊(110 − 3 + 2·1)/2⌋ + 1 = 55
        features.3   local response normalization
        features.4   conv 96→256, 5×5, stride 2        (55 − 5)/2 + 1 = 26         (5·5·96 + 1)·256 = 614,656
        features.6   max pool 3×3, stride 2, pad 1     ⌊(26 − 3 + 2·1)/2⌋ + 1 = 13
        features.7   local response normalization
        features.8   conv 256→384, 3×3, pad 1          13                          (3·3·256 + 1)·384 = 885,120
        features.10  conv 384→384, 3×3, pad 1          13                          (3·3·384 + 1)·384 = 1,327,488
        features.12  conv 384→256, 3×3, pad 1          13                          (3·3·384 + 1)·256 = 884,992
        features.14  max pool 3×3, stride 2            (13 − 3)/2 + 1 = 6
        classifier   9,216 → 4,096 → 4,096 → 1,000, as AlexNet's       58,631,144

    Total 3,726,464 + 58,631,144 = 62,357,608 parameters. The paper gives the sizes (110, 55,
    26, 13, 6) but not the padding; the paddings above are the ones that reproduce them
    (``mg.summary`` notes that three of the windows then leave one row and column of padding
    unvisited — no input pixel is lost). The paper says "contrast normalized across feature
    maps" without constants; AlexNet's normalization is used.
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__(
            nn.Sequential(nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
                          _paper_lrn(),
                          nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
                          _paper_lrn(),
                          nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2)),
            _fully_connected(256 * 6 * 6, num_classes))


# Simonyan & Zisserman's table 1: the number of 3×3 convolutions in each of the five blocks
# (64, 128, 256, 512 and 512 filters wide) of configurations A, B, D and E.
_VGG_WIDTHS = (64, 128, 256, 512, 512)
_VGG_BLOCKS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


class _VGG(_FeaturesClassifier):
    """A VGG network of ``depth`` weight layers: ``_VGG_BLOCKS[depth]`` convolutions per block."""

    depth: int

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__(_vgg_features(_VGG_BLOCKS[self.depth]), _fully_connected(512 * 7 * 7, num_classes))


def _vgg_features(convs_per_block: tuple[int, ...]) -> nn.Sequential:
    """Blocks of 3×3 convolutions (padding 1, each with its ReLU), each block closed by a 2×2 max pool."""
    layers: list[nn.Module] = []
    channels = 3
    for width, n in zip(_VGG_WIDTHS, convs_per_block, strict=True):
        for _ in range(n):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2, stride=2))
    return nn.Sequential(*layers)


class VGG11(_VGG):
    """VGG-11, configuration A of Simonyan & Zisserman (ICLR 2015): 8 convolutions and 3
    fully connected layers, laid out as ``VGG16`` (see it for the sizes and the classifier).

    A 3×3 convolution c → o has (3·3·c + 1)·o parameters:

        block 1  3→64                        1,792
        block 2  64→128                     73,856
        block 3  128→256, 256→256          295,168 + 590,080
        block 4  256→512, 512→512        1,180,160 + 2,359,808
        block 5  512→512, 512→512        2 × 2,359,808
        convolutions                     9,220,480
        classifier                     123,642,856
        total                          132,863,336
    """

    depth = 11


class VGG13(_VGG):
    """VGG-13, configuration B of Simonyan & Zisserman (ICLR 2015): configuration A with a
    second convolution in blocks 1 and 2, laid out as ``VGG16``.

        block 1  3→64, 64→64                 1,792 + 36,928
        block 2  64→128, 128→128            73,856 + 147,584
        block 3  128→256, 256→256          295,168 + 590,080
        block 4  256→512, 512→512        1,180,160 + 2,359,808
        block 5  512→512, 512→512        2 × 2,359,808
        convolutions                     9,404,992
        classifier                     123,642,856
        total                          133,047,848
    """

    depth = 13


class VGG16(_VGG):
    """VGG-16, configuration D of Simonyan & Zisserman, "Very deep convolutional networks for
    large-scale image recognition", ICLR 2015, on 3×224×224 images.

    Only 3×3 convolutions with padding 1, which keep the size ((W − 3 + 2·1)/1 + 1 = W), and
    2×2 max pooling with stride 2, which halves it: 224 → 112 → 56 → 28 → 14 → 7.

        block 1   2 × conv 64,  pool  → 64×112×112   1,792 + 36,928
        block 2   2 × conv 128, pool  → 128×56×56    73,856 + 147,584
        block 3   3 × conv 256, pool  → 256×28×28    295,168 + 2 × 590,080
        block 4   3 × conv 512, pool  → 512×14×14    1,180,160 + 2 × 2,359,808
        block 5   3 × conv 512, pool  → 512×7×7      3 × 2,359,808
        flatten                       → 25,088       convolutions: 14,714,688
        classifier 25,088 → 4,096 → 4,096 → num_classes, dropout 0.5 after the first two:
                   (25,088 + 1)·4,096 + (4,096 + 1)·4,096 + (4,096 + 1)·1,000 = 123,642,856

    A 3×3 convolution c → o has (3·3·c + 1)·o parameters. Two stacked 3×3 convolutions see
    5×5 and three see 7×7, with fewer parameters and more nonlinearities than one large
    filter. 14,714,688 + 123,642,856 = 138,357,544 parameters; the receptive field at the
    last pooling layer is 212 pixels.
    """

    depth = 16


class VGG19(_VGG):
    """VGG-19, configuration E of Simonyan & Zisserman (ICLR 2015): configuration D with a
    fourth convolution in blocks 3, 4 and 5, laid out as ``VGG16``.

        block 1  3→64, 64→64                 1,792 + 36,928
        block 2  64→128, 128→128            73,856 + 147,584
        block 3  128→256, 3 × 256→256      295,168 + 3 × 590,080
        block 4  256→512, 3 × 512→512    1,180,160 + 3 × 2,359,808
        block 5  4 × 512→512             4 × 2,359,808
        convolutions                    20,024,384
        classifier                     123,642,856
        total                          143,667,240
    """

    depth = 19


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


class GoogLeNet(nn.Module):
    """GoogLeNet (Szegedy et al., "Going deeper with convolutions", CVPR 2015) as in the
    paper's table 1 and figure 3, on 3×224×224 images: every convolution has a bias and a
    ReLU, there is no batch normalization, and the stem has the paper's two local response
    normalizations.

        layer          what                                 output      parameters
        stem.0         conv 3→64, 7×7, stride 2, pad 3      64×112×112  (7·7·3 + 1)·64 = 9,472
        stem.2         max pool 3×3, stride 2, pad 1        64×56×56
        stem.3         local response normalization
        stem.4         conv 64→64, 1×1 (reduce)             64×56×56    (64 + 1)·64 = 4,160
        stem.6         conv 64→192, 3×3, pad 1              192×56×56   (3·3·64 + 1)·192 = 110,784
        stem.8         local response normalization
        stem.9         max pool 3×3, stride 2, pad 1        192×28×28
        inception3a    192 → 64 + 128 + 32 + 32             256×28×28   163,696
        inception3b    256 → 128 + 192 + 96 + 64            480×28×28   388,736
        maxpool3       3×3, stride 2, pad 1                 480×14×14
        inception4a    480 → 192 + 208 + 48 + 64            512×14×14   376,176
        inception4b    512 → 160 + 224 + 64 + 64            512×14×14   449,160
        inception4c    512 → 128 + 256 + 64 + 64            512×14×14   510,104
        inception4d    512 → 112 + 288 + 64 + 64            528×14×14   605,376
        inception4e    528 → 256 + 320 + 128 + 128          832×14×14   868,352
        maxpool4       3×3, stride 2, pad 1                 832×7×7
        inception5a    832 → 256 + 320 + 128 + 128          832×7×7     1,043,456
        inception5b    832 → 384 + 384 + 128 + 128          1024×7×7    1,444,080
        classifier     avg pool 7×7, flatten, dropout 0.4, linear 1,024 → 1,000
                                                                        (1,024 + 1)·1,000 = 1,025,000

    An Inception block c → (1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool proj) has
    (c + 1)·1×1 + (c + 1)·3×3red + (9·3×3red + 1)·3×3 + (c + 1)·5×5red + (25·5×5red + 1)·5×5
    + (c + 1)·pool proj parameters (the block arguments are the paper's table, see the code).
    Total 124,416 + 5,849,136 + 1,025,000 = 6,998,552 parameters.

    With ``aux_logits=True`` two auxiliary classifiers, as the paper trains with, read the
    outputs of 4a (512×14×14) and 4d (528×14×14): avg pool 5×5 stride 3 → 4×4, 1×1 conv → 128
    ((c + 1)·128 = 65,664 or 67,712), linear 2,048 → 1,024 (2,098,176), ReLU, dropout 0.7,
    linear 1,024 → 1,000 (1,025,000): 3,188,840 + 3,190,888 more, 13,378,280 in all. In
    training mode the forward then returns (logits, aux1, aux2) (the paper adds the auxiliary
    losses with weight 0.3); in eval mode only the logits, and the auxiliary heads are not run.

    The paper pools with ceil rounding; padding 1 gives the same sizes (⌊(112 − 3 + 2)/2⌋ + 1
    = 56, …). It gives no normalization constants; those of its reference Caffe model are
    used (size 5, α = 10⁻⁴ divided by the size as ``nn.LocalResponseNorm`` does, β = 0.75, k = 1).
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.ReLU(), _halve(), _caffe_lrn(),
                                  nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(),
                                  _caffe_lrn(), _halve())
        self.inception3a = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = InceptionBlock(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = _halve()
        self.inception4a = InceptionBlock(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = InceptionBlock(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = InceptionBlock(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = InceptionBlock(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = InceptionBlock(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = _halve()
        self.inception5a = InceptionBlock(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = InceptionBlock(832, 384, 192, 384, 48, 128, 128)
        self.aux_logits = aux_logits
        if aux_logits:
            self.aux1 = _auxiliary_classifier(512, num_classes)
            self.aux2 = _auxiliary_classifier(528, num_classes)
        self.classifier = nn.Sequential(nn.AvgPool2d(7, stride=1), nn.Flatten(), nn.Dropout(0.4),
                                        nn.Linear(1024, num_classes))

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        x = self.maxpool3(self.inception3b(self.inception3a(self.stem(x))))
        at_4a = self.inception4a(x)
        at_4d = self.inception4d(self.inception4c(self.inception4b(at_4a)))
        x = self.inception5b(self.inception5a(self.maxpool4(self.inception4e(at_4d))))
        logits = self.classifier(x)
        if self.aux_logits and self.training:
            return logits, self.aux1(at_4a), self.aux2(at_4d)
        return logits


def _halve() -> nn.MaxPool2d:
    """GoogLeNet's 3×3 max pool with stride 2: ⌊(W − 3 + 2·1)/2⌋ + 1 = W/2 for even W."""
    return nn.MaxPool2d(3, stride=2, padding=1)


def _caffe_lrn() -> nn.LocalResponseNorm:
    """GoogLeNet's normalization, as in its reference Caffe model: a / (1 + (10⁻⁴/5) Σ a²)^0.75 over 5 channels."""
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)


def _auxiliary_classifier(in_channels: int, num_classes: int) -> nn.Sequential:
    """GoogLeNet's side head on a 14×14 map: (14 − 5)/3 + 1 = 4, so 128·4·4 = 2,048 features."""
    return nn.Sequential(nn.AvgPool2d(5, stride=3), *_conv_relu(in_channels, 128, 1), nn.Flatten(),
                         nn.Linear(128 * 4 * 4, 1024), nn.ReLU(), nn.Dropout(0.7), nn.Linear(1024, num_classes))
