#!/usr/bin/env python3
"""scripts/quant_vectors.py — writes tests/core/quant_vectors.h: expected
dequantised values for tests/core/test_quant.c, computed independently by
gguf-py's numpy dequantisers (gguf.quants.dequantize).

Two kinds of vectors:
  * hand-made edge blocks (every nibble / byte value, d subnormal, d = -0,
    infinite and NaN halves, extreme scales), expected values listed bit by bit;
  * random sweeps: blocks of bytes from the tests' splitmix64 generator
    (tests/test_util.c, vt_next) and, for F16 / BF16, every 16-bit pattern;
    expected as the SHA-256 of the little-endian float32 output.

verinfer's canonical rule differs from plain numpy in one place only: a NaN
produced by a quantised format's formula is the canonical NaN 0x7fc00000
(numpy gives whatever NaN the hardware makes); F16 / BF16 / F32 keep their
NaN payloads exactly, as numpy does. The rule is applied here to the numpy
output before it is written.

Usage: python3 scripts/quant_vectors.py > tests/core/quant_vectors.h
(needs `pip install gguf numpy`).
"""
import hashlib
import struct
import sys

from importlib import metadata

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

MASK = (1 << 64) - 1
CANON_NAN = 0x7FC00000
QUANTISED = {T.Q4_0, T.Q4_1, T.Q8_0, T.Q4_K, T.Q6_K}
BLOCK_BYTES = {T.Q4_0: 18, T.Q4_1: 20, T.Q8_0: 34, T.Q4_K: 144, T.Q6_K: 210,
               T.F16: 2, T.BF16: 2, T.F32: 4}


class Rng:
    """splitmix64, as vt_next in tests/test_util.c."""

    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def bytes(self, n):
        """n bytes: successive vt_next values, little-endian, the last one cut."""
        out = bytearray()
        while len(out) < n:
            out += struct.pack("<Q", self.next())
        return bytes(out[:n])


def dequant_bits(qtype, raw):
    """uint32 bits of the dequantised values, canonical NaN rule applied."""
    arr = np.frombuffer(raw, dtype=np.uint8).copy()
    with np.errstate(invalid="ignore", over="ignore"):
        vals = quants.dequantize(arr, qtype)
    bits = np.asarray(vals, dtype=np.float32).reshape(-1).view(np.uint32).copy()
    if qtype in QUANTISED:
        bits[np.isnan(bits.view(np.float32))] = CANON_NAN
    return bits


def h16(x):
    return struct.pack("<H", x)


# ---- hand-made edge blocks --------------------------------------------------

NIBBLES = bytes(j | ((15 - j) << 4) for j in range(16))  # lo 0..15, hi 15..0

ONE, HALF, M_HALF, MAXH = 0x3C00, 0x3800, 0xB800, 0x7BFF
SUB_MIN, SUB_MAX, NSUB = 0x0001, 0x03FF, 0x8001
PZERO, NZERO, PINF, NINF = 0x0000, 0x8000, 0x7C00, 0xFC00
QNAN, SNAN, NNAN = 0x7E01, 0x7C01, 0xFE55


def edge_q4_0():
    out = []
    for d, what in [(ONE, "d = 1, every nibble value"), (SUB_MIN, "d = smallest subnormal"),
                    (SUB_MAX, "d = largest subnormal"), (NZERO, "d = -0"), (PZERO, "d = +0"),
                    (PINF, "d = +inf (q = 8 gives inf * 0)"), (NNAN, "d = negative NaN with payload"),
                    (SNAN, "d = signalling NaN"), (MAXH, "d = 65504"), (0xB4CD, "d = -0.3000")]:
        out.append((what, h16(d) + NIBBLES))
    return out


def edge_q4_1():
    pairs = [(ONE, M_HALF, "d = 1, m = -0.5, every nibble value"),
             (SUB_MIN, NSUB, "d, m = +-smallest subnormal"),
             (NZERO, NZERO, "d = -0, m = -0 (-0 + -0 = -0)"),
             (NZERO, PZERO, "d = -0, m = +0"), (PZERO, NZERO, "d = +0, m = -0"),
             (PINF, NINF, "d = +inf, m = -inf"), (PINF, ONE, "d = +inf, m = 1"),
             (ONE, PINF, "d = 1, m = +inf"), (QNAN, ONE, "d = NaN"), (ONE, SNAN, "m = signalling NaN"),
             (MAXH, MAXH, "d = m = 65504"), (0x6400, SUB_MIN, "d = 1024, m = 2^-24 (the add rounds)"),
             (0x3555, 0xB2AB, "d = 0.3333, m = -0.2083"),
             (0x0400, 0x8400, "d = 2^-14, m = -2^-14")]
    return [(what, h16(d) + h16(m) + NIBBLES) for d, m, what in pairs]


