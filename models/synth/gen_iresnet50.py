#!/usr/bin/env python3
"""Writes a synthetic IResNet-50 ArcFace model in the layout of InsightFace's w600k_r50 (input.1
1x3x112x112, a 512-d embedding) with seeded random weights, for speed comparisons on a large
recognizer. Not a trained model: its embeddings mean nothing.

    models/synth/gen_iresnet50.py OUT.onnx [--seed N]

Layout (see models/synth/README.md for the layer table): conv 3x3 3->64, BN, PReLU; four stages
of IBasicBlocks (BN, conv 3x3, BN, PReLU, conv 3x3 stride s, BN, plus the shortcut: identity, or
conv 1x1 stride 2 + BN in the first block of a stage) with 3, 4, 14 and 3 blocks of 64, 128,
256 and 512 channels, every stage starting with stride 2; BN, Flatten, Gemm 25088->512, BN."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_build  # noqa: E402

STAGES = [(3, 64), (4, 128), (14, 256), (3, 512)]


def prelu(g, x, c):
    slope = g.constant("prelu", [c, 1, 1], [0.25] * c)
    return g.node("PRelu", [x, slope])


def block(g, x, cin, cout, stride, hw_in):
    hw_out = (hw_in[0] // stride, hw_in[1] // stride)
    y = g.batchnorm(x, cin)
    y = g.conv(y, cin, cout, 3, 1, hw_in, bias=False)
    y = g.batchnorm(y, cout)
    y = prelu(g, y, cout)
    y = g.conv(y, cout, cout, 3, stride, hw_out, bias=False, gain=0.5)
    y = g.batchnorm(y, cout)
    if stride != 1 or cin != cout:
        w = g.uniform("w", [cout, cin, 1, 1], (6.0 / cin) ** 0.5)
        g.macs += cout * cin * hw_out[0] * hw_out[1]
        g.layers.append(("conv 1x1/%d %d->%d (shortcut)" % (stride, cin, cout),
                         "%dx%d" % (hw_out[1], hw_out[0]), cout * cin,
                         cout * cin * hw_out[0] * hw_out[1]))
        shortcut = g.node("Conv", [x, w], kernel_shape=[1, 1], strides=[stride, stride],
                          pads=[0, 0, 0, 0])
        shortcut = g.batchnorm(shortcut, cout)
    else:
        shortcut = x
    return g.node("Add", [y, shortcut]), hw_out


def build(seed):
    g = onnx_build.Graph(seed)
    x = g.conv("input.1", 3, 64, 3, 1, (112, 112), bias=False)
    x = g.batchnorm(x, 64)
    x = prelu(g, x, 64)
    cin, hw = 64, (112, 112)
    for blocks, cout in STAGES:
        for b in range(blocks):
            x, hw = block(g, x, cin, cout, 2 if b == 0 else 1, hw)
            cin = cout
    x = g.batchnorm(x, 512)
    x = g.node("Flatten", [x], axis=1)
    features = 512 * hw[0] * hw[1]
    w = g.uniform("fc_w", [512, features], (6.0 / features) ** 0.5)
    bias = g.uniform("fc_b", [512], 0.01)
    g.macs += 512 * features
    g.layers.append(("gemm %d->512" % features, "1", 512 * features + 512, 512 * features))
    x = g.node("Gemm", [x, w, bias], transB=1)
    scale = g.constant("bn_scale", [512], [1.0] * 512)
    shift = g.constant("bn_bias", [512], [0.0] * 512)
    mean = g.constant("bn_mean", [512], [0.0] * 512)
    var = g.constant("bn_var", [512], [1.0] * 512)
    g.node("BatchNormalization", [x, scale, shift, mean, var], out_name="683", epsilon=1e-5)
    model = g.model([("input.1", [1, 3, 112, 112])], [("683", [1, 512])])
    return g, model


if __name__ == "__main__":
    onnx_build.main(__doc__, build, 50, "112x112")
