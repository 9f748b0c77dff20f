#!/usr/bin/env python3
"""Writes a synthetic SCRFD-10G face detector with keypoints in the layout of InsightFace's
det_10g (input.1 1x3xHxW with a dynamic size, the 9 score/box/keypoint outputs at strides 8, 16
and 32, two anchors a location) with seeded random weights, for speed comparisons on a large
detector. Not a trained model: its detections mean nothing.

    models/synth/gen_scrfd10g.py OUT.onnx [--seed N]

Layout (models/synth/README.md has the layer table): a ResNet-v1e style backbone with batch
norm folded into the convolutions (deep stem 3x3 s2 3->28, 28->28, 28->56, max pool; basic
blocks 3 x 56, 4 x 88, 2 x 88, 3 x 224, stages 2-4 starting with stride 2 and an average-pool +
1x1 shortcut), a PAFPN neck of 56 channels (lateral 1x1, nearest upsampling + add, 3x3 convs,
bottom-up 3x3 stride-2 convs + add), and per stride a head of three 3x3 convs of 80 channels
with 3x3 convs for the 2 scores, 8 box distances (times a per-level scale) and 20 keypoint
offsets, transposed and reshaped as the SCRFD exports are."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_build  # noqa: E402

STAGES = [(3, 56, 1), (4, 88, 2), (2, 88, 2), (3, 224, 2)]
NECK = 56
HEAD = 80
ANCHORS = 2
# InsightFace det_10g's output names, in its order: scores, boxes, keypoints at 8, 16, 32.
OUTPUT_NAMES = ["448", "471", "494", "451", "474", "497", "454", "477", "500"]
VGA = (480, 640)  # height, width at which the multiply-accumulates are counted


def conv_relu(g, x, cin, cout, k, stride, hw):
    return g.node("Relu", [g.conv(x, cin, cout, k, stride, hw)])


def basic_block(g, x, cin, cout, stride, hw_in):
    hw = (hw_in[0] // stride, hw_in[1] // stride)
    y = conv_relu(g, x, cin, cout, 3, stride, hw)
    y = g.conv(y, cout, cout, 3, 1, hw, gain=0.5)  # keeps the residual sums from growing
    if stride != 1 or cin != cout:
        s = x
        if stride != 1:
            s = g.node("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
                       count_include_pad=0)
        s = g.conv(s, cin, cout, 1, 1, hw, gain=0.5)
    else:
        s = x
    return g.node("Relu", [g.node("Add", [y, s])]), hw


def backbone(g, x):
    hw = (VGA[0] // 2, VGA[1] // 2)
    x = conv_relu(g, x, 3, 28, 3, 2, hw)
    x = conv_relu(g, x, 28, 28, 3, 1, hw)
    x = conv_relu(g, x, 28, 56, 3, 1, hw)
    x = g.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    hw = (hw[0] // 2, hw[1] // 2)
    cin, features = 56, []
    for blocks, cout, stride in STAGES:
        for b in range(blocks):
            x, hw = basic_block(g, x, cin, cout, stride if b == 0 else 1, hw)
            cin = cout
        features.append((x, cout, hw))
    return features[1:]


def upsample(g, x):
    roi = g.constant("roi", [0], [], count=False)
    scales = g.constant("scales", [4], [1.0, 1.0, 2.0, 2.0], count=False)
    return g.node("Resize", [x, roi, scales], mode="nearest",
                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def neck(g, features):
    lateral = [g.conv(x, c, NECK, 1, 1, hw) for x, c, hw in features]
    hws = [hw for _, _, hw in features]
    for i in (1, 0):
        lateral[i] = g.node("Add", [lateral[i], upsample(g, lateral[i + 1])])
    outs = [g.conv(x, NECK, NECK, 3, 1, hw) for x, hw in zip(lateral, hws)]
    for i in (1, 2):
        down = g.conv(outs[i - 1], NECK, NECK, 3, 2, hws[i])
        outs[i] = g.node("Add", [outs[i], down])
    return [outs[0]] + [g.conv(outs[i], NECK, NECK, 3, 1, hws[i]) for i in (1, 2)], hws


def flatten(g, x, width):
    x = g.node("Transpose", [x], perm=[2, 3, 0, 1])
    shape = g.constant("shape", [2], [-1, width], data_type=onnx_build.INT64, count=False)
    return g.node("Reshape", [x, shape])


def head(g, x, hw, names):
    for cin in (NECK, HEAD, HEAD):
        x = conv_relu(g, x, cin, HEAD, 3, 1, hw)
    score = g.conv(x, HEAD, ANCHORS, 3, 1, hw, gain=0.1)
    box = g.conv(x, HEAD, 4 * ANCHORS, 3, 1, hw)
    box = g.node("Mul", [box, g.constant("scale", [1], [1.0])])
    kps = g.conv(x, HEAD, 10 * ANCHORS, 3, 1, hw)
    g.node("Sigmoid", [flatten(g, score, 1)], out_name=names[0])
    g.node("Identity", [flatten(g, box, 4)], out_name=names[1])
    g.node("Identity", [flatten(g, kps, 10)], out_name=names[2])


def build(seed):
    g = onnx_build.Graph(seed)
    levels, hws = neck(g, backbone(g, "input.1"))
    for i, (x, hw) in enumerate(zip(levels, hws)):
        head(g, x, hw, [OUTPUT_NAMES[i], OUTPUT_NAMES[3 + i], OUTPUT_NAMES[6 + i]])
    outputs = [(OUTPUT_NAMES[k * 3 + i], ["n_%s" % OUTPUT_NAMES[k * 3 + i], w])
               for k, w in enumerate((1, 4, 10)) for i in range(3)]
    outputs.sort(key=lambda o: OUTPUT_NAMES.index(o[0]))
    model = g.model([("input.1", [1, 3, "height", "width"])], outputs)
    return g, model


if __name__ == "__main__":
    onnx_build.main(__doc__, build, 10, "640x480")