def edge_q8_0():
    out = []
    for i in range(8):
        qs = bytes((32 * i + j) & 255 for j in range(32))
        out.append((f"d = 1, bytes {32 * i}..{32 * i + 31}", h16(ONE) + qs))
    allq = bytes(((j * 37) + 128) & 255 for j in range(32))
    for d, what in [(SUB_MIN, "d = smallest subnormal"), (NZERO, "d = -0"), (PINF, "d = +inf"),
                    (NNAN, "d = NaN"), (MAXH, "d = 65504"), (0x2E66, "d = 0.1")]:
        out.append((what, h16(d) + allq))
    return out


def k_scales(sc, mn):
    """Packs 8 six-bit scales and mins as ggml's get_scale_min_k4 reads them."""
    s = [0] * 12
    for j in range(8):
        if j < 4:
            s[j] |= sc[j] & 63
            s[j + 4] |= mn[j] & 63
        else:
            s[j + 4] |= (sc[j] & 15) | ((mn[j] & 15) << 4)
            s[j - 4] |= (sc[j] >> 4) << 6
            s[j] |= (mn[j] >> 4) << 6
    return bytes(s)


def edge_q4_k():
    rng = Rng(0x5151)
    qs = bytes((j & 15) | (((j >> 4) + j) & 15) << 4 for j in range(128))
    scs = [([63, 0, 1, 62, 33, 31, 47, 16], [0, 63, 62, 1, 31, 33, 16, 47]),
           ([63] * 8, [63] * 8), ([0] * 8, [0] * 8), ([5, 9, 17, 40, 50, 60, 2, 3], [7, 11, 13, 19, 23, 29, 37, 41])]
    out = []
    for i, (sc, mn) in enumerate(scs):
        out.append((f"d = 1, dmin = 0.5, scale set {i}", h16(ONE) + h16(HALF) + k_scales(sc, mn) + qs))
    sc, mn = scs[0]
    for d, dm, what in [(SUB_MIN, SUB_MAX, "d, dmin subnormal"), (NZERO, PZERO, "d = -0, dmin = +0"),
                        (PZERO, NZERO, "d = +0, dmin = -0"), (PINF, ONE, "d = +inf (sc = 0 gives NaN)"),
                        (ONE, QNAN, "dmin = NaN"), (MAXH, MAXH, "d = dmin = 65504"),
                        (0x3555, 0x2E66, "d = 0.3333, dmin = 0.1")]:
        out.append((what, h16(d) + h16(dm) + k_scales(sc, mn) + qs))
    out.append(("random bytes, d = 0.01, dmin = 0.02", h16(0x211F) + h16(0x251F) + rng.bytes(140)))
    return out


def edge_q6_k():
    rng = Rng(0x6666)
    ql = bytes((j * 7 + 3) & 255 for j in range(128))
    qh = bytes((j * 29 + 11) & 255 for j in range(64))
    scales = struct.pack("<16b", -128, 127, 0, -1, 1, 2, -2, 64, -64, 100, -100, 33, -33, 7, -7, 5)
    out = []
    for d, what in [(ONE, "d = 1, extreme scales"), (SUB_MIN, "d = smallest subnormal"),
                    (NZERO, "d = -0"), (PINF, "d = +inf (sc = 0 gives NaN)"), (SNAN, "d = NaN"),
                    (MAXH, "d = 65504"), (0x3555, "d = 0.3333 (the product rounds)")]:
        out.append((what, ql + qh + scales + h16(d)))
    allq = bytes(range(128))
    allh = bytes(((j & 3) | ((j >> 2 & 3) << 2) | ((j >> 4 & 3) << 4) | ((j >> 1 & 3) << 6)) for j in range(64))
    out.append(("d = 1, ql 0..127", allq + allh + bytes([1] * 16) + h16(ONE)))
    out.append(("random bytes, d = 0.01", rng.bytes(208) + h16(0x211F)))
    return out


def edge_f16():
    vals = [PZERO, NZERO, SUB_MIN, NSUB, SUB_MAX, 0x0400, ONE, MAXH, 0xFBFF, PINF, NINF,
            0x7E00, SNAN, NNAN, 0x7FFF, 0xFFFF, 0x3555, 0xB4CD, 0x0155, 0x8200]
    return [("F16 specials", b"".join(h16(v) for v in vals))]


def edge_bf16():
    vals = [0x0000, 0x8000, 0x0001, 0x807F, 0x0080, 0x3F80, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80,
            0x7FC0, 0x7F81, 0xFFC1, 0x7FFF, 0x3EAB, 0xBE9A]
    return [("BF16 specials", b"".join(h16(v) for v in vals))]


