#!/usr/bin/env python3
"""Writes tests/models/tokenizer_cases.h: the golden data of
tests/models/test_tokenizer.c, every expected value produced by llama.cpp
through llama-cpp-python (the independent reference, scripts/llm-reference-env.sh).

    build/llmref/bin/python scripts/gen_tokenizer_golden.py > tests/models/tokenizer_cases.h

It holds:
  * the real model (SmolLM2-135M-Instruct, models/local/, fetched by
    scripts/fetch-smollm2.sh): token ids of ~60 hand-picked strings and ~150
    random ones under add_special / parse_special, llama_detokenize of each,
    BOS/EOS/add_bos, the end-of-generation ids, a SHA-256 over every
    token's piece, and chat-template renders (llama-cpp-python's Jinja2 chat
    formatter over the model's own template);
  * tiny vocabularies defined here (an SPM one with scores and <0xXX> byte
    tokens, in two add_space_prefix variants, and a byte-level BPE one under
    four pre-tokenizers), written as GGUF files, loaded by llama.cpp, and
    their cases. The test rebuilds the same GGUFs with core/gguf's writer,
    so these checks run without the model.
Random choices come from random.Random(seed): the output is the same on
every run with the same llama.cpp.
"""
import ctypes
import hashlib
import os
import random
import re
import struct
import sys
import tempfile

import llama_cpp
from llama_cpp import llama_chat_format

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models/local/SmolLM2-135M-Instruct.Q4_1.gguf")

ADD_SPECIAL, PARSE_SPECIAL = 1, 2

# ==== GGUF (tokenizer metadata only) ====

LLAMA_HPARAMS = [  # what llama.cpp needs to open a vocab-only llama model
    ("general.architecture", "str", "llama"), ("llama.block_count", "u32", 1),
    ("llama.context_length", "u32", 256), ("llama.embedding_length", "u32", 64),
    ("llama.feed_forward_length", "u32", 128), ("llama.attention.head_count", "u32", 2),
    ("llama.attention.head_count_kv", "u32", 2), ("llama.rope.freq_base", "f32", 10000.0),
    ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5),
]


def gguf_string(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, kvs):
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)))
    for key, typ, val in kvs:
        out += gguf_string(key)
        if typ == "str":
            out += struct.pack("<I", 8) + gguf_string(val)
        elif typ == "u32":
            out += struct.pack("<II", 4, val)
        elif typ == "f32":
            out += struct.pack("<If", 6, val)
        elif typ == "bool":
            out += struct.pack("<IB", 7, 1 if val else 0)
        elif typ == "strs":
            out += struct.pack("<IIQ", 9, 8, len(val)) + b"".join(gguf_string(x) for x in val)
        elif typ == "i32s":
            out += struct.pack("<IIQ", 9, 5, len(val)) + b"".join(struct.pack("<i", x) for x in val)
        elif typ == "f32s":
            out += struct.pack("<IIQ", 9, 6, len(val)) + b"".join(struct.pack("<f", x) for x in val)
        else:
            raise ValueError(typ)
    while len(out) % 32:
        out += b"\0"
    with open(path, "wb") as f:
        f.write(bytes(out))


# ==== The reference ====

class Ref:
    def __init__(self, path):
        self.llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm._model.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)

    def tokenize(self, text, flags):
        cap = 2 * len(text) + 16
        arr = (llama_cpp.llama_token * cap)()
        n = llama_cpp.llama_tokenize(self.vocab, text, len(text), arr, cap,
                                     bool(flags & ADD_SPECIAL), bool(flags & PARSE_SPECIAL))
        assert n >= 0, (text, n)
        return list(arr[:n])

    def detokenize(self, ids, render_special):
        arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
        cap = 64 + 64 * len(ids)
        buf = ctypes.create_string_buffer(cap)
        n = llama_cpp.llama_detokenize(self.vocab, arr, len(ids), buf, cap, False, render_special)
        assert n >= 0, (ids, n)
        return buf.raw[:n]

    def piece(self, tid, render_special):
        buf = ctypes.create_string_buffer(1024)
        n = llama_cpp.llama_token_to_piece(self.vocab, tid, buf, 1024, 0, render_special)
        assert 0 <= n <= 1024
        return buf.raw[:n]

    def pieces_sha256(self, render_special):
        h = hashlib.sha256()
        for tid in range(self.n_vocab):
            p = self.piece(tid, render_special)
            h.update(struct.pack("<I", len(p)) + p)
        return h.hexdigest()

    def eog(self):
        return [i for i in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(self.vocab, i)]

    def close(self):
        self.llm.close()


