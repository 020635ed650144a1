"""A small reader for TensorFlow Lite model files (FlatBuffers, schema `tflite/schema.fbs`).

Only what converting MediaPipe's float models needs: the tensors (shape, type, data), the
operators in execution order with their builtin options, and the graph's inputs/outputs.
Written against the published schema instead of pulling in TensorFlow or a generated
`tflite` package: the layout is a few tables, and a reader we own can say exactly which
field of which table is malformed.

FlatBuffers in brief: every offset is little-endian. A table starts with an int32 pointing
back (table - value) to its vtable; the vtable holds uint16 sizes and then one uint16 per
field, the field's offset inside the table (0 = absent, use the default). Strings, vectors
and sub-tables are reached through a uint32 stored in the field, relative to that field.
"""

import struct
from dataclasses import dataclass, field

import numpy as np

# TensorType enum of schema.fbs (only the types a float model uses are decoded).
TENSOR_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}

# BuiltinOperator codes used by MediaPipe's vision models.
BUILTIN_OPS = {0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
               6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL",
               19: "RELU", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 34: "PAD", 41: "SUB",
               49: "SPLIT", 53: "CAST", 54: "PRELU", 67: "TRANSPOSE_CONV", 83: "PACK", 97: "RESIZE_NEAREST_NEIGHBOR",
               98: "LEAKY_RELU", 117: "HARD_SWISH", 118: "IF", 119: "WHILE", 120: "NON_MAX_SUPPRESSION_V4"}

# Builtin option tables: field order of schema.fbs, as (name, struct format or None for enum byte).
PADDING = {0: "SAME", 1: "VALID"}
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
OPTION_FIELDS = {
    "CONV_2D": [("padding", "b"), ("stride_w", "i"), ("stride_h", "i"), ("activation", "b"),
                ("dilation_w", "i"), ("dilation_h", "i")],
    "DEPTHWISE_CONV_2D": [("padding", "b"), ("stride_w", "i"), ("stride_h", "i"), ("depth_multiplier", "i"),
                          ("activation", "b"), ("dilation_w", "i"), ("dilation_h", "i")],
    "MAX_POOL_2D": [("padding", "b"), ("stride_w", "i"), ("stride_h", "i"), ("filter_w", "i"),
                    ("filter_h", "i"), ("activation", "b")],
    "AVERAGE_POOL_2D": [("padding", "b"), ("stride_w", "i"), ("stride_h", "i"), ("filter_w", "i"),
                        ("filter_h", "i"), ("activation", "b")],
    "ADD": [("activation", "b")],
    "CONCATENATION": [("axis", "i"), ("activation", "b")],
}
# Defaults of schema.fbs for fields a writer may omit.
OPTION_DEFAULTS = {"padding": 0, "activation": 0, "dilation_w": 1, "dilation_h": 1, "depth_multiplier": 0,
                   "stride_w": 0, "stride_h": 0, "filter_w": 0, "filter_h": 0, "axis": 0}


class TFLiteFormatError(ValueError):
    pass


class _Table:
    """One FlatBuffers table: field access by index, with bounds checks."""

    def __init__(self, buf: bytes, pos: int, what: str):
        self.buf, self.pos, self.what = buf, pos, what
        self._check(pos, 4)
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self._check(vtable, 4)
        self.vtable = vtable
        self.vsize = struct.unpack_from("<H", buf, vtable)[0]

    def _check(self, pos, size):
        if pos < 0 or pos + size > len(self.buf):
            raise TFLiteFormatError(f"{self.what}: offset {pos} outside the {len(self.buf)}-byte file")

    def _field(self, index):
        slot = 4 + 2 * index
        if slot + 2 > self.vsize:
            return None
        offset = struct.unpack_from("<H", self.buf, self.vtable + slot)[0]
        return None if offset == 0 else self.pos + offset

    def scalar(self, index, fmt, default=0):
        pos = self._field(index)
        if pos is None:
            return default
        self._check(pos, struct.calcsize(fmt))
        return struct.unpack_from("<" + fmt, self.buf, pos)[0]

    def _target(self, index):
        pos = self._field(index)
        if pos is None:
            return None
        self._check(pos, 4)
        return pos + struct.unpack_from("<I", self.buf, pos)[0]

    def table(self, index, what):
        target = self._target(index)
        return None if target is None else _Table(self.buf, target, what)

    def vector(self, index):
        """(start, length) of a vector field, or None."""
        target = self._target(index)
        if target is None:
            return None
        self._check(target, 4)
        return target + 4, struct.unpack_from("<I", self.buf, target)[0]

    def ints(self, index, fmt="i"):
        found = self.vector(index)
        if found is None:
            return []
        start, count = found
        self._check(start, count * struct.calcsize(fmt))
        return list(struct.unpack_from(f"<{count}{fmt}", self.buf, start))

    def bytes(self, index):
        found = self.vector(index)
        if found is None:
            return b""
        start, count = found
        self._check(start, count)
        return self.buf[start:start + count]

    def string(self, index):
        return self.bytes(index).decode("utf-8", errors="replace")

    def tables(self, index, what):
        found = self.vector(index)
        if found is None:
            return []
        start, count = found
        self._check(start, 4 * count)
        result = []
        for i in range(count):
            element = start + 4 * i
            result.append(_Table(self.buf, element + struct.unpack_from("<I", self.buf, element)[0], f"{what}[{i}]"))
        return result


