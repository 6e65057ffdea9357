"""mg.summary: shapes, parameters, receptive fields, jumps, multiply-adds and tiling notes.

Expected numbers are worked out by hand from the papers and the formulas
W_out = (W − F + 2P)/S + 1, r_out = r_in + (k_eff − 1)·j_in, j_out = j_in·s; the receptive
field is also measured independently, as the extent of one output's gradient.
"""

import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import models, nn


@pytest.fixture(scope="module")
def alexnet():
    return mg.summary(models.AlexNet(), (1, 3, 227, 227))


@pytest.fixture(scope="module")
def vgg16():
    return mg.summary(models.VGG16(), (1, 3, 224, 224))


def rows_by_name(s):
    return {r.name: r for r in s.rows}


# ---- AlexNet
def test_alexnet_first_conv_gives_55x55x96(alexnet):
    conv1 = alexnet.rows[0]
    assert (conv1.name, conv1.type) == ("features.0", "Conv2d")
    assert conv1.output_shape == (1, 96, 55, 55)             # (227 − 11)/4 + 1 = 55
    assert conv1.params == 96 * 3 * 11 * 11 + 96
    assert (conv1.receptive_field, conv1.jump) == (11, 4)
    assert conv1.macs == 55 * 55 * 96 * (3 * 11 * 11)        # 105,415,200
    assert conv1.note == ""


def test_alexnet_totals(alexnet):
    assert alexnet.total_params == 62_378_344
    conv = [(55, 3, 96, 11), (27, 96, 256, 5), (13, 256, 384, 3), (13, 384, 384, 3), (13, 384, 256, 3)]
    fc = [(9216, 4096), (4096, 4096), (4096, 1000)]
    expected = sum(h * h * o * c * k * k for h, c, o, k in conv) + sum(i * o for i, o in fc)
    assert alexnet.total_macs == expected == 1_135_256_096


def test_alexnet_geometry_layer_by_layer(alexnet):
    rows = rows_by_name(alexnet)
    # conv1 11/4; LRN keeps; pool 3/2: 11 + 2·4 = 19; conv2 5: 19 + 4·8 = 51; pool: 51 + 2·8 = 67;
    # three 3×3 convs: 67 + 2·16 each = 99, 131, 163; pool: 163 + 2·16 = 195
    expected = {"features.2": (11, 4, (1, 96, 55, 55)), "features.3": (19, 8, (1, 96, 27, 27)),
                "features.4": (51, 8, (1, 256, 27, 27)), "features.7": (67, 16, (1, 256, 13, 13)),
                "features.8": (99, 16, (1, 384, 13, 13)), "features.12": (163, 16, (1, 256, 13, 13)),
                "features.14": (195, 32, (1, 256, 6, 6)), "flatten": (227, None, (1, 9216)),
                "classifier.6": (227, None, (1, 1000))}
    for name, (field, jump, shape) in expected.items():
        assert (rows[name].receptive_field, rows[name].jump, rows[name].output_shape) == (field, jump, shape), name
    assert [r.name for r in alexnet.rows if r.macs] == ["features.0", "features.4", "features.8", "features.10",
                                                       "features.12", "classifier.0", "classifier.3", "classifier.6"]
    assert not any(r.note for r in alexnet.rows)  # 227 is tiled exactly all the way


def test_alexnet_on_224_is_flagged():
    s = mg.summary(nn.Sequential(nn.Conv2d(3, 2, 11, stride=4)), (1, 3, 224, 224))
    (row,) = s.rows
    assert row.output_shape == (1, 2, 54, 54)  # ⌊(224 − 11)/4⌋ + 1
    assert row.note == "stride 4 does not tile 224+2·0−11: the last 1 row and 1 column are never seen"
    assert "stride 4 does not tile" in str(s)


# ---- VGG16
def test_vgg16_totals(vgg16):
    assert vgg16.total_params == 138_357_544
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128),
             *[(56, c, 256) for c in (128, 256, 256)], *[(28, c, 512) for c in (256, 512, 512)],
             *[(14, 512, 512)] * 3]
    expected = sum(h * h * o * c * 9 for h, c, o in convs) + 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert vgg16.total_macs == expected
    assert vgg16.rows[-1].output_shape == (1, 1000)


