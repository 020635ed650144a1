"""Runs a float TFLite graph with numpy, op by op, in the file's own NHWC layout.

An oracle that does not share code or layout with the converted PyTorch model: if the
converter mis-transposes a kernel or drops a skip connection, the two disagree. Only the
ops MediaPipe's BlazeFace and face mesh use are implemented; any other op is refused by name.
"""

import numpy as np

from tflite_reader import TFLiteModel


def _same_padding(size, kernel, stride):
    """TensorFlow's SAME padding: (before, after); the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_spatial(x, kh, kw, stride_h, stride_w, padding, value=0.0):
    if padding == "VALID":
        return x
    top, bottom = _same_padding(x.shape[1], kh, stride_h)
    left, right = _same_padding(x.shape[2], kw, stride_w)
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _windows(x, kh, kw, sh, sw):
    """[N, OH, OW, kh, kw, C] views of the (already padded) input."""
    n, h, w, c = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(x, (n, oh, ow, kh, kw, c), (s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]))


def _activation(x, name):
    if name == "NONE":
        return x
    if name == "RELU":
        return np.maximum(x, 0)
    if name == "RELU6":
        return np.clip(x, 0, 6)
    raise NotImplementedError(f"fused activation {name}")


def run(model: TFLiteModel, image: np.ndarray) -> dict:
    """Runs the graph on `image` ([1, H, W, C] float32); returns every output by tensor name."""
    values = {t.index: t.data.astype(np.float64) if t.data is not None and t.data.dtype.kind == "f" else t.data
              for t in model.tensors}
    values[model.inputs[0]] = image.astype(np.float64)
    for op in model.operators:
        args = [values[i] if i >= 0 else None for i in op.inputs]
        o = op.options
        if op.op == "DEQUANTIZE":
            out = args[0].astype(np.float64)
        elif op.op == "CONV_2D":
            x, kernel, bias = args  # kernel [O, kh, kw, I]
            _, kh, kw, _ = kernel.shape
            x = _pad_spatial(x, kh, kw, o["stride_h"], o["stride_w"], o["padding"])
            out = np.einsum("nyxhwc,ohwc->nyxo", _windows(x, kh, kw, o["stride_h"], o["stride_w"]), kernel) + bias
            out = _activation(out, o["activation"])
        elif op.op == "DEPTHWISE_CONV_2D":
            x, kernel, bias = args  # kernel [1, kh, kw, C]
            if o["depth_multiplier"] not in (0, 1):
                raise NotImplementedError("depth_multiplier > 1")
            _, kh, kw, _ = kernel.shape
            x = _pad_spatial(x, kh, kw, o["stride_h"], o["stride_w"], o["padding"])
            out = np.einsum("nyxhwc,hwc->nyxc", _windows(x, kh, kw, o["stride_h"], o["stride_w"]), kernel[0]) + bias
            out = _activation(out, o["activation"])
        elif op.op == "MAX_POOL_2D":
            x = _pad_spatial(args[0], o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"], o["padding"], -np.inf)
            out = _windows(x, o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"]).max(axis=(3, 4))
        elif op.op == "PAD":
            out = np.pad(args[0], args[1].tolist())
        elif op.op == "ADD":
            out = _activation(args[0] + args[1], o["activation"])
        elif op.op == "RELU":
            out = np.maximum(args[0], 0)
        elif op.op == "PRELU":
            x, alpha = args  # alpha [1, 1, C]: one slope per channel
            out = np.where(x >= 0, x, x * alpha)
        elif op.op == "RESHAPE":
            out = args[0].reshape(model.tensor(op.outputs[0]).shape)
        elif op.op == "CONCATENATION":
            out = _activation(np.concatenate(args, axis=o["axis"]), o["activation"])
        else:
            raise NotImplementedError(f"operator {op.index}: {op.op} is not implemented by this oracle")
        values[op.outputs[0]] = out
    return {model.tensor(i).name: values[i] for i in model.outputs}
