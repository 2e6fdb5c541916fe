#!/usr/bin/env python3
"""Writes the safetensors files sieve-pack's tests read (standard library only).

    make_safetensors.py DIR

DIR/model.safetensors        the layers: F32 2:4-sparse, F16, BF16, a 1-D bias, an unmatched
                             name, an I64 tensor; model.json holds their fp32 values
DIR/conversions.safetensors  every F16 and BF16 bit pattern beside its fp32 value as Python
                             computes it (the oracle of the tool's conversions)
DIR/bad_*.safetensors        malformed files; malformed.json maps each to the message it must
                             produce
"""
import json
import math
import os
import struct
import sys


def f32(x):
    """x rounded to fp32, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def layout(tensors, metadata=None):
    """safetensors bytes of [(name, dtype, shape, raw bytes)], in that order."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    return struct.pack("<Q", len(text)) + text + data


def raw_header(text, data=b""):
    text = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(text)) + text + data


def lcg_values(count, seed, bits=10):
    """Deterministic values in (-1, 1) in steps of 2^-bits: exact in F16 (bits <= 10), BF16
    (bits <= 7) and F32."""
    out, state, one = [], seed, 1 << bits
    for _ in range(count):
        state = (state * 1103515245 + 12345) % (1 << 31)
        out.append(((state >> 8) % (2 * one - 1) - (one - 1)) / one)
    return out


def model(directory):
    m, k = 16, 32
    up = lcg_values(m * k, 1)
    for r in range(m):  # 2:4 sparse: zero the 2 smallest of every group of 4
        for g in range(0, k, 4):
            group = sorted(range(g, g + 4), key=lambda c: (abs(up[r * k + c]), c))
            for c in group[:2]:
                up[r * k + c] = 0.0
            for c in group[2:]:
                if up[r * k + c] == 0.0:
                    up[r * k + c] = 0.5
    down = lcg_values(k * m, 2)  # 32 x 16, F16
    down[0], down[1] = 2.0 ** -20, -(2.0 ** -24)  # F16 subnormals
    q = lcg_values(m * m, 3, bits=7)  # 16 x 16, BF16
    q[5] = 2.0 ** -130  # a BF16 subnormal
    bias = lcg_values(m, 4)
    embed = lcg_values(8 * m, 5)

    def bf16(values):
        return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in values)

    tensors = [
        ("layers.0.mlp.up.weight", "F32", [m, k], struct.pack("<%df" % len(up), *up)),
        ("layers.0.mlp.down.weight", "F16", [k, m], struct.pack("<%de" % len(down), *down)),
        ("layers.0.attn.q.weight", "BF16", [m, m], bf16(q)),
        ("layers.0.mlp.up.bias", "F32", [m], struct.pack("<%df" % len(bias), *bias)),
        ("embed.tokens", "F32", [8, m], struct.pack("<%df" % len(embed), *embed)),
        ("layers.0.positions", "I64", [2, 4], struct.pack("<8q", *range(8))),
    ]
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(layout(tensors, {"format": "pt", "origin": "sieve-pack test"}))
    values = {
        "layers.0.mlp.up.weight": up,
        "layers.0.mlp.down.weight": down,
        "layers.0.attn.q.weight": q,
        "embed.tokens": embed,
    }
    shapes = {"layers.0.mlp.up.weight": [m, k], "layers.0.mlp.down.weight": [k, m],
              "layers.0.attn.q.weight": [m, m], "embed.tokens": [8, m]}
    with open(os.path.join(directory, "model.json"), "w") as f:
        json.dump({"values": values, "shapes": shapes}, f)


def conversions(directory):
    patterns = list(range(1 << 16))
    f16_raw = struct.pack("<%dH" % len(patterns), *patterns)
    f16_values = [struct.unpack("<e", struct.pack("<H", p))[0] for p in patterns]
    bf16_values = [struct.unpack("<f", struct.pack("<I", p << 16))[0] for p in patterns]
    tensors = [
        ("f16_all", "F16", [256, 256], f16_raw),
        ("f16_all_as_f32", "F32", [256, 256], struct.pack("<%df" % len(f16_values), *f16_values)),
        ("bf16_all", "BF16", [256, 256], f16_raw),
        ("bf16_all_as_f32", "F32", [256, 256], struct.pack("<%df" % len(bf16_values), *bf16_values)),
    ]
    with open(os.path.join(directory, "conversions.safetensors"), "wb") as f:
        f.write(layout(tensors))


def malformed(directory):
    four = struct.pack("<4f", 1, 2, 3, 4)
    w = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}

    def header(d, data=four):
        return raw_header(json.dumps(d), data)

    cases = {
        "too_short": (b"\x10\x00\x00", "too short for the 8-byte header length"),
        "header_past_end": (struct.pack("<Q", 1000) + b'{"a": 1}', "header length 1000 runs past the end of the file"),
        "header_length_huge": (struct.pack("<Q", (1 << 64) - 1) + b"{}", "runs past the end of the file"),
        "bad_json": (raw_header('{"w": {"dtype": "F32", '), "the header is not valid JSON"),
        "not_object": (raw_header("[1, 2, 3]"), "the header is JSON but not an object"),
        "entry_not_object": (header({"w": [1, 2]}), "tensor 'w': entry is not a JSON object"),
        "missing_dtype": (header({"w": {"shape": [2, 2], "data_offsets": [0, 16]}}), "missing or non-string \"dtype\""),
        "unknown_dtype": (header({"w": dict(w, dtype="F12")}), "unknown dtype 'F12'"),
        "negative_shape": (header({"w": dict(w, shape=[-2, 2])}), "not a non-negative integer"),
        "float_shape": (header({"w": dict(w, shape=[2.0, 2])}), "not a non-negative integer"),
        "shape_overflow": (header({"w": dict(w, shape=[1 << 40, 1 << 40])}), "shape overflows"),
        "offsets_not_pair": (header({"w": dict(w, data_offsets=[0])}), "must be two non-negative integers"),
        "offsets_backwards": (header({"w": dict(w, data_offsets=[16, 0])}), "run backwards"),
        "offsets_out_of_range": (header({"w": dict(w, data_offsets=[0, 32])}), "run past the data section (16 bytes)"),
        "size_mismatch": (header({"w": dict(w, shape=[2, 3], data_offsets=[0, 16])}), "6 elements need 24"),
        "overlap": (header({"a": dict(w, shape=[2], data_offsets=[0, 8]), "b": dict(w, shape=[2], data_offsets=[4, 12])}),
                    "tensors 'a' and 'b' overlap"),
        "duplicate_name": (raw_header('{"w": %s, "w": %s}' % (json.dumps(w), json.dumps(w)), four), "names 'w' twice"),
        "metadata_not_strings": (header({"w": w, "__metadata__": {"n": 3}}), "__metadata__ value of 'n' is not a string"),
        "unknown_field": (header({"w": dict(w, layout="nchw")}), "unknown field 'layout'"),
    }
    expected = {}
    for name, (data, message) in cases.items():
        path = os.path.join(directory, "bad_%s.safetensors" % name)
        with open(path, "wb") as f:
            f.write(data)
        expected[os.path.basename(path)] = message
    with open(os.path.join(directory, "malformed.json"), "w") as f:
        json.dump(expected, f, indent=1)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    model(directory)
    conversions(directory)
    malformed(directory)


if __name__ == "__main__":
    main()
