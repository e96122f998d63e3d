#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/{idx,safetensors}/): small
valid files and the malformed ones that once crashed or misbehaved. Committed with its output;
run it again after changing it: python3 tests/fuzz/make_corpus.py"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(kind, name, data):
    path = os.path.join(HERE, "corpus", kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def idx(dims, body, type_code=0x08):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


write("idx", "labels", idx([5], bytes([1, 2, 3, 4, 9])))
write("idx", "images", idx([2, 3, 3], bytes(range(18))))
write("idx", "empty", idx([0, 28, 28], b""))
write("idx", "trailing", idx([2], b"abc"))
write("idx", "truncated", idx([4, 4], b"abc"))
write("idx", "float_type", idx([2], b"\0" * 8, 0x0D))
write("idx", "zero_dim_overflow", idx([0, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF], b""))
write("idx", "huge_dims", idx([0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF], b""))


def safetensors(header, data=b"", raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


two = {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
       "b": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]},
       "__metadata__": {"epoch": "3"}}
write("safetensors", "valid", safetensors(two, bytes(24)))
write("safetensors", "empty", safetensors({}))
write("safetensors", "scalar", safetensors({"s": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]}}, bytes(8)))
write("safetensors", "zero_dim_overflow", safetensors(
    {"w": {"dtype": "U8", "shape": [0, 4611686018427387904, 4], "data_offsets": [0, 0]}}))
write("safetensors", "bom", safetensors(None, bytes(2), b'\xef\xbb\xbf{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}'))
write("safetensors", "duplicate_field", safetensors(None, bytes(2), b'{"w":{"dtype":"U8","dtype":"U8","shape":[2],"data_offsets":[0,2]}}'))
write("safetensors", "duplicate_name", safetensors(None, bytes(2), b'{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"w":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}'))
write("safetensors", "deep", safetensors(None, b"", b'{"w":{"shape":[[[[[[1]]]]]]}}'))
write("safetensors", "overlap", safetensors(None, bytes(4), b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}'))
write("safetensors", "many", safetensors(
    {"t%d" % i: {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]} for i in range(300)}))
