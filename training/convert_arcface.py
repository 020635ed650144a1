"""Converts an insightface ArcFace recognition network (IResNet-18/34/50/100/200) to safetensors,
from either of the forms insightface publishes:

  - backbone.pth (arcface_torch): a pickled IResNet state dict, read with
    torch.load(..., weights_only=True): tensors and plain containers only, no code runs;
  - FILE.onnx (the model packs, e.g. buffalo_l's w600k_r50.onnx, antelopev2's glintr100.onnx): the
    graph is walked node by node and its initializers mapped to the IResNet names. ONNX exports
    fold each BatchNorm that follows a convolution into the convolution's bias; such a BatchNorm
    comes back as an identity (weight 1, bias = the folded bias, mean 0, variance 1 - eps), so
    the result loads into the same PyTorch IResNet. A Sub/Mul pair at the graph's input (some
    older packs normalise inside the graph) becomes the config's input_mean/input_std.

    .venv/bin/python training/convert_arcface.py backbone.pth arcface_r100.safetensors
    .venv/bin/python training/convert_arcface.py w600k_r50.onnx Models/arcface-r50/

A destination ending in .safetensors is the single file stage 2 reads as identity.weights
(configs/sd15_stage2.yaml); any other destination is a folder for the Swift engine
(`photoverse face-embedding --arcface FOLDER`): arcface.safetensors plus config.json (layers,
widths, embedding size, input size and normalisation). Either way the result is loaded back
into the PyTorch IResNet to check it.

These weights are the user's own: insightface's pretrained models are released for
non-commercial research use only. Do this once, on files you trust."""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photoverse_train.identity.arcface import depth_name, infer_layers, infer_widths, load_arcface  # noqa: E402

WEIGHTS_NAME = "arcface.safetensors"
BN_EPS = 1e-5
LICENSE = ("insightface pretrained models: non-commercial research use only "
           "(https://github.com/deepinsight/insightface#license); the weights are the user's own")


class OnnxLayoutError(ValueError):
    pass


def _state_dict_from_pth(src):

    obj = torch.load(str(src), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise SystemExit(f"{src}: not a state dict of tensors (save backbone.state_dict(), not the module)")
    sd = {k: v.detach().float().numpy() for k, v in obj.items() if isinstance(v, torch.Tensor)}
    for prefix in ("module.", "backbone."):  # DataParallel and some exports prefix every key
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
    return sd, 127.5, 127.5


class _OnnxGraph:
    """Initializers (through Identity aliases), producers and consumers of an ONNX graph."""

    def __init__(self, model):

        graph = model.graph
        self.constants = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in graph.initializer}
        self.nodes = []
        for node in graph.node:
            if node.op_type == "Identity" and node.input[0] in self.constants:
                self.constants[node.output[0]] = self.constants[node.input[0]]
            elif node.op_type == "Constant":

                self.constants[node.output[0]] = numpy_helper.to_array(helper.get_attribute_value(node.attribute[0])).astype(np.float32)
            else:
                self.nodes.append(node)
        self.aliases = {}
        for node in self.nodes:
            if node.op_type in ("Dropout", "Identity"):
                self.aliases[node.output[0]] = self.resolve(node.input[0])
        self.nodes = [n for n in self.nodes if n.op_type not in ("Dropout", "Identity")]
        inputs = {i.name for i in graph.input} - set(self.constants)
        if len(inputs) != 1:
            raise OnnxLayoutError(f"expected one image input, found {sorted(inputs)}")
        self.input = inputs.pop()

    def resolve(self, name):
        while name in self.aliases:
            name = self.aliases[name]
        return name

    def consumers(self, value):
        return [n for n in self.nodes if any(self.resolve(i) == value for i in n.input)]

    def const(self, node, index):
        name = node.input[index] if index < len(node.input) else ""
        if name not in self.constants:
            raise OnnxLayoutError(f"{node.op_type} node {node.name or node.output[0]}: input {index} ({name}) is not a constant")
        return self.constants[name]

    @staticmethod
    def attr(node, name, default=None):

        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default


def _one(nodes, op, where):
    found = [n for n in nodes if n.op_type == op]
    if len(found) != 1:
        raise OnnxLayoutError(f"{where}: expected one {op}, found {[n.op_type for n in nodes]}")
    return found[0]


