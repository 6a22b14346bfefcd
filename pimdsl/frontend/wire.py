"""Read an ONNX file without its weight payloads, straight from the protobuf wire format.

`onnx.load` reads the whole file into a bytes object and then parses it into a ModelProto
that copies every weight again, so a 500 MB VGG16 needs about 1 GB before anything happens.
Here the file is memory-mapped and walked field by field: everything except the data fields of
large initializers (and of large `Constant` node tensors, which pimdsl treats as initializers
named after the node's output) is copied into a small ModelProto, and for each stripped tensor
we keep its header (name, dims, type) and the file ranges of its data, to read it on demand.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass, field

# ModelProto.graph, GraphProto.node/initializer, NodeProto.output/op_type/attribute,
# AttributeProto.name/t and TensorProto's data fields (onnx.proto).
MODEL_GRAPH = 7
GRAPH_NODE = 1
GRAPH_INITIALIZER = 5
NODE_OUTPUT = 2
NODE_OP_TYPE = 4
NODE_ATTRIBUTE = 5
ATTRIBUTE_NAME = 1
ATTRIBUTE_TENSOR = 5
TENSOR_NAME = 8
TENSOR_DATA_FIELDS = frozenset(
    {4, 5, 6, 7, 9, 10, 11}
)  # float/int32/string/int64/raw/double/uint64

# Initializers with at most this many data bytes stay whole (shape tensors, scalars, small biases),
# so ONNX shape inference can still propagate them.
KEEP_BYTES = 64 * 1024


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass
class StrippedTensor:
    """An initializer whose data stayed in the file: its header and the data's byte ranges."""

    header: bytes
    ranges: list[tuple[int, int]] = field(default_factory=list)

    @property
    def data_bytes(self) -> int:
        return sum(e - s for s, e in self.ranges)


def _varint(buf: mmap.mmap | bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field_number: int, wire_type: int) -> bytes:
    return _encode_varint((field_number << 3) | wire_type)


def _fields(
    buf: mmap.mmap | bytes, start: int, end: int
) -> Iterator[tuple[int, int, int, int, int]]:
    """Yield (field number, wire type, field start, value start, value end) of a message."""
    pos = start
    while pos < end:
        field_start = pos
        key, pos = _varint(buf, pos, end)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire_type == 0:
            _, value_end = _varint(buf, pos, end)
            value_start = pos
        elif wire_type == 1:
            value_start, value_end = pos, pos + 8
        elif wire_type == 2:
            length, value_start = _varint(buf, pos, end)
            value_end = value_start + length
        elif wire_type == 5:
            value_start, value_end = pos, pos + 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")
        if value_end > end:
            raise WireError("field runs past the end of its message")
        yield number, wire_type, field_start, value_start, value_end
        pos = value_end


def _strip_tensor(buf: mmap.mmap, start: int, end: int) -> tuple[str, bytes, list[tuple[int, int]]]:
    header = bytearray()
    ranges: list[tuple[int, int]] = []
    name = ""
    for number, wire_type, fs, vs, ve in _fields(buf, start, end):
        if number in TENSOR_DATA_FIELDS:
            if ranges and ranges[-1][1] == fs:  # unpacked repeated values are contiguous
                ranges[-1] = (ranges[-1][0], ve)
            else:
                ranges.append((fs, ve))
            continue
        if number == TENSOR_NAME and wire_type == 2:
            name = bytes(buf[vs:ve]).decode("utf-8", errors="replace")
        header += buf[fs:ve]
    return name, bytes(header), ranges