def test_vgg16_receptive_field_at_each_pool(vgg16):
    # each 3×3 conv adds 2·j, each 2×2/2 pool adds j and doubles j:
    # 1 → 3, 5 → 6 (j 2) → 10, 14 → 16 (j 4) → 24, 32, 40 → 44 (j 8) → 60, 76, 92 → 100 (j 16)
    # → 132, 164, 196 → 212 (j 32)
    pools = [(r.name, r.receptive_field, r.jump, r.output_shape[2]) for r in vgg16.rows if r.type == "MaxPool2d"]
    assert pools == [("features.4", 6, 2, 112), ("features.9", 16, 4, 56), ("features.16", 44, 8, 28),
                     ("features.23", 100, 16, 14), ("features.30", 212, 32, 7)]
    assert not any(r.note for r in vgg16.rows)


def test_vgg19_at_224():
    s = mg.summary(models.VGG19(), (1, 3, 224, 224))
    assert s.total_params == 143_667_240
    # as VGG16, with a fourth 3×3 conv in blocks 3–5: 1 → 3, 5 → 6 (j 2) → 10, 14 → 16 (j 4) → 24, 32, 40, 48
    # → 52 (j 8) → 68, 84, 100, 116 → 124 (j 16) → 156, 188, 220, 252 → 268 (j 32)
    pools = [(r.receptive_field, r.jump, r.output_shape[1:]) for r in s.rows if r.type == "MaxPool2d"]
    assert pools == [(6, 2, (64, 112, 112)), (16, 4, (128, 56, 56)), (52, 8, (256, 28, 28)),
                     (124, 16, (512, 14, 14)), (268, 32, (512, 7, 7))]
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256),
             *[(56, 256, 256)] * 3, (28, 256, 512), *[(28, 512, 512)] * 3, *[(14, 512, 512)] * 4]
    assert s.total_macs == sum(h * h * o * c * 9 for h, c, o in convs) + 25088 * 4096 + 4096 * 4096 + 4096 * 1000


# ---- LeNet-5
def test_lenet5_table():
    s = mg.summary(models.LeNet5(), (2, 1, 28, 28))
    assert s.total_params == 61_706
    convs = [(r.name, r.output_shape, r.params, r.receptive_field, r.jump) for r in s.rows if r.type == "Conv2d"]
    assert convs == [("features.0", (2, 6, 28, 28), 156, 5, 1), ("features.3", (2, 16, 10, 10), 2416, 14, 2)]
    batch = 2
    assert s.total_macs == batch * (28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10)
    assert [r.params for r in s.rows if r.type == "Linear"] == [48_120, 10_164, 850]
    assert s.rows[-1].output_shape == (2, 10)


