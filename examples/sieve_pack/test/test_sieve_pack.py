#!/usr/bin/env python3
"""sieve-pack's end-to-end tests (one ctest per case; make_safetensors.py runs first).

    test_sieve_pack.py CASE --dir DIR --tool SIEVE_PACK --roundtrip ROUNDTRIP [--emulator CMD]

CASE: summary     the table's numbers against values computed here from the tensors
      modes       every format and int8 mode packs, and the blob's GEMV equals in-memory
                  packing bitwise (ROUNDTRIP); bad options and unpackable tensors fail cleanly
      inspect     --inspect prints what packing printed; damaged blobs fail cleanly
      malformed   each malformed safetensors file fails with its own message
"""
import argparse
import json
import math
import os
import shlex
import struct
import subprocess
import sys

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAILED: " + what)


def run(args, command):
    """(exit code, stdout, stderr) of a tool run, through the emulator when cross-compiling."""
    full = shlex.split(args.emulator) + command
    print("$ " + " ".join(shlex.quote(c) for c in command))
    p = subprocess.run(full, capture_output=True, text=True, timeout=600)
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    return p.returncode, p.stdout, p.stderr


def table(stdout):
    """The summary table's rows, by name: shape format dtype nnz bytes saved saved% err."""
    rows, lines = {}, stdout.splitlines()
    header = [i for i, line in enumerate(lines) if line.split()[:2] == ["name", "shape"]]
    if not header:
        return rows
    for line in lines[header[0] + 1:]:
        fields = line.split()
        if fields and fields[0] == "total:":
            break
        if len(fields) == 9:
            rows[fields[0]] = fields[1:]
    return rows


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def int8_row_error(values, rows, cols, kept):
    """max |w - q*s| of symmetric per-row int8 over the stored weights, as sieve computes it
    (fp32 scale max|w|/127, q = round-half-even(w / s) in fp32, error in double)."""
    worst = 0.0
    for r in range(rows):
        row = [values[r * cols + c] for c in range(cols) if kept(r, c)]
        s = f32(max((abs(w) for w in row), default=0.0) / 127.0)
        for w in row:
            q = 0.0 if s == 0.0 else float(round(f32(w / s)))
            q = max(-127.0, min(127.0, q))
            worst = max(worst, abs(w - q * s))
    return worst