def render_chat(template, messages, add_generation_prompt):
    fmt = llama_chat_format.Jinja2ChatFormatter(template=template, eos_token="", bos_token="",
                                                add_generation_prompt=add_generation_prompt)
    return fmt(messages=messages).prompt.encode()


# ==== Texts ====

REAL_TEXTS = [
    b"", b" ", b"  ", b"   ", b"\n", b"\n\n", b"\t", b"\t\tx", b"  leading", b"trailing  ",
    b"Hello world", b"Hello, world! How are you?", b"I'll don't you're we've he's I'm she'd",
    b"I'LL DON'T We'Re", b"1234567", b"3.14159", b"12 345 6789.0", b"$1,234.56 + 7%",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9".encode(), "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8".encode(),
    "\u4f60\u597d\uff0c\u4e16\u754c".encode(), "\U0001F600\U0001F389 emoji \u2764\ufe0f".encode(),
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645".encode(),
    "e\u0301 a\u0308 n\u0303".encode(), "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440".encode(),
    "\u0928\u092e\u0938\u094d\u0924\u0947".encode(), "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35".encode(),
    "\u0663\u0664\u0665 \u00b2\u00b3 \u216b".encode(), "mixed English \u65e5\u672c and \u0639\u0631\u0628\u064a".encode(),
    b"def f(x):\n    return x ** 2  # square\n", b"int main(void) { return 0; }",
    b"for (i = 0; i < n; i++) {\n\tsum += a[i];\n}", b"https://example.com/path?q=1&r=two#frag",
    b"user@example.org", b"<html><body>Hi</body></html>", b"x   ", b"   \n  x", b"a  1", b"\r\n\r\n",
    b"It's 'quoted' text", b"hello , world . ok ! ? ' s", "\u2003em\u3000ideo\u00a0nbsp".encode(),
    b"<|im_start|>user\nhi<|im_end|>", b"<|im_start|>assistant\n", b"<|endoftext|><|im_end|>",
    b"a<|im_start", b"<reponame>x<file_sep>", b"<|im_start|><|im_start|>",
    b"\xff\xfe bad \xc3", b"\xe2\x82", b"a\x80b", b"\xc0\x80", b"\xed\xa0\x80",
    b"The quick brown fox jumps over the lazy dog.", b"ALL CAPS SENTENCE", b"snake_case_name camelCaseName",
    b"----====****", b"...!!!???", b"\x00\x01\x02 control", "\u00bfQu\u00e9 tal? \u00a1Bien!".encode(),
]

FUZZ_ALPHABET = [
    "a", "b", "Z", " ", "  ", "\n", "\t", "1", "23", ".", ",", "'", "'s", "'ll", "\u00e9", "\u65e5",
    "\U0001F600", "\u0301", "\u00df", "\u03a9", "\u0663", "$", "<", "<|im_start|>", "<|im_end|>",
    "\r\n", "\u00a0", "\u3000", "\u2014", "\u201c", "}", "\\", "word", " the", "ing", "\u2028",
]


def fuzz_texts(rng, count, alphabet, bad_bytes):
    out = []
    for _ in range(count):
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))).encode()
        if bad_bytes and rng.random() < 0.2:
            p = rng.randint(0, len(b))
            b = b[:p] + bytes([rng.randint(0x80, 0xFF)]) + b[p:]
        out.append(b)
    return out


