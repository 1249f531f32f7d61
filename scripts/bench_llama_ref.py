#!/usr/bin/env python3
"""scripts/bench_llama_ref.py — llama.cpp's throughput (llama-cpp-python) on
the same measurement as bench/bench_llama.c: prompt tok/s of a 128-token
prompt in one call and batch-1 decode tok/s of DECODE tokens (default 128)
after it, best of 3, for each thread count (n_threads = n_threads_batch).
bench_llama runs this script itself when build/llmref exists and parses its
table (threads, prompt t/s, decode t/s, decode ms/t).

Usage: build/llmref/bin/python scripts/bench_llama_ref.py [MODEL.gguf] [threads,...] [DECODE]
"""
import os
import sys
import time

from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models/local/SmolLM2-135M-Instruct.Q4_1.gguf")
PROMPT, REPS = 128, 3


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else MODEL
    threads = [int(t) for t in (sys.argv[2] if len(sys.argv) > 2 else "1,2").split(",")]
    decode = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    print("%-8s %12s %12s %12s" % ("threads", "prompt t/s", "decode t/s", "decode ms/t"))
    for th in threads:
        llm = Llama(model_path=model, n_ctx=PROMPT + decode + 8, n_batch=PROMPT, n_threads=th,
                    n_threads_batch=th, logits_all=False, verbose=False)
        vocab = llm.n_vocab()
        prompt = [(i * 7919 + 13) % vocab for i in range(PROMPT)]
        best_p = best_d = 1e30
        for _ in range(REPS):
            llm.reset()
            a = time.perf_counter()
            llm.eval(prompt)
            b = time.perf_counter()
            for i in range(decode):
                llm.eval([(i * 31 + 7) % vocab])
            d = time.perf_counter()
            best_p, best_d = min(best_p, b - a), min(best_d, d - b)
        print("%-8d %12.1f %12.1f %12.2f" % (th, PROMPT / best_p, decode / best_d,
                                             1e3 * best_d / decode), flush=True)


if __name__ == "__main__":
    main()