EDGES = [(T.Q4_0, edge_q4_0), (T.Q4_1, edge_q4_1), (T.Q8_0, edge_q8_0), (T.Q4_K, edge_q4_k),
         (T.Q6_K, edge_q6_k), (T.F16, edge_f16), (T.BF16, edge_bf16)]

# ---- random sweeps -----------------------------------------------------------

SWEEPS = [(T.Q4_0, 4096, 0x4040), (T.Q4_1, 4096, 0x4141), (T.Q8_0, 4096, 0x8080),
          (T.Q4_K, 1024, 0x4B4B), (T.Q6_K, 1024, 0x6B6B), (T.F32, 65536, 0xF32F)]


def sweep_digest(qtype, raw):
    return hashlib.sha256(dequant_bits(qtype, raw).astype("<u4").tobytes()).hexdigest()


def c_bytes(b):
    lines = []
    for i in range(0, len(b), 18):
        lines.append("    " + ", ".join(f"0x{x:02x}" for x in b[i:i + 18]) + ",")
    return "\n".join(lines)


def c_words(w):
    lines = []
    for i in range(0, len(w), 8):
        lines.append("    " + ", ".join(f"0x{int(x):08x}u" for x in w[i:i + 8]) + ",")
    return "\n".join(lines)


def main():
    o = sys.stdout
    o.write("/* tests/core/quant_vectors.h — expected dequantised values for\n"
            " * tests/core/test_quant.c. GENERATED by scripts/quant_vectors.py from\n"
            f" * gguf-py {metadata.version('gguf')} (gguf.quants.dequantize), numpy {np.__version__};\n"
            " * do not edit.\n"
            " * Quantised formats: a NaN result is the canonical NaN 0x7fc00000. */\n")
    o.write("#ifndef VI_TEST_QUANT_VECTORS_H\n#define VI_TEST_QUANT_VECTORS_H\n\n"
            "#include <stddef.h>\n#include <stdint.h>\n\n")
    o.write("typedef struct qv_edge {\n    int type;          /* vi_ggml_type */\n"
            "    const char *what;\n    const uint8_t *bytes;  /* one block (or a row for F16 / BF16) */\n"
            "    size_t n_bytes;\n    const uint32_t *expect; /* bits of the dequantised values */\n"
            "    size_t n_expect;\n} qv_edge;\n\n")
    table = []
    for qtype, fn in EDGES:
        for i, (what, raw) in enumerate(fn()):
            assert len(raw) % BLOCK_BYTES[qtype] == 0, (qtype, what)
            name = f"QV_{qtype.name}_{i}"
            bits = dequant_bits(qtype, raw)
            o.write(f"/* {qtype.name}: {what} */\nstatic const uint8_t {name}_IN[] = {{\n{c_bytes(raw)}\n}};\n")
            o.write(f"static const uint32_t {name}_OUT[] = {{\n{c_words(bits)}\n}};\n\n")
            table.append(f"    {{{int(qtype)}, \"{qtype.name}: {what}\", {name}_IN, sizeof {name}_IN, "
                         f"{name}_OUT, sizeof {name}_OUT / sizeof {name}_OUT[0]}},")
    o.write("static const qv_edge QV_EDGES[] = {\n" + "\n".join(table) + "\n};\n\n")

    o.write("/* Random sweeps: n_blocks blocks of bytes from vt_next with state `seed`\n"
            " * (8 bytes per call, little-endian), dequantised; expected is the SHA-256\n"
            " * of the little-endian float32 bits. */\n")
    o.write("typedef struct qv_sweep {\n    int type;\n    int64_t n_blocks;\n    uint64_t seed;\n"
            "    const char *sha256;\n} qv_sweep;\n\nstatic const qv_sweep QV_SWEEPS[] = {\n")
    for qtype, nb, seed in SWEEPS:
        raw = Rng(seed).bytes(nb * BLOCK_BYTES[qtype])
        o.write(f"    {{{int(qtype)}, {nb}, 0x{seed:x}u, \"{sweep_digest(qtype, raw)}\"}}, /* {qtype.name} */\n")
    o.write("};\n\n")

    o.write("/* Every 16-bit pattern 0 .. 65535 in order, widened: SHA-256 of the\n"
            " * little-endian float32 bits. */\n")
    allh = np.arange(65536, dtype=np.uint16).astype("<u2").tobytes()
    o.write(f"#define QV_F16_ALL_SHA256 \"{sweep_digest(T.F16, allh)}\"\n")
    o.write(f"#define QV_BF16_ALL_SHA256 \"{sweep_digest(T.BF16, allh)}\"\n\n#endif\n")


if __name__ == "__main__":
    main()