# ---- multiply-adds of single layers, by hand
def test_macs_of_a_grouped_strided_conv():
    s = mg.summary(nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 8, 8))
    (row,) = s.rows
    assert (row.name, row.output_shape) == ("Conv2d", (2, 6, 4, 4))  # a lone layer is named by its type
    assert row.macs == (2 * 6 * 4 * 4) * (4 // 2) * 9
    assert row.params == 6 * 2 * 9 + 6


def test_macs_and_geometry_of_a_transposed_conv():
    # each of the 2·4·5·5 inputs meets out_channels·3·3 weights; outputs are half an input apart,
    # and at most ⌈3/2⌉ = 2 neighbouring inputs feed one output
    s = mg.summary(nn.ConvTranspose2d(4, 2, 3, stride=2), (2, 4, 5, 5))
    (row,) = s.rows
    assert row.output_shape == (2, 2, 11, 11)
    assert row.macs == (2 * 4 * 5 * 5) * 2 * 9
    assert row.receptive_field == 2
    assert str(row.jump) == "1/2"


def test_conv1d_row():
    (row,) = mg.summary(nn.Conv1d(2, 3, 5, stride=2), (1, 2, 16)).rows
    assert row.output_shape == (1, 3, 6)                      # ⌊(16 − 5)/2⌋ + 1
    assert (row.receptive_field, row.jump, row.macs) == (5, 2, 1 * 3 * 6 * 2 * 5)
    assert row.note == "stride 2 does not tile 16+2·0−5: the last 1 position is never seen"


def test_locally_connected_row():
    (row,) = mg.summary(nn.LocallyConnected2d(2, 3, (6, 6), 3), (2, 2, 6, 6)).rows
    assert row.output_shape == (2, 3, 4, 4)
    assert row.params == 4 * 4 * 3 * 2 * 9 + 3 * 4 * 4           # unshared weights, one bias per output unit
    assert row.macs == (2 * 3 * 4 * 4) * 2 * 9
    assert (row.receptive_field, row.jump) == (3, 1)


def test_global_pooling_sees_the_whole_input():
    s = mg.summary(nn.Sequential(nn.Conv2d(1, 2, 3), nn.GlobalAvgPool2d(), nn.Linear(2, 1)), (1, 1, 10, 12))
    assert [(r.receptive_field, r.jump) for r in s.rows] == [(3, 1), ((10, 12), None), ((10, 12), None)]
    assert "—" in str(s)


def test_linear_and_other_layers():
    s = mg.summary(nn.Sequential(nn.Linear(20, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 3)), (4, 20))
    assert [r.macs for r in s.rows] == [4 * 5 * 20, 0, 0, 4 * 3 * 5]
    assert [r.receptive_field for r in s.rows] == [None] * 4  # a flat input has no spatial axes
    assert [r.jump for r in s.rows] == [None] * 4


# ---- receptive fields, checked against the gradient
def gradient_extent(model, shape):
    """Rows and columns of the input that the centre output unit depends on (all weights positive)."""
    for p in model.parameters():
        p.data[...] = 0.1
    x = mg.ones(*shape, requires_grad=True)
    y = model(x)
    h, w = y.shape[2] // 2, y.shape[3] // 2
    y[0, 0, h, w].backward()
    rows, cols = np.nonzero(np.abs(x.grad.data[0]).sum(axis=0))
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize("layers", [
    [nn.Conv2d(1, 2, 3), nn.AvgPool2d(2), nn.Conv2d(2, 2, 3, dilation=2), nn.Conv2d(2, 1, 3, stride=2)],
    [nn.Conv2d(1, 2, 5, stride=3), nn.ReLU(), nn.Conv2d(2, 2, 3, stride=2), nn.AvgPool2d(3, stride=1)],
    [nn.Conv2d(1, 2, (3, 5)), nn.Conv2d(2, 1, (1, 3), stride=(1, 2))],
])
def test_receptive_field_matches_the_gradient(layers):
    model = nn.Sequential(*layers)
    last = mg.summary(model, (1, 1, 40, 40)).rows[-1]
    field = last.receptive_field if isinstance(last.receptive_field, tuple) else (last.receptive_field,) * 2
    assert gradient_extent(model, (1, 1, 40, 40)) == field


def test_non_square_field_is_a_tuple():
    s = mg.summary(nn.Sequential(nn.Conv2d(1, 1, (3, 5), stride=(1, 2))), (1, 1, 9, 11))
    assert (s.rows[0].receptive_field, s.rows[0].jump) == ((3, 5), (1, 2))


# ---- notes: which input rows/columns no window reaches
def unseen(size, kernel, stride, padding):
    """Input positions after the last one any window covers, by listing the windows."""
    starts = range(-padding, size + padding - kernel + 1, stride)
    last_covered = max(start + kernel - 1 for start in starts)
    return max(0, size - 1 - min(last_covered, size - 1))


@settings(max_examples=25, deadline=None)
@given(size=st.integers(4, 12), kernel=st.integers(1, 4), stride=st.integers(1, 4), padding=st.integers(0, 2))
def test_note_counts_the_unseen_input(size, kernel, stride, padding):
    pool = nn.MaxPool2d(kernel, stride=stride, padding=min(padding, kernel // 2))
    padding = pool.padding if isinstance(pool.padding, int) else pool.padding[0]
    (row,) = mg.summary(pool, (1, 1, size, size)).rows
    leftover = (size + 2 * padding - kernel) % stride
    assert (row.note == "") == (leftover == 0)
    if leftover:
        lost = unseen(size, kernel, stride, padding)
        if lost:
            rows = f"{lost} row{'s' if lost > 1 else ''} and {lost} column{'s' if lost > 1 else ''}"
            assert row.note.endswith(f": the last {rows} are never seen")
        else:
            assert row.note.endswith("padding that no window reaches; no input pixel is lost")


def test_note_names_the_axis_that_does_not_tile():
    (row,) = mg.summary(nn.Conv2d(1, 1, 3, stride=2), (1, 1, 9, 10)).rows
    assert row.note == "stride 2 does not tile (9+2·0−3, 10+2·0−3): the last 1 column is never seen"


# ---- branching: Inception's concatenation has the field of its widest branch
def test_inception_block_rows_and_fields():
    block = models.InceptionBlock(4, 2, 3, 4, 2, 3, 2)
    s = mg.summary(nn.Sequential(block, models.InceptionBlock(11, 1, 1, 1, 1, 1, 1), nn.Conv2d(4, 1, 1)),
                   (1, 4, 6, 6))
    rows = rows_by_name(s)
    assert rows["0.branch1.1"].output_shape == (1, 2, 6, 6)
    fields = {name: rows[name].receptive_field for name in
              ("0.branch1.0", "0.branch2.2", "0.branch3.2", "0.branch4.0", "0.branch4.1", "1.branch1.0",
               "1.branch3.2", "2")}
    # first block: 1, 3, 5, 3, 3; its output has field 5, so the second block's 1×1 sees 5 and its
    # 5×5 sees 5 + 4 = 9; the output of the second block has field 9
    assert fields == {"0.branch1.0": 1, "0.branch2.2": 3, "0.branch3.2": 5, "0.branch4.0": 3, "0.branch4.1": 3,
                      "1.branch1.0": 5, "1.branch3.2": 9, "2": 9}
    assert [r.name for r in s.rows][:11] == ["0.branch1.0", "0.branch1.1", "0.branch2.0", "0.branch2.1",
                                             "0.branch2.2", "0.branch2.3", "0.branch3.0", "0.branch3.1",
                                             "0.branch3.2", "0.branch3.3", "0.branch4.0"]
    assert s.total_params == sum(r.params for r in s.rows)


# ---- the model is left as it was
def test_summary_leaves_the_model_and_the_random_stream_alone():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    before = {k: np.array(getattr(v, "data", v)) for k, v in model.state_dict().items()}
    mg.manual_seed(0)
    expected = mg.rand(5).data
    mg.manual_seed(0)
    mg.summary(model, (1, 1, 5, 5))
    assert np.array_equal(mg.rand(5).data, expected)       # dropout drew nothing: eval mode
    assert all(m.training for m in model.modules())        # and train mode is back
    after = {k: np.array(getattr(v, "data", v)) for k, v in model.state_dict().items()}
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # batch-norm statistics untouched


def test_nothing_stays_hooked_after_an_error(monkeypatch):
    recorder = sys.modules["minigrad.summary"]._Recorder
    calls = []
    record = recorder.record
    monkeypatch.setattr(recorder, "record", lambda self, name, *rest: calls.append(name) or record(self, name, *rest))
    model = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ValueError):
        mg.summary(model, (1, 4))  # Linear(3, 2) cannot take 4 features
    assert calls == ["0"]
    model(mg.zeros(1, 3))
    assert calls == ["0"]  # the layers are plain layers again
    assert all(m.training for m in model.modules())


# ---- activations and their memory
def test_alexnet_activations(alexnet):
    conv1 = alexnet.rows[0]
    assert (conv1.activations, conv1.dtype, conv1.memory_bytes) == (96 * 55 * 55, "float32", 96 * 55 * 55 * 4)
    # per layer, batch 1: conv1, ReLU, LRN at 96×55×55; pool 96×27×27; conv2, ReLU, LRN at 256×27×27; pool
    # 256×13×13; conv3, conv4 and their ReLUs at 384×13×13; conv5 and ReLU 256×13×13; pool and flatten 9,216;
    # Linear, ReLU, Dropout twice at 4,096; the last Linear 1,000
    expected = (3 * 96 * 55 * 55 + 96 * 27 * 27 + 3 * 256 * 27 * 27 + 256 * 13 * 13 + 4 * 384 * 13 * 13
                + 2 * 256 * 13 * 13 + 2 * 9216 + 6 * 4096 + 1000)
    assert alexnet.total_activations == expected == 1_934_440
    assert alexnet.total_memory_bytes == 4 * expected
    text = str(alexnet)
    assert "total activations:    1,934,440 (7.738 MB)" in text
    assert "memory: activations × bytes per element (float32: 4 bytes); 1 MB = 10⁶ bytes" in text
    assert text.splitlines()[2].split()[-4:] == ["mult-adds", "activations", "memory", "(MB)"]


def test_memory_follows_the_output_dtype():
    s = mg.summary(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()).double(), (2, 1, 5, 5))
    assert [(r.activations, r.dtype, r.memory_bytes) for r in s.rows] == [(2 * 2 * 3 * 3, "float64", 36 * 8)] * 2
    assert s.total_memory_bytes == 2 * 36 * 8
    assert "(float64: 8 bytes)" in str(s)


# ---- a layer that fails
def test_alexnet_at_224_names_the_classifier_and_shows_the_rows_before():
    # 224 → ⌊(224 − 11)/4⌋ + 1 = 54 → 26 → 26 → 12 → 12 → 5: 256·5·5 = 6,400 features, not 9,216
    with pytest.raises(ValueError) as caught:
        mg.summary(models.AlexNet(), (1, 3, 224, 224))
    message = str(caught.value)
    first, *lines = message.splitlines()
    assert first.startswith("summary: AlexNet failed in layer classifier.0 (Linear) on input of shape (1, 6400): "
                            "ValueError: linear: expected input of shape (*, 9216)")
    assert lines[0] == "the rows before it:"
    names = [line.split()[0] for line in lines[4:] if line and not line.startswith(("-", " ", "notes:"))]
    assert names == [f"features.{i}" for i in range(15)] + ["flatten"]
    assert re.search(r"^features\.14\s+MaxPool2d\s+\(1, 256, 5, 5\)", message, re.MULTILINE)
    assert "  features.0: stride 4 does not tile 224+2·0−11: the last 1 row and 1 column are never seen" in lines
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_failing_composite_layer_is_named():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return self.conv(x) + x  # (1, 2, 3, 3) + (1, 1, 5, 5) does not broadcast

    with pytest.raises(ValueError, match=r"failed in layer 1 \(Residual\) on input of shape \(1, 1, 5, 5\)") as caught:
        mg.summary(nn.Sequential(nn.ReLU(), Residual()), (1, 1, 5, 5))
    assert [line.split()[0] for line in str(caught.value).splitlines()[5:7]] == ["0", "1.conv"]


def test_a_failing_first_layer():
    with pytest.raises(ValueError, match=r"failed in layer Linear \(Linear\) on input of shape \(1, 4\)(.|\n)*"
                                         r"no layer finished before it$"):
        mg.summary(nn.Linear(3, 2), (1, 4))


# ---- presentation and bad input
def test_table_shows_every_row_and_the_totals(alexnet):
    text = str(alexnet)
    lines = text.splitlines()
    assert lines[0] == "AlexNet on input (1, 3, 227, 227)"
    assert all(any(line.startswith(r.name + " ") for line in lines) for r in alexnet.rows)
    assert "62,378,344" in text and "1,135,256,096" in text
    conv1 = next(line for line in lines if line.startswith("features.0 "))
    assert re.search(r"Conv2d\s+\(1, 96, 55, 55\)\s+34,944\s+11\s+4\s+105,415,200\s+290,400\s+1\.162$", conv1)
    assert repr(alexnet) == ("Summary(AlexNet, input (1, 3, 227, 227): 23 layers, 62,378,344 parameters, "
                             "1,135,256,096 multiply-adds)")


@pytest.mark.parametrize("shape", [(), (0, 3), (1, 2.5), "1,3"])
def test_bad_input_shape(shape):
    with pytest.raises(ValueError, match="summary: input_shape"):
        mg.summary(nn.Linear(3, 2), shape)


def test_not_a_module():
    with pytest.raises(TypeError, match=r"summary: expected an nn\.Module"):
        mg.summary(lambda x: x, (1, 3))