CHATS = [
    ([{"role": "user", "content": "hi"}], True),
    ([{"role": "user", "content": "hi"}], False),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}], True),
    ([{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi! How can I help?"},
      {"role": "user", "content": "Tell me a joke.\nPlease."}], True),
    ([], True),
    ([{"role": "assistant", "content": ""}], False),
]

# ==== Tiny vocabularies ====

SPM_CORPUS = "hello world the cat sat on the mat abc a\u00e9b"


def tiny_spm(rng):
    toks = [("<unk>", 2, 0.0), ("<s>", 3, 0.0), ("</s>", 3, 0.0), ("<mask>", 4, 0.0)]
    toks += [("<0x%02X>" % b, 6, 0.0) for b in range(256)]
    hand = [("\u2581", -1.0), ("\u2581h", -2.0), ("\u2581he", -3.0), ("\u2581hel", -4.0),
            ("\u2581hell", -5.0), ("\u2581hello", -1.5), ("he", -2.5), ("ll", -2.0), ("llo", -3.0),
            ("lo", -3.5), ("\u2581w", -2.0), ("\u2581wor", -4.0), ("or", -2.0), ("ld", -2.0),
            ("orld", -3.0), ("\u2581world", -1.0), ("ab", -2.0), ("bc", -2.0), ("\u2581a", -2.25),
            ("a\u2581b", -2.0), ("\u00e9", -6.0), ("\u2581\u2581", -1.25)]
    chars = sorted(set(SPM_CORPUS.replace(" ", "")))
    seen = {t for t, _ in hand}
    for c in chars:
        if c not in seen:
            hand.append((c, -8.0))
            seen.add(c)
    esc = SPM_CORPUS.replace(" ", "\u2581")
    subs = sorted({esc[i:j] for i in range(len(esc)) for j in range(i + 2, min(len(esc), i + 5) + 1)})
    for s in rng.sample(subs, 40):
        if s not in seen:
            hand.append((s, -float(rng.randint(1, 6)) / 2.0))
            seen.add(s)
    toks += [(t, 1, s) for t, s in hand]
    return toks


BPE_CORPUS = ("the quick brown fox jumps over the lazy dog. The dog's owner isn't here; "
              "we'll see 123 + 4567 = 4690!\n  indented line\tand tabs \u00e9t\u00e9 \u65e5\u672c ")


def byte_chars():
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def tiny_bpe():
    """A byte-level vocabulary: 4 special tokens, the 256 byte characters,
    merges learnt greedily on BPE_CORPUS, and two extra merges ("x y" with no
    "xy" token, ranked before "y z") that exercise the spell-out path."""
    bc = byte_chars()
    words = [[bc[b] for b in w.encode()] for w in re.split(r"(?= )", BPE_CORPUS) if w]
    merges, vocab = [], []
    for _ in range(90):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        best = max(sorted(counts), key=lambda p: counts[p])
        merges.append(best[0] + " " + best[1])
        vocab.append(best[0] + best[1])
        new = []
        for w in words:
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new.append(out)
        words = new
    merges = ["x y"] + merges + ["y z"]
    vocab.append("yz")
    toks = [("<|endoftext|>", 3), ("<|im_start|>", 3), ("<|im_end|>", 3), ("<tool>", 4)]
    toks += [(bc[b], 1) for b in range(256)]
    seen = {t for t, _ in toks}
    for v in vocab:
        if v not in seen:
            toks.append((v, 1))
            seen.add(v)
    return toks, merges


TINY_SPM_TEXTS = [b"", b" ", b"hello", b"hello world", b" hello", b"hello  world", b"abc", b"a b",
                  "a\u00e9b".encode(), "\u65e5".encode(), b"\xff", b"<s>hello</s>", b"x<mask>y",
                  b"the cat sat on the mat", b"\n", b"hello<unk>"]
