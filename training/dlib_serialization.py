"""dlib's binary serialization (dlib/serialize.h), read and written: the pieces its face
recognition ResNet and its shape predictor files are made of.

- integers: one byte (low nibble: how many bytes follow, bit 7: negative), then the magnitude
  little-endian;
- floats: the mantissa (int64) and the exponent (int16) as two integers, value = m * 2^e;
- bools: the character '1' or '0'; strings: the length, then the bytes;
- std::vector: the length, then the items; matrix<float,0,1>: -rows, -cols, then the floats;
- DNN tensors: version 2, four dimensions, then raw little-endian float32.
"""

from __future__ import annotations

import math
import struct

import numpy as np


class DlibReader:
    def __init__(self, data: bytes, name: str):
        self.data, self.pos, self.name = data, 0, name

    def fail(self, what: str):
        raise ValueError(f"{self.name}: byte {self.pos}: {what}")

    def int(self) -> int:
        if self.pos >= len(self.data):
            self.fail("the file ends early")
        head = self.data[self.pos]
        size = head & 0x0F
        if size > 8 or self.pos + 1 + size > len(self.data):
            self.fail(f"not a dlib integer (head byte {head:#04x})")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def float(self) -> float:
        mantissa, exponent = self.int(), self.int()
        if exponent >= 32000:  # dlib's markers for inf / nan
            return {32000: math.inf, 32001: -math.inf}.get(exponent, math.nan)
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        ch = self.data[self.pos:self.pos + 1]
        if ch not in (b"0", b"1"):
            self.fail(f"expected a bool ('0' or '1'), found {ch!r}")
        self.pos += 1
        return ch == b"1"

    def string(self) -> str:
        n = self.int()
        if n < 0 or n > 256:
            self.fail(f"expected a layer name, found a string of length {n}")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s.decode("latin-1")

    def expect(self, name: str) -> None:
        start = self.pos
        try:
            found = self.string()
        except ValueError:
            self.pos = start
            self.fail(f"expected '{name}': not a dlib file of that kind")
        if found != name:
            self.pos = start
            self.fail(f"expected '{name}', found '{found}'")

    def column(self) -> np.ndarray:
        """matrix<float,0,1>."""
        rows, cols = self.int(), self.int()
        if rows > 0 or cols != -1:
            self.fail(f"expected a float column vector (-rows, -1), found ({rows}, {cols})")
        return np.array([self.float() for _ in range(-rows)], np.float32)

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            self.fail(f"tensor version {version}, expected 2")
        dims = [self.int() for _ in range(4)]
        n = int(np.prod(dims))
        end = self.pos + 4 * n
        if end > len(self.data):
            self.fail(f"a tensor of {dims} runs past the end of the file")
        values = np.frombuffer(self.data[self.pos:end], "<f4").reshape(dims)
        self.pos = end
        return values

    def alias_tensor(self) -> list[int]:
        version = self.int()
        if version != 1:
            self.fail(f"alias_tensor version {version}, expected 1")
        return [self.int() for _ in range(4)]

    def at_end(self) -> bool:
        return self.pos == len(self.data)


class DlibWriter:
    def __init__(self):
        self.parts: list[bytes] = []

    def bytes(self) -> bytes:
        return b"".join(self.parts)

    def int(self, value: int) -> None:
        neg = value < 0
        magnitude = -value if neg else value
        body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
        self.parts.append(bytes([len(body) | (0x80 if neg else 0)]) + body)

    def float(self, value: float, digits: int = 24) -> None:
        """dlib's float_details: frexp's mantissa scaled to `digits` bits (24: a C++ float,
        53: a double), whole zero low bytes shifted off."""
        if digits == 24:
            value = float(np.float32(value))
        m, e = math.frexp(value)
        mantissa, exponent = int(m * (1 << digits)), e - digits
        for _ in range(8):
            if mantissa & 0xFF:
                break
            mantissa >>= 8
            exponent += 8
        self.int(mantissa)
        self.int(exponent)

    def bool(self, value: bool) -> None:
        self.parts.append(b"1" if value else b"0")

    def string(self, s: str) -> None:
        self.int(len(s))
        self.parts.append(s.encode("latin-1"))

    def column(self, values) -> None:
        values = np.asarray(values, np.float32).reshape(-1)
        self.int(-len(values))
        self.int(-1)
        for v in values:
            self.float(v)

    def tensor(self, values: np.ndarray | None, dims=None) -> None:
        self.int(2)
        if values is None:
            for _ in range(4):
                self.int(0)
            return
        values = np.ascontiguousarray(values, "<f4")
        for d in (dims or values.shape):
            self.int(int(d))
        self.parts.append(values.tobytes())

    def alias_tensor(self, dims) -> None:
        self.int(1)
        for d in dims:
            self.int(int(d))


def float32_bits(value: float) -> bytes:
    return struct.pack("<f", value)