def _bn(g, node, prefix, sd):
    scale, bias, mean, var = (g.const(node, i) for i in range(1, 5))
    eps = float(g.attr(node, "epsilon", 1e-5))
    if abs(eps - BN_EPS) > 1e-9:
        # Fold any other epsilon into the variance so the IResNet's 1e-5 gives the same result.
        var = var + eps - BN_EPS
    sd[f"{prefix}.weight"], sd[f"{prefix}.bias"] = scale, bias
    sd[f"{prefix}.running_mean"], sd[f"{prefix}.running_var"] = mean, var


def _identity_bn(prefix, bias, sd):
    channels = bias.shape[0]
    sd[f"{prefix}.weight"] = np.ones(channels, np.float32)
    sd[f"{prefix}.bias"] = bias.astype(np.float32)
    sd[f"{prefix}.running_mean"] = np.zeros(channels, np.float32)
    sd[f"{prefix}.running_var"] = np.full(channels, 1 - BN_EPS, np.float32)


def _conv_bn(g, conv, conv_key, bn_key, sd):
    """A Conv and the BatchNorm after it (kept, or folded into the Conv's bias); returns the output."""
    if conv.op_type != "Conv":
        raise OnnxLayoutError(f"{conv_key}: expected Conv, found {conv.op_type}")
    weight = g.const(conv, 1)
    sd[f"{conv_key}.weight"] = weight
    bias = g.const(conv, 2) if len(conv.input) > 2 and conv.input[2] else None
    out = conv.output[0]
    after = g.consumers(out)
    if len(after) == 1 and after[0].op_type == "BatchNormalization":
        _bn(g, after[0], bn_key, sd)
        if bias is not None:  # conv bias then BN: push the bias through the BN's mean
            sd[f"{bn_key}.running_mean"] = sd[f"{bn_key}.running_mean"] - bias
        return after[0].output[0]
    _identity_bn(bn_key, bias if bias is not None else np.zeros(weight.shape[0], np.float32), sd)
    return out


def _stride(conv):
    strides = _OnnxGraph.attr(conv, "strides", [1, 1])
    return int(strides[0])


