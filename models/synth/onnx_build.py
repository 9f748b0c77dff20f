"""A small ONNX model builder for the synthetic model generators: a protobuf wire encoder for
the few ONNX messages they need (ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, ValueInfoProto), written from the field numbers of onnx/onnx.proto, plus seeded
random weights. Standard library only, so it runs on a bare Debian python3."""

import argparse
import array
import os
import math
import random
import struct

FLOAT = 1
INT64 = 7


def _varint(value):
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def _int(field, value):
    return _key(field, 0) + _varint(value)


def _bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return _key(field, 2) + _varint(len(data)) + data


def _float(field, value):
    return _key(field, 5) + struct.pack("<f", value)


def tensor_proto(name, dims, data_type, raw):
    out = b"".join(_int(1, d) for d in dims)
    out += _int(2, data_type) + _bytes(8, name) + _bytes(9, raw)
    return out


def attribute(name, value):
    out = _bytes(1, name)
    if isinstance(value, float):
        return out + _float(2, value) + _int(20, 1)
    if isinstance(value, int):
        return out + _int(3, value) + _int(20, 2)
    if isinstance(value, str):
        return out + _bytes(4, value) + _int(20, 3)
    if all(isinstance(v, int) for v in value):
        return out + b"".join(_int(8, v) for v in value) + _int(20, 7)
    return out + b"".join(_float(7, v) for v in value) + _int(20, 6)


def value_info(name, dims):
    shape = b""
    for d in dims:
        dim = _bytes(2, d) if isinstance(d, str) else _int(1, d)
        shape += _bytes(1, dim)
    tensor = _int(1, FLOAT) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor))


class Graph:
    """Nodes and initializers, with a seeded generator for weights and a parameter count."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.nodes = []
        self.initializers = []
        self.params = 0
        self.macs = 0
        self.counter = 0
        self.layers = []  # (description, output size, parameters, multiply-accumulates)

    def name(self, base):
        self.counter += 1
        return "%s_%d" % (base, self.counter)

    def constant(self, base, dims, values=None, data_type=FLOAT, count=True):
        name = self.name(base)
        n = 1
        for d in dims:
            n *= d
        if data_type == INT64:
            raw = struct.pack("<%dq" % n, *values)
        else:
            if values is None:
                values = [0.0] * n
            raw = array.array("f", values).tobytes()
        self.initializers.append(tensor_proto(name, dims, data_type, raw))
        if count and data_type == FLOAT:
            self.params += n
        return name

    def uniform(self, base, dims, bound):
        n = 1
        for d in dims:
            n *= d
        # randbytes is one call; 16-bit integers scaled to [-bound, bound] are plenty random
        raw = self.rng.randbytes(2 * n)
        ints = array.array("h")
        ints.frombytes(raw)
        scale = bound / 32768.0
        return self.constant(base, dims, [v * scale for v in ints])

    def node(self, op_type, inputs, n_outputs=1, out_name=None, **attrs):
        outputs = [self.name(op_type.lower()) for _ in range(n_outputs)]
        if out_name is not None:
            outputs[0] = out_name
        out = b"".join(_bytes(1, i) for i in inputs)
        out += b"".join(_bytes(2, o) for o in outputs)
        out += _bytes(3, self.name(op_type)) + _bytes(4, op_type)
        out += b"".join(_bytes(5, attribute(k, v)) for k, v in sorted(attrs.items()))
        self.nodes.append(out)
        return outputs[0] if n_outputs == 1 else outputs

    def conv(self, x, cin, cout, k, stride, hw, bias=True, groups=1, gain=1.0):
        """A convolution with He-uniform weights times gain; hw is the output (height, width)
        for the multiply-accumulate count."""
        fan_in = cin // groups * k * k
        w = self.uniform("w", [cout, cin // groups, k, k], gain * math.sqrt(6.0 / fan_in))
        inputs = [x, w]
        if bias:
            inputs.append(self.uniform("b", [cout], 0.05))
        macs = cout * (cin // groups) * k * k * hw[0] * hw[1]
        self.macs += macs
        self.layers.append(("conv %dx%d/%d %d->%d" % (k, k, stride, cin, cout),
                            "%dx%d" % (hw[1], hw[0]),
                            cout * (cin // groups) * k * k + (cout if bias else 0), macs))
        pad = k // 2
        return self.node("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad, pad, pad, pad], group=groups, dilations=[1, 1])

    def batchnorm(self, x, c):
        scale = self.constant("bn_scale", [c], [1.0 + 0.1 * (self.rng.random() - 0.5)
                                               for _ in range(c)])
        bias = self.constant("bn_bias", [c], [0.1 * (self.rng.random() - 0.5)
                                             for _ in range(c)])
        mean = self.constant("bn_mean", [c], [0.0] * c)
        var = self.constant("bn_var", [c], [1.0] * c)
        return self.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-5)

    def model(self, inputs, outputs, opset=11, producer="facequant models/synth"):
        graph = b"".join(_bytes(1, n) for n in self.nodes)
        graph += _bytes(2, "main")
        graph += b"".join(_bytes(5, t) for t in self.initializers)
        graph += b"".join(_bytes(11, value_info(n, d)) for n, d in inputs)
        graph += b"".join(_bytes(12, value_info(n, d)) for n, d in outputs)
        opset_id = _bytes(1, "") + _int(2, opset)
        return (_int(1, 6) + _bytes(2, producer) + _bytes(3, "1") + _bytes(7, graph) +
                _bytes(8, opset_id))


def print_table(graph, title):
    """The layer list as a Markdown table, consecutive identical rows merged."""
    print("| %s | output (WxH) | count | parameters | MMAC |" % title)
    print("| --- | --- | --- | --- | --- |")
    rows = []
    for layer in graph.layers:
        if rows and rows[-1][0] == layer[0] and rows[-1][1] == layer[1]:
            rows[-1][2] += 1
            rows[-1][3] += layer[2]
            rows[-1][4] += layer[3]
        else:
            rows.append([layer[0], layer[1], 1, layer[2], layer[3]])
    for r in rows:
        print("| %s | %s | %d | %d | %.1f |" % (r[0], r[1], r[2], r[3], r[4] / 1e6))
    print("| total (with batch norm, PReLU and other parameters) | | | %d | %.1f |" %
          (graph.params, graph.macs / 1e6))


def main(doc, build, default_seed, where):
    """The command line of a generator: OUT.onnx [--seed N] [--table]; build(seed) returns the
    Graph and the encoded model; where names the input size the MAC count is for."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("output")
    parser.add_argument("--table", action="store_true",
                        help="print the layer list as a Markdown table")
    parser.add_argument("--seed", type=int, default=default_seed)
    args = parser.parse_args()
    graph, model = build(args.seed)
    if args.table:
        print_table(graph, "layer")
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(model)
    os.replace(tmp, args.output)
    print("%s: %d bytes, %.2f M parameters, %.2f GMAC (%.2f GFLOPs) at %s" %
          (args.output, len(model), graph.params / 1e6, graph.macs / 1e9, 2 * graph.macs / 1e9,
           where))