@dataclass
class TFLiteTensor:
    index: int
    name: str
    shape: list
    dtype: type
    data: np.ndarray | None  # constant tensors only


@dataclass
class TFLiteOperator:
    index: int
    op: str
    inputs: list
    outputs: list
    options: dict = field(default_factory=dict)


@dataclass
class TFLiteModel:
    tensors: list
    operators: list
    inputs: list
    outputs: list
    description: str

    def tensor(self, index) -> TFLiteTensor:
        return self.tensors[index]


def read_model(path: str) -> TFLiteModel:
    """Parses the first subgraph of a .tflite file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise TFLiteFormatError(f"{path}: not a TFLite model (identifier {buf[4:8]!r}, expected b'TFL3')")
    model = _Table(buf, struct.unpack_from("<I", buf, 0)[0], f"{path}: Model")
    codes = []
    for code in model.tables(1, f"{path}: operator_codes"):
        # builtin_code (field 3) supersedes the deprecated byte (field 0) for codes >= 127.
        codes.append(max(code.scalar(0, "b"), code.scalar(3, "i")))
    buffers = [b.bytes(0) for b in model.tables(4, f"{path}: buffers")]
    subgraphs = model.tables(2, f"{path}: subgraphs")
    if not subgraphs:
        raise TFLiteFormatError(f"{path}: the model has no subgraph")
    graph = subgraphs[0]

    tensors = []
    for i, t in enumerate(graph.tables(0, f"{path}: tensors")):
        type_code = t.scalar(1, "b")
        if type_code not in TENSOR_TYPES:
            raise TFLiteFormatError(f"{path}: tensor {i} has unsupported type code {type_code}")
        dtype = TENSOR_TYPES[type_code]
        shape = t.ints(0)
        buffer_index = t.scalar(2, "I")
        data = None
        if buffer_index >= len(buffers):
            raise TFLiteFormatError(f"{path}: tensor {i} names buffer {buffer_index} of {len(buffers)}")
        raw = buffers[buffer_index]
        if raw:
            expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
            if len(raw) != expected:
                raise TFLiteFormatError(f"{path}: tensor {i} ({t.string(3)}) has {len(raw)} bytes, shape {shape} needs {expected}")
            data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).copy()
        tensors.append(TFLiteTensor(i, t.string(3), shape, dtype, data))

    operators = []
    for i, o in enumerate(graph.tables(3, f"{path}: operators")):
        code_index = o.scalar(0, "I")
        if code_index >= len(codes):
            raise TFLiteFormatError(f"{path}: operator {i} names opcode {code_index} of {len(codes)}")
        name = BUILTIN_OPS.get(codes[code_index], f"BUILTIN_{codes[code_index]}")
        options = {}
        if name in OPTION_FIELDS:
            table = o.table(4, f"{path}: operator {i} options")
            for slot, (key, fmt) in enumerate(OPTION_FIELDS[name]):
                options[key] = table.scalar(slot, fmt, OPTION_DEFAULTS[key]) if table else OPTION_DEFAULTS[key]
            if "padding" in options:
                options["padding"] = PADDING.get(options["padding"], options["padding"])
            options["activation"] = ACTIVATIONS.get(options.get("activation", 0), options.get("activation"))
        operators.append(TFLiteOperator(i, name, o.ints(1), o.ints(2), options))
    return TFLiteModel(tensors, operators, graph.ints(1), graph.ints(2), model.string(3))