def _strip_constant_node(
    buf: mmap.mmap, start: int, end: int
) -> tuple[bytes, str, StrippedTensor] | None:
    """A `Constant` node whose `value` tensor is large, re-encoded without the tensor's data;
    None for any other node (kept as is)."""
    fields = list(_fields(buf, start, end))
    op_type = next(
        (bytes(buf[vs:ve]) for n, w, _, vs, ve in fields if n == NODE_OP_TYPE and w == 2), b""
    )
    outputs = [bytes(buf[vs:ve]) for n, w, _, vs, ve in fields if n == NODE_OUTPUT and w == 2]
    if op_type != b"Constant" or len(outputs) != 1:
        return None
    out = bytearray()
    found: StrippedTensor | None = None
    for number, wire_type, fs, vs, ve in fields:
        if number == NODE_ATTRIBUTE and wire_type == 2:
            attr = _strip_value_attribute(buf, vs, ve)
            if attr is not None:
                body, found = attr
                out += _key(NODE_ATTRIBUTE, 2) + _encode_varint(len(body)) + body
                continue
        out += buf[fs:ve]
    if found is None:
        return None
    return bytes(out), outputs[0].decode("utf-8", errors="replace"), found


def _strip_value_attribute(
    buf: mmap.mmap, start: int, end: int
) -> tuple[bytes, StrippedTensor] | None:
    fields = list(_fields(buf, start, end))
    names = [bytes(buf[vs:ve]) for n, w, _, vs, ve in fields if n == ATTRIBUTE_NAME and w == 2]
    if names != [b"value"]:
        return None
    out = bytearray()
    found: StrippedTensor | None = None
    for number, wire_type, fs, vs, ve in fields:
        if number == ATTRIBUTE_TENSOR and wire_type == 2:
            _, header, ranges = _strip_tensor(buf, vs, ve)
            tensor = StrippedTensor(header, ranges)
            if tensor.data_bytes > KEEP_BYTES:
                out += _key(ATTRIBUTE_TENSOR, 2) + _encode_varint(len(header)) + header
                found = tensor
                continue
        out += buf[fs:ve]
    return None if found is None else (bytes(out), found)


def _strip_graph(buf: mmap.mmap, start: int, end: int) -> tuple[bytes, dict[str, StrippedTensor]]:
    out = bytearray()
    stripped: dict[str, StrippedTensor] = {}
    for number, wire_type, fs, vs, ve in _fields(buf, start, end):
        if number == GRAPH_NODE and wire_type == 2:
            node = _strip_constant_node(buf, vs, ve)
            if node is not None:
                body, name, tensor = node
                out += _key(GRAPH_NODE, 2) + _encode_varint(len(body)) + body
                stripped[name] = tensor
                continue
        if number == GRAPH_INITIALIZER and wire_type == 2:
            name, header, ranges = _strip_tensor(buf, vs, ve)
            tensor = StrippedTensor(header, ranges)
            if tensor.data_bytes > KEEP_BYTES:
                out += _key(GRAPH_INITIALIZER, 2) + _encode_varint(len(header)) + header
                stripped[name] = tensor
                continue
        out += buf[fs:ve]
    return bytes(out), stripped


def read_without_payloads(path: str) -> tuple[bytes, dict[str, StrippedTensor]]:
    """The serialized ModelProto of `path` minus large initializer data, and where that data is.

    Raises WireError when the file is not a well-formed protobuf, OSError when it cannot be read.
    """
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            raise WireError("the file is empty")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            out = bytearray()
            stripped: dict[str, StrippedTensor] = {}
            for number, wire_type, fs, vs, ve in _fields(buf, 0, size):
                if number == MODEL_GRAPH and wire_type == 2:
                    graph, found = _strip_graph(buf, vs, ve)
                    out += _key(MODEL_GRAPH, 2) + _encode_varint(len(graph)) + graph
                    stripped.update(found)
                else:
                    out += buf[fs:ve]
    return bytes(out), stripped


def read_payload(path: str, tensor: StrippedTensor) -> bytes:
    """The full serialized TensorProto of a stripped initializer (header + data from the file)."""
    parts = [tensor.header]
    with open(path, "rb") as f:
        for start, end in tensor.ranges:
            f.seek(start)
            parts.append(f.read(end - start))
    return b"".join(parts)
