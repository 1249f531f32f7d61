#!/usr/bin/env python3
"""scripts/bench_llama_ref.py — llama.cpp's throughput (llama-cpp-python) on
the same measurement as bench/bench_llama.c: prefill tok/s of a 128-token
prompt and batch-1 decode tok/s of 64 tokens, best of 3, for 1 and 2 threads.

Usage: build/llmref/bin/python scripts/bench_llama_ref.py [MODEL.gguf] [threads,...]
"""
import os
import sys
import time

from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models/local/SmolLM2-135M-Instruct.Q4_1.gguf")
PROMPT, DECODE, REPS = 128, 64, 3


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else MODEL
    threads = [int(t) for t in (sys.argv[2] if len(sys.argv) > 2 else "1,2").split(",")]
    print("%-8s %12s %12s %12s" % ("threads", "prefill t/s", "decode t/s", "decode ms/t"))
    for th in threads:
        llm = Llama(model_path=model, n_ctx=PROMPT + DECODE + 8, n_batch=PROMPT, n_threads=th,
                    n_threads_batch=th, logits_all=False, verbose=False)
        vocab = llm.n_vocab()
        prompt = [(i * 7919 + 13) % vocab for i in range(PROMPT)]
        best_p = best_d = 1e30
        for _ in range(REPS):
            llm.reset()
            a = time.perf_counter()
            llm.eval(prompt)
            b = time.perf_counter()
            for i in range(DECODE):
                llm.eval([(i * 31 + 7) % vocab])
            d = time.perf_counter()
            best_p, best_d = min(best_p, b - a), min(best_d, d - b)
        print("%-8d %12.1f %12.1f %12.2f" % (th, PROMPT / best_p, DECODE / best_d,
                                             1e3 * best_d / DECODE))


if __name__ == "__main__":
    main()