TINY_BPE_TEXTS = [b"", b"the quick brown fox", b"The dog's owner isn't here", b"we'll see 123 + 4567",
                  b"xyz", b"  indented\n\n\tline", b"<|im_start|>user\nhi<|im_end|>", b"a<tool>b",
                  "\u00e9t\u00e9 \u65e5\u672c".encode(), b"x   ", b"hello , world . it 's", b"I'M HERE"]
TINY_CHARS = list("abcdehlorwtxyz ") + [" ", "  ", "\n", "\u00e9", "\u65e5", "'s", "12", "<s>", "</s>",
                                        "<mask>", "<|im_start|>", "<tool>", "\t", ",", "."]

# ==== C output ====


def c_str(b):
    out, col = ['"'], 0
    for byte in b:
        c = chr(byte)
        if c in '"\\?':
            s = "\\" + c
        elif 0x20 <= byte < 0x7F:
            s = c
        else:
            s = "\\%03o" % byte
        out.append(s)
        col += len(s)
        if col > 90:
            out.append('"\n    "')
            col = 0
    out.append('"')
    return "".join(out)


def c_ids(ids):
    return "{" + ", ".join(str(i) for i in ids) + "}" if ids else "{0}"


def c_float(x):
    assert float(x) == x
    return repr(float(x)) + "f"


class Out:
    def __init__(self):
        self.lines = []

    def w(self, s=""):
        self.lines.append(s)