def case_summary(args):
    model = json.load(open(os.path.join(args.dir, "model.json")))
    values, shapes = model["values"], model["shapes"]
    src = os.path.join(args.dir, "model.safetensors")

    # Every 2-D tensor, dense fp32: nothing saved; the 1-D bias and the I64 tensor skipped.
    out = os.path.join(args.dir, "summary_dense.sieve")
    code, stdout, _ = run(args, [args.tool, src, out])
    check(code == 0, "dense: exit 0")
    rows = table(stdout)
    check(sorted(rows) == sorted(shapes), "dense: one row per 2-D float tensor, got %s" % sorted(rows))
    for name, (m, k) in shapes.items():
        if name in rows:
            expect = ["%dx%d" % (m, k), "dense", "fp32", str(m * k), str(m * k * 4), "0", "0.0%", "-"]
            check(rows[name] == expect, "dense: row %s is %s, expected %s" % (name, rows[name], expect))
    check("skipped layers.0.mlp.up.bias (16, F32): not 2-D" in stdout, "dense: the bias is skipped as not 2-D")
    check("skipped layers.0.positions (2x4, I64): dtype has no fp32 conversion" in stdout,
          "dense: the I64 tensor is skipped for its dtype")

    # The 2:4-sparse F32 tensor as 2:4, fp32 then int8 per row.
    up, (m, k) = values["layers.0.mlp.up.weight"], shapes["layers.0.mlp.up.weight"]
    meta = m * ((k // 4 * 4 + 63) // 64 * 8)  # 4-bit masks, rows padded to 8 bytes
    for int8, dtype, value_bytes, scale_bytes in ((False, "fp32", 4, 0), (True, "int8", 1, 4 * m)):
        out = os.path.join(args.dir, "summary_24_%s.sieve" % dtype)
        code, stdout, _ = run(args, [args.tool, src, out, "--format", "2:4", "--match", r"layers\.0\.mlp\.up\.weight"]
                              + (["--int8", "row"] if int8 else []))
        check(code == 0, "2:4 %s: exit 0" % dtype)
        rows = table(stdout)
        nnz = m * k // 2
        size = nnz * value_bytes + meta + scale_bytes
        saved = m * k * 4 - size
        row = rows.get("layers.0.mlp.up.weight", [])
        check(row[:7] == ["%dx%d" % (m, k), "2:4", dtype, str(nnz), str(size), str(saved),
                          "%.1f%%" % (100.0 * saved / (m * k * 4))],
              "2:4 %s: row is %s" % (dtype, row))
        check(len(rows) == 1, "2:4 %s: one row" % dtype)
        check("skipped layers.0.attn.q.weight (16x16, BF16): does not match --match" in stdout,
              "2:4 %s: unmatched names are listed" % dtype)
        if int8 and len(row) == 8:
            expect = int8_row_error(up, m, k, lambda r, c: up[r * k + c] != 0.0)
            got = float(row[7])
            check(expect > 0 and abs(got - expect) <= 1e-3 * expect,
                  "2:4 int8: max|err| %s, expected %.3e" % (row[7], expect))

    # The F16 tensor, dense int8 in groups of 32 inputs: K = 32 is one group per row.
    down, (m, k) = values["layers.0.mlp.down.weight"], shapes["layers.0.mlp.down.weight"]
    out = os.path.join(args.dir, "summary_f16_int8.sieve")
    code, stdout, _ = run(args, [args.tool, src, out, "--int8", "group:32", "--match", r".*down\.weight"])
    check(code == 0, "f16 int8: exit 0")
    row = table(stdout).get("layers.0.mlp.down.weight", [])
    ld = (k + 63) // 64 * 64
    check(row[:5] == ["%dx%d" % (m, k), "dense", "int8", str(m * k), str(m * ld + m * 4)], "f16 int8: row is %s" % row)
    if len(row) == 8:
        expect = int8_row_error(down, m, k, lambda r, c: True)
        check(abs(float(row[7]) - expect) <= 1e-3 * expect, "f16 int8: max|err| %s, expected %.3e" % (row[7], expect))


def case_modes(args):
    src = os.path.join(args.dir, "model.safetensors")
    good = [
        ["--format", "dense"],
        ["--format", "csr"],
        ["--format", "csr", "--prune=0.75"],
        ["--format", "2:4", "--match", r".*mlp\.up\.weight"],
        ["--format", "2:4", "--prune"],
        ["--format", "1:4", "--prune", "--int8", "row"],
        ["--format", "bsr:1x4"],
        ["--format", "bsr:4x4", "--prune=0.5"],
        ["--format", "bsr:8x1", "--prune", "--int8", "group:32"],
        ["--format", "dense", "--int8", "row"],
        ["--format", "csr", "--prune", "--int8", "group:32"],
        ["--format", "2:4", "--int8", "group:32", "--match", r"layers\.0\.mlp\.up\.weight"],
        ["--format", "bitmap"],
        ["--format", "bitmap", "--prune=0.75", "--int8", "row"],
        ["--format", "bitmap", "--prune", "--int8", "group:32"],
    ]
    for i, options in enumerate(good):
        out = os.path.join(args.dir, "mode_%d.sieve" % i)
        code, _, _ = run(args, [args.tool, src, out] + options)
        check(code == 0 and os.path.exists(out), "%s: packs" % options)
        code, _, _ = run(args, [args.roundtrip, src, out] + options)
        check(code == 0, "%s: blob GEMV equals in-memory GEMV" % options)

    def fails(options, code_expected, message, out="mode_bad.sieve"):
        out = os.path.join(args.dir, out)
        if os.path.exists(out):
            os.remove(out)
        code, _, stderr = run(args, [args.tool, src, out] + options)
        check(code == code_expected and message in stderr,
              "%s: exit %d (expected %d), message %r (expected %r)" % (options, code, code_expected, stderr, message))
        check(not os.path.exists(out), "%s: nothing written" % options)

    fails(["--format", "2:4"], 1, "tensor 'embed.tokens': nm pack: row 0")
    fails(["--format", "2:4"], 1, "(--prune prunes by magnitude to the format)")
    fails(["--match", "nothing"], 1, "no tensor to pack (6 skipped)")
    fails(["--format", "bsr:3x3"], 2, "BSR blocks are one of 1x4, 1x8, 1x16, 4x1, 8x1, 16x1, 4x4")
    fails(["--format", "3:5"], 2, "--format 3:5: N:M needs")
    fails(["--format", "coo"], 2, "--format coo: expected dense, csr")
    fails(["--int8", "group:48"], 2, "--int8 group:48: expected row or group:G")
    fails(["--match", "("], 2, "--match (:")
    fails(["--prune=1.5"], 2, "--prune=1.5: the sparsity must be a number in [0, 1]")
    fails(["--frobnicate"], 2, "unknown option --frobnicate")
    code, _, stderr = run(args, [args.tool, src])
    check(code == 2 and "expected IN.safetensors and OUT.sieve" in stderr, "one file name: exit 2")
    code, stdout, _ = run(args, [args.tool, "--help"])
    check(code == 0 and stdout.startswith("usage: sieve-pack") and "--int8" in stdout, "--help: usage, exit 0")
    code, _, stderr = run(args, [args.tool, os.path.join(args.dir, "missing.safetensors"), "x.sieve"])
    check(code == 1 and "cannot open" in stderr, "missing input: exit 1")


def case_inspect(args):
    src = os.path.join(args.dir, "model.safetensors")
    out = os.path.join(args.dir, "inspect.sieve")
    for options in (["--format", "csr", "--prune", "--int8", "row"], ["--format", "bsr:1x8", "--prune"]):
        code, packed, _ = run(args, [args.tool, src, out] + options)
        check(code == 0, "%s: packs" % options)
        code, shown, _ = run(args, [args.tool, "--inspect", out])
        check(code == 0, "--inspect: exit 0")
        packed_rows, shown_rows = table(packed), table(shown)
        # The blob knows no quantization error: compare the other columns.
        check(len(shown_rows) == 4 and {n: r[:7] for n, r in packed_rows.items()} ==
              {n: r[:7] for n, r in shown_rows.items()},
              "--inspect shows what packing wrote: %s vs %s" % (shown_rows, packed_rows))

    blob = open(out, "rb").read()

    def flip(at):
        return blob[:at] + bytes([blob[at] ^ 0x40]) + blob[at + 1:]

    # The blob layout (include/sieve/io/blob_format.hpp): a 64-byte header, then 320-byte
    # entries whose section table starts at +128 with (kind u32, reserved u32, offset u64, size).
    first_section = struct.unpack_from("<Q", blob, 64 + 128 + 8)[0]
    damaged = {
        "truncated": blob[: len(blob) // 2],
        "directory_flipped": flip(64 + 72),
        "data_flipped": flip(first_section),
        "not_a_blob": open(src, "rb").read(),
        "empty": b"",
    }
    messages = set()
    for name, data in damaged.items():
        path = os.path.join(args.dir, "damaged_%s.sieve" % name)
        open(path, "wb").write(data)
        code, _, stderr = run(args, [args.tool, "--inspect", path])
        check(code == 1 and stderr.startswith("sieve-pack: " + path), "--inspect %s: exit 1 (got %d)" % (name, code))
        messages.add(stderr)
    check(len(messages) == len(damaged), "each damaged blob has its own message")
    code, _, stderr = run(args, [args.tool, "--inspect", os.path.join(args.dir, "missing.sieve")])
    check(code == 1, "--inspect of a missing file: exit 1")


def case_malformed(args):
    expected = json.load(open(os.path.join(args.dir, "malformed.json")))
    seen = {}
    for name, message in sorted(expected.items()):
        path = os.path.join(args.dir, name)
        code, stdout, stderr = run(args, [args.tool, path, os.path.join(args.dir, "malformed_out.sieve")])
        check(code == 1, "%s: exit 1 (got %d: a crash is negative or above 128)" % (name, code))
        check(message in stderr, "%s: message %r lacks %r" % (name, stderr, message))
        check(stderr.startswith("sieve-pack: " + path + ": "), "%s: the message names the file" % name)
        check(stderr not in seen, "%s: its message is its own (also given for %s)" % (name, seen.get(stderr)))
        seen[stderr] = name
    check(not os.path.exists(os.path.join(args.dir, "malformed_out.sieve")), "nothing written for a malformed input")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["summary", "modes", "inspect", "malformed"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tool", required=True)
    parser.add_argument("--roundtrip", required=True)
    parser.add_argument("--emulator", default="")
    args = parser.parse_args()
    globals()["case_" + args.case](args)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
