"""The layers: Module and its containers, and one file per kind of layer."""

from minigrad.nn.modules.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minigrad.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d, LocallyConnected2d
from minigrad.nn.modules.dropout import Dropout, Dropout2d
from minigrad.nn.modules.flatten import Flatten
from minigrad.nn.modules.linear import Identity, Linear
from minigrad.nn.modules.loss import CrossEntropyLoss, MSELoss, MultiMarginLoss, NLLLoss
from minigrad.nn.modules.module import Module, ModuleCall, ModuleList, Parameter, Sequential
from minigrad.nn.modules.normalization import BatchNorm1d, BatchNorm2d, LocalContrastNorm, LocalResponseNorm
from minigrad.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, LPPool2d, MaxPool2d

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d",
           "CrossEntropyLoss", "Dropout", "Dropout2d", "Flatten", "GlobalAvgPool2d", "Identity", "LPPool2d",
           "LeakyReLU", "Linear", "LocalContrastNorm", "LocalResponseNorm", "LocallyConnected2d", "LogSoftmax",
           "MSELoss", "MaxPool2d", "Module", "ModuleCall", "ModuleList", "MultiMarginLoss", "NLLLoss", "Parameter",
           "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh"]