def emit_cases(o, name, cases):
    """cases: (vocab index, text, flags, ids, detok)."""
    for i, (_, text, _, ids, det) in enumerate(cases):
        o.w("static const int32_t %s_ids_%d[] = %s;" % (name, i, c_ids(ids)))
    o.w("static const vt_tok_case %s[] = {" % name)
    for i, (v, text, flags, ids, det) in enumerate(cases):
        o.w("    {%d, %s, %d, %d, %s_ids_%d, %d, %s, %d}," % (
            v, c_str(text), len(text), flags, name, i, len(ids), c_str(det), len(det)))
    o.w("};")
    o.w()


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else MODEL
    rng = random.Random(20240611)
    o = Out()
    o.w("/* tests/models/tokenizer_cases.h — GENERATED by scripts/gen_tokenizer_golden.py")
    o.w(" * with llama-cpp-python %s (llama.cpp); do not edit: regenerate." % llama_cpp.__version__)
    o.w(" * Golden token ids, detokenised texts, pieces and chat renders for")
    o.w(" * tests/models/test_tokenizer.c. flags: 1 add_special, 2 parse_special")
    o.w(" * (detok is llama_detokenize with unparse_special = parse_special). */")
    o.w("#ifndef VT_TOKENIZER_CASES_H")
    o.w("#define VT_TOKENIZER_CASES_H")
    o.w()
    o.w("#include <stddef.h>")
    o.w("#include <stdint.h>")
    o.w()
    o.w("typedef struct vt_tok_case {")
    o.w("    int vocab; /* index into vt_tiny_vocabs (tiny cases); 0 for the real model */")
    o.w("    const char *text;")
    o.w("    size_t len;")
    o.w("    int flags;")
    o.w("    const int32_t *ids;")
    o.w("    size_t n_ids;")
    o.w("    const char *detok;")
    o.w("    size_t detok_len;")
    o.w("} vt_tok_case;")
    o.w()
    o.w("typedef struct vt_tiny_vocab {")
    o.w("    const char *name;")
    o.w("    const char *model;            /* tokenizer.ggml.model */")
    o.w("    const char *pre;              /* tokenizer.ggml.pre, NULL: absent */")
    o.w("    int add_space_prefix;         /* -1: key absent */")
    o.w("    int32_t bos, eos, unk;        /* -1: key absent */")
    o.w("    int n_tokens;")
    o.w("    const char *const *tokens;")
    o.w("    const int32_t *types;")
    o.w("    const float *scores;          /* NULL: key absent */")
    o.w("    int n_merges;")
    o.w("    const char *const *merges;    /* NULL for SPM */")
    o.w("    const char *chat_template;    /* NULL: key absent */")
    o.w("} vt_tiny_vocab;")
    o.w()
    o.w("typedef struct vt_chat_case {")
    o.w("    int n_msgs;")
    o.w("    const char *const *roles;")
    o.w("    const char *const *contents;")
    o.w("    int add_generation_prompt;")
    o.w("    const char *expected;")
    o.w("} vt_chat_case;")
    o.w()

    # ---- real model ----
    ref = Ref(model)
    o.w("/* ==== SmolLM2-135M-Instruct ==== */")
    o.w()
    o.w("#define VT_REAL_N_VOCAB %d" % ref.n_vocab)
    o.w("#define VT_REAL_BOS %d" % llama_cpp.llama_vocab_bos(ref.vocab))
    o.w("#define VT_REAL_EOS %d" % llama_cpp.llama_vocab_eos(ref.vocab))
    o.w("#define VT_REAL_ADD_BOS %d" % int(llama_cpp.llama_vocab_get_add_bos(ref.vocab)))
    o.w('#define VT_REAL_PIECES_SHA256_SPECIAL "%s"' % ref.pieces_sha256(True))
    o.w('#define VT_REAL_PIECES_SHA256_PLAIN "%s"' % ref.pieces_sha256(False))
    o.w("static const int32_t vt_real_eog[] = %s;" % c_ids(ref.eog()))
    o.w()
    cases = []
    for text in REAL_TEXTS:
        for flags in (0, PARSE_SPECIAL, ADD_SPECIAL | PARSE_SPECIAL):
            ids = ref.tokenize(text, flags)
            cases.append((0, text, flags, ids, ref.detokenize(ids, bool(flags & PARSE_SPECIAL))))
    for text in fuzz_texts(rng, 150, FUZZ_ALPHABET, True):
        flags = rng.choice([0, PARSE_SPECIAL])
        ids = ref.tokenize(text, flags)
        cases.append((0, text, flags, ids, ref.detokenize(ids, bool(flags & PARSE_SPECIAL))))
    emit_cases(o, "vt_real_cases", cases)
    template = ref.llm.metadata["tokenizer.chat_template"]
    ref.close()

    def emit_chats(name, tmpl):
        for i, (msgs, agp) in enumerate(CHATS):
            o.w("static const char *const %s_roles_%d[] = {%s};" % (
                name, i, ", ".join(c_str(m["role"].encode()) for m in msgs) or "NULL"))
            o.w("static const char *const %s_contents_%d[] = {%s};" % (
                name, i, ", ".join(c_str(m["content"].encode()) for m in msgs) or "NULL"))
        o.w("static const vt_chat_case %s[] = {" % name)
        for i, (msgs, agp) in enumerate(CHATS):
            o.w("    {%d, %s_roles_%d, %s_contents_%d, %d, %s}," % (
                len(msgs), name, i, name, i, int(agp), c_str(render_chat(tmpl, msgs, agp))))
        o.w("};")
        o.w()

    emit_chats("vt_real_chats", template)

    # ---- tiny vocabularies ----
    spm = tiny_spm(rng)
    bpe_toks, bpe_merges = tiny_bpe()
    chatml = llama_chat_format.CHATML_CHAT_TEMPLATE
    vocabs = [  # name, model, pre, add_space_prefix, bos, eos, unk
        ("spm", "llama", None, -1, 1, 2, 0),
        ("spm-noprefix", "llama", None, 0, 1, 2, 0),
        ("bpe-smollm", "gpt2", "smollm", -1, 1, 2, -1),
        ("bpe-gpt2", "gpt2", "gpt-2", -1, 1, 2, -1),
        ("bpe-llama3", "gpt2", "llama3", -1, 1, 2, -1),
        ("bpe-default", "gpt2", "default", -1, 1, 2, -1),
    ]
    o.w("/* ==== Tiny vocabularies (built by the test with core/gguf's writer) ==== */")
    o.w()
    o.w("static const char *const vt_spm_tokens[] = {")
    for t, _, _ in spm:
        o.w("    %s," % c_str(t.encode()))
    o.w("};")
    o.w("static const int32_t vt_spm_types[] = {%s};" % ", ".join(str(k) for _, k, _ in spm))
    o.w("static const float vt_spm_scores[] = {%s};" % ", ".join(c_float(s) for _, _, s in spm))
    o.w("static const char *const vt_bpe_tokens[] = {")
    for t, _ in bpe_toks:
        o.w("    %s," % c_str(t.encode()))
    o.w("};")
    o.w("static const int32_t vt_bpe_types[] = {%s};" % ", ".join(str(k) for _, k in bpe_toks))
    o.w("static const char *const vt_bpe_merges[] = {")
    for m in bpe_merges:
        o.w("    %s," % c_str(m.encode()))
    o.w("};")
    o.w("static const char vt_chatml_template[] = %s;" % c_str(chatml.encode()))
    o.w()
    o.w("static const vt_tiny_vocab vt_tiny_vocabs[] = {")
    for name, model_kind, pre, asp, bos, eos, unk in vocabs:
        if model_kind == "llama":
            o.w('    {"%s", "llama", NULL, %d, %d, %d, %d, %d, vt_spm_tokens, vt_spm_types, '
                'vt_spm_scores, 0, NULL, NULL},' % (name, asp, bos, eos, unk, len(spm)))
        else:
            o.w('    {"%s", "gpt2", "%s", %d, %d, %d, %d, %d, vt_bpe_tokens, vt_bpe_types, NULL, '
                '%d, vt_bpe_merges, vt_chatml_template},' % (
                    name, pre, asp, bos, eos, unk, len(bpe_toks), len(bpe_merges)))
    o.w("};")
    o.w("#define VT_N_TINY_VOCABS %d" % len(vocabs))
    o.w()

    tiny_cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for vi, (name, model_kind, pre, asp, bos, eos, unk) in enumerate(vocabs):
            kvs = list(LLAMA_HPARAMS)
            kvs.append(("tokenizer.ggml.model", "str", model_kind))
            if pre is not None:
                kvs.append(("tokenizer.ggml.pre", "str", pre))
            if asp >= 0:
                kvs.append(("tokenizer.ggml.add_space_prefix", "bool", asp))
            if model_kind == "llama":
                kvs += [("tokenizer.ggml.tokens", "strs", [t for t, _, _ in spm]),
                        ("tokenizer.ggml.scores", "f32s", [s for _, _, s in spm]),
                        ("tokenizer.ggml.token_type", "i32s", [k for _, k, _ in spm])]
                texts = TINY_SPM_TEXTS
            else:
                kvs += [("tokenizer.ggml.tokens", "strs", [t for t, _ in bpe_toks]),
                        ("tokenizer.ggml.token_type", "i32s", [k for _, k in bpe_toks]),
                        ("tokenizer.ggml.merges", "strs", bpe_merges)]
                texts = TINY_BPE_TEXTS
            for key, v in (("bos", bos), ("eos", eos), ("unknown", unk)):
                if v >= 0:
                    kvs.append(("tokenizer.ggml.%s_token_id" % key, "u32", v))
            if model_kind == "gpt2":
                kvs.append(("tokenizer.chat_template", "str", chatml))
            path = os.path.join(tmp, name + ".gguf")
            write_gguf(path, kvs)
            r = Ref(path)
            for text in texts + fuzz_texts(rng, 25, TINY_CHARS, True):
                for flags in (0, PARSE_SPECIAL, ADD_SPECIAL | PARSE_SPECIAL):
                    ids = r.tokenize(text, flags)
                    tiny_cases.append((vi, text, flags, ids,
                                       r.detokenize(ids, bool(flags & PARSE_SPECIAL))))
            r.close()
    emit_cases(o, "vt_tiny_cases", tiny_cases)
    emit_chats("vt_chatml_chats", chatml)
    o.w("#endif")
    sys.stdout.write("\n".join(o.lines) + "\n")


if __name__ == "__main__":
    main()