def _state_dict_from_onnx(src):

    g = _OnnxGraph(onnx.load(str(src)))
    sd = {}
    value = g.input
    mean, std = 127.5, 127.5
    # Optional in-graph normalisation: (x - sub) * mul, or x * mul then - sub.
    first = g.consumers(value)
    if len(first) == 1 and first[0].op_type in ("Sub", "Mul"):
        sub, mul = 0.0, 1.0
        for _ in range(2):
            nodes = g.consumers(value)
            if len(nodes) != 1 or nodes[0].op_type not in ("Sub", "Mul"):
                break
            c = float(np.asarray(g.const(nodes[0], 1)).reshape(-1)[0])
            if nodes[0].op_type == "Sub":
                sub += c / mul
            else:
                mul *= c
            value = nodes[0].output[0]
        mean, std = sub, 1.0 / mul
    stem = g.consumers(value)
    if len(stem) != 1:
        raise OnnxLayoutError(f"the input feeds {[n.op_type for n in stem]}, expected one Conv (the stem)")
    value = _conv_bn(g, stem[0], "conv1", "bn1", sd)
    prelu = _one(g.consumers(value), "PRelu", "stem")
    sd["prelu.weight"] = g.const(prelu, 1).reshape(-1)
    value = prelu.output[0]
    layer, block = 0, 0
    while True:
        users = g.consumers(value)
        bn1 = [n for n in users if n.op_type == "BatchNormalization"]
        if len(bn1) != 1:
            raise OnnxLayoutError(f"after layer{layer}.{block - 1}: expected a BatchNormalization, found {[n.op_type for n in users]}")
        after = g.consumers(bn1[0].output[0])
        if not any(n.op_type == "Conv" for n in after):
            break  # the tail's bn2
        conv1 = _one(after, "Conv", "block")
        downsample = [n for n in users if n.op_type == "Conv"]
        # The block's second convolution decides the stride, hence whether a new layer starts.
        mid = g.consumers(conv1.output[0])
        mid_value = conv1.output[0]
        if len(mid) == 1 and mid[0].op_type == "BatchNormalization":
            mid_value = mid[0].output[0]
        prelu = _one(g.consumers(mid_value), "PRelu", "block")
        conv2 = _one(g.consumers(prelu.output[0]), "Conv", "block")
        if _stride(conv2) == 2 or layer == 0:
            layer, block = layer + 1, 0
        p = f"layer{layer}.{block}"
        _bn(g, bn1[0], f"{p}.bn1", sd)
        _conv_bn(g, conv1, f"{p}.conv1", f"{p}.bn2", sd)
        sd[f"{p}.prelu.weight"] = g.const(prelu, 1).reshape(-1)
        main = _conv_bn(g, conv2, f"{p}.conv2", f"{p}.bn3", sd)
        skip = value
        if downsample:
            skip = _conv_bn(g, downsample[0], f"{p}.downsample.0", f"{p}.downsample.1", sd)
        add = _one(g.consumers(main), "Add", p)
        if sorted(g.resolve(i) for i in add.input) != sorted([main, skip]):
            raise OnnxLayoutError(f"{p}: the Add does not join the block's two paths")
        value, block = add.output[0], block + 1
        if layer > 4:
            raise OnnxLayoutError("more than four stages: not an insightface IResNet")
    _bn(g, bn1[0], "bn2", sd)
    value = bn1[0].output[0]
    flat = g.consumers(value)
    if len(flat) != 1 or flat[0].op_type not in ("Flatten", "Reshape"):
        raise OnnxLayoutError(f"after bn2: expected Flatten, found {[n.op_type for n in flat]}")
    fc_nodes = g.consumers(flat[0].output[0])
    if len(fc_nodes) != 1:
        raise OnnxLayoutError(f"after the Flatten: expected Gemm or MatMul, found {[n.op_type for n in fc_nodes]}")
    fc = fc_nodes[0]
    if fc.op_type == "Gemm":
        w = g.const(fc, 1)
        sd["fc.weight"] = w if int(g.attr(fc, "transB", 0)) else w.T.copy()
        sd["fc.bias"] = g.const(fc, 2) if len(fc.input) > 2 else np.zeros(sd["fc.weight"].shape[0], np.float32)
        value = fc.output[0]
    elif fc.op_type == "MatMul":
        sd["fc.weight"] = g.const(fc, 1).T.copy()
        add = _one(g.consumers(fc.output[0]), "Add", "fc")
        sd["fc.bias"] = next(g.constants[i] for i in add.input if i in g.constants)
        value = add.output[0]
    else:
        raise OnnxLayoutError(f"after the Flatten: expected Gemm or MatMul, found {fc.op_type}")
    features = g.consumers(value)
    if len(features) == 1 and features[0].op_type == "BatchNormalization":
        _bn(g, features[0], "features", sd)
    elif not features:
        _identity_bn("features", np.zeros(sd["fc.weight"].shape[0], np.float32), sd)
    else:
        raise OnnxLayoutError(f"after fc: expected BatchNormalization or the output, found {[n.op_type for n in features]}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}, mean, std


def read_weights(src):
    """(state dict of float32 arrays, input mean, input std) from a .pth or .onnx file."""
    suffix = Path(src).suffix.lower()
    if suffix == ".onnx":
        try:
            return _state_dict_from_onnx(src)
        except OnnxLayoutError as e:
            raise SystemExit(f"{src}: not an insightface IResNet graph: {e}")
    return _state_dict_from_pth(src)


def convert(src, dst, input_size: int = 112) -> str:

    sd, mean, std = read_weights(src)
    # A copy each: an ONNX export shares one initializer between equal tensors (fresh BatchNorms,
    # PReLU slopes), which safetensors refuses to save twice.
    tensors = {k: torch.from_numpy(v.copy()).contiguous() for k, v in sd.items()}
    folder = not str(dst).endswith(".safetensors")
    weights = Path(dst) / WEIGHTS_NAME if folder else Path(dst)
    if folder:
        os.makedirs(dst, exist_ok=True)
    save_file(tensors, str(weights), metadata={"source": Path(src).name, "format": "pt"})
    net = load_arcface(weights, input_size)
    layers = infer_layers(sd, weights)
    if folder:
        config = {"architecture": "IResNet", "weights_file": WEIGHTS_NAME, "layers": list(layers),
                  "widths": list(infer_widths(tensors)), "embedding_size": int(net.net.fc.out_features),
                  "input_size": int(input_size), "input_mean": mean, "input_std": std, "bn_eps": BN_EPS,
                  "source": Path(src).name, "license": LICENSE}
        with open(Path(dst) / "config.json", "w") as f:
            json.dump(config, f, indent=1)
            f.write("\n")
    return f"{dst}: IResNet {depth_name(net.net.layers_per_stage)}, {net.net.fc.out_features}-d embedding"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="backbone.pth (a pickled state dict) or an insightface .onnx")
    ap.add_argument("dst", help="output .safetensors (for the trainer) or a folder (for photoverse)")
    ap.add_argument("--input-size", type=int, default=112)
    args = ap.parse_args(argv)
    print(convert(args.src, args.dst, args.input_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
