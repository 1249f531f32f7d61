"""tests/server/openai_real_check.py — checks `verinfer serve --llm` on the real
SmolLM2-135M-Instruct model with the `openai` client and plain HTTP: a greedy
answer that knows Paris, 8 identical concurrent greedy requests giving one
completion, 8 different concurrent sampled requests each equal to the same
request sent alone, every receipt verified by /v1/verify (re-executed off the
HTTP threads, with a bounded queue answering 503), one receipt checked
by `verinfer verify-completion` (exit 0) and refuted after one completion id
is flipped (exit 1), streaming equal to the non-streamed text with the receipt
in the last chunk before [DONE], and /metrics counting steps with more than
one sequence. Exits non-zero on the first failure, naming it."""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import numpy as np
import openai

ARGS = None


def check(cond, what):
    if not cond:
        print(f"openai_real_check: FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def say(what):
    print(f"openai_real_check: {what}", flush=True)


def http(path, body=None):
    """GET (body None) or POST a JSON body; returns (status, text)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{ARGS.url}{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def chat(client, kw):
    """One chat completion as (text, completion ids, verinfer object)."""
    c = client.chat.completions.create(**kw)
    v = (c.model_extra or {}).get("verinfer")
    check(v is not None, f"no verinfer object in the response to {kw}")
    return c.choices[0].message.content, tuple(v["completion_token_ids"]), v


def completion(client, kw):
    """One text completion as (text, completion ids, verinfer object)."""
    c = client.completions.create(**kw)
    v = (c.model_extra or {}).get("verinfer")
    check(v is not None, f"no verinfer object in the response to {kw}")
    return c.choices[0].text, tuple(v["completion_token_ids"]), v


def run_all(fn_kws):
    """Sends every (function, request) at once, from one thread each."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(fn_kws)) as ex:
        futs = [ex.submit(fn, client_for_threads(), kw) for fn, kw in fn_kws]
        return [f.result() for f in futs]


def client_for_threads():
    return openai.OpenAI(base_url=f"http://{ARGS.url}/v1", api_key="unused",
                         max_retries=0, timeout=300)


def verify_remote(kw, v, what):
    st, body = http("/v1/verify", {"request": kw, "response": {"verinfer": v}})
    check(st == 200, f"/v1/verify of {what}: status {st}: {body}")
    res = json.loads(body)
    check(res.get("verified") is True, f"/v1/verify of {what}: {res.get('reason')}")
    check(res.get("completion_tokens") == len(v["completion_token_ids"]),
          f"/v1/verify of {what}: completion_tokens {res.get('completion_tokens')}")


def stream_raw(kw):
    """POSTs a streamed chat request; returns the list of SSE data payloads."""
    status, text = http("/v1/chat/completions", dict(kw, stream=True))
    check(status == 200, f"stream status {status}: {text[:300]}")
    events = [e for e in text.split("\n\n") if e]
    check(all(e.startswith("data: ") for e in events), "every event is one data: line")
    return [e[len("data: "):] for e in events]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--work", required=True)
    ARGS = ap.parse_args()
    client = client_for_threads()
    m = ARGS.model
    receipts = []  # (request, verinfer object, what)

    # (a) greedy chat knows the capital of France
    t0 = time.monotonic()
    kw_a = dict(model=m, messages=[{"role": "user", "content": "What is the capital of France?"}],
                temperature=0, max_tokens=24, seed=0)
    text, ids, v = chat(client, kw_a)
    check("Paris" in text, f"greedy answer {text!r} does not contain Paris")
    receipts.append((kw_a, v, "(a) capital of France"))
    say(f"(a) greedy answer {text!r} ({len(ids)} tokens, {time.monotonic() - t0:.2f} s)")

    # (b) 8 identical greedy requests at once: one completion
    t0 = time.monotonic()
    kw_b = dict(model=m, messages=[{"role": "user", "content": "Name three colours of the rainbow."}],
                temperature=0, max_tokens=24, seed=1)
    res = run_all([(chat, kw_b)] * 8)
    uniq = {(t, i) for t, i, _ in res}
    check(len(uniq) == 1, f"8 identical greedy requests gave {len(uniq)} different completions")
    check(len(res[0][1]) >= 1, "identical greedy requests generated nothing")
    receipts += [(kw_b, r[2], f"(b) identical request {k}") for k, r in enumerate(res)]
    say(f"(b) 8 identical greedy requests: 1 unique completion of {len(res[0][1])} tokens "
        f"({time.monotonic() - t0:.2f} s)")

    # (c) 8 different sampled requests at once, each equal to itself sent alone
    t0 = time.monotonic()
    prompts = ["Tell me a short story about a robot.",
               "Why is the sky blue?",
               "Write a haiku about the sea.",
               "List some fruits.",
               "Explain what a computer does in one paragraph, for a child who has never seen one.",
               "Hi!",
               "Once upon a time",
               "The three most important inventions of the twentieth century are"]
    temps = np.linspace(0.7, 1.0, 8)
    max_toks = [16, 48, 24, 40, 32, 20, 44, 28]
    kws_c = []
    for k, p in enumerate(prompts):
        kw = dict(model=m, temperature=float(temps[k]), seed=1000 + 17 * k, max_tokens=max_toks[k])
        if k < 6:
            kws_c.append((chat, dict(kw, messages=[{"role": "user", "content": p}])))
        else:
            kws_c.append((completion, dict(kw, prompt=p)))
    together = run_all(kws_c)
    t_together = time.monotonic() - t0
    t0 = time.monotonic()
    alone = [fn(client, kw) for fn, kw in kws_c]
    t_alone = time.monotonic() - t0
    for k in range(8):
        check(together[k][0] == alone[k][0] and together[k][1] == alone[k][1],
              f"(c) request {k}: concurrent {together[k][:2]!r} != alone {alone[k][:2]!r}")
        receipts.append((kws_c[k][1], together[k][2], f"(c) request {k} concurrent"))
    n_distinct = len({r[1] for r in together})
    check(n_distinct == 8, f"(c) 8 different requests gave only {n_distinct} distinct completions")
    say(f"(c) 8 different requests: concurrent == alone, "
        f"{sum(len(r[1]) for r in together)} tokens; concurrent {t_together:.2f} s, "
        f"one by one {t_alone:.2f} s")

    # (e) streaming equals the non-streamed text; the receipt is in the last chunk
    t0 = time.monotonic()
    kw_e = dict(model=m, messages=[{"role": "user", "content": "Describe Paris in two sentences."}],
                temperature=0.9, seed=4242, max_tokens=40)
    text_e, ids_e, v_e = chat(client, kw_e)
    datas = stream_raw(kw_e)
    check(datas[-1] == "[DONE]", f"the stream ends with {datas[-1][:80]!r}, not [DONE]")
    chunks = [json.loads(d) for d in datas[:-1]]
    check(len(chunks) >= 3, f"only {len(chunks)} stream chunks")
    streamed = "".join(c["choices"][0]["delta"].get("content") or ""
                       for c in chunks if c["choices"])
    check(streamed == text_e, f"(e) streamed {streamed!r} != non-streamed {text_e!r}")
    last = chunks[-1]
    check("verinfer" in last, "(e) the last chunk before [DONE] carries no verinfer object")
    check(all("verinfer" not in c for c in chunks[:-1]), "(e) a verinfer object before the last chunk")
    check(tuple(last["verinfer"]["completion_token_ids"]) == ids_e,
          "(e) the streamed receipt's completion ids differ from the non-streamed ones")
    receipts.append((kw_e, last["verinfer"], "(e) streamed chat"))
    # the same through the openai client, on /v1/completions
    kw_e2 = dict(model=m, prompt="The capital of Italy is", temperature=0.8, seed=77, max_tokens=20)
    text_e2, _, _ = completion(client, kw_e2)
    streamed2 = ""
    for ch in client.completions.create(stream=True, **kw_e2):
        if ch.choices:
            streamed2 += ch.choices[0].text
    check(streamed2 == text_e2, f"(e) streamed completion {streamed2!r} != {text_e2!r}")
    say(f"(e) streamed chat ({len(chunks)} chunks) and completion equal the non-streamed text "
        f"({time.monotonic() - t0:.2f} s)")

    # (d) every receipt verifies at /v1/verify (re-executed by the server)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        list(ex.map(lambda r: verify_remote(*r), receipts))
    say(f"(d) {len(receipts)} receipts verified by /v1/verify ({time.monotonic() - t0:.2f} s)")

    # (d) re-executions run on the server's verify worker, not on the HTTP
    # threads: with more verifications in flight than HTTP threads (4), a
    # GET /v1/models sent after them answers before the first of them; and
    # past the worker's queue (--llm-verify-queue 4 waiting, one running; the
    # four clients above always fit) the rest get 503 at once, with an
    # OpenAI-style error
    t0 = time.monotonic()
    kw_v, v_v, _ = max(receipts, key=lambda r: len(r[1]["completion_token_ids"]))
    body_v = {"request": kw_v, "response": {"verinfer": v_v}}
    def timed_verify(_):
        st, text = http("/v1/verify", body_v)
        return st, text, time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        futs = [ex.submit(timed_verify, i) for i in range(8)]
        time.sleep(0.05)
        st, _ = http("/v1/models")
        t_models = time.monotonic()
        results = [f.result() for f in futs]
    check(st == 200, f"(d) /v1/models during verifications: status {st}")
    ok = [t for s_, _, t in results if s_ == 200]
    busy = [json.loads(t)["error"] for s_, t, _ in results if s_ == 503]
    check(all(s_ in (200, 503) for s_, _, _ in results),
          f"(d) concurrent verifications: statuses {sorted(s_ for s_, _, _ in results)}")
    check(all(json.loads(t).get("verified") is True for s_, t, _ in results if s_ == 200),
          "(d) a concurrent verification did not verify")
    check(len(ok) >= 5 and busy, f"(d) {len(ok)} verified and {len(busy)} refused of 8 "
          "(want at least 5 run and some refused: 4 queued + 1 running)")
    check(all("verification queue is full" in e["message"] for e in busy),
          f"(d) 503 message: {busy[0]}")
    check(t_models < min(ok), "(d) GET /v1/models waited for a verification "
          f"({t_models - t0:.3f} s after the start, first verification {min(ok) - t0:.3f} s)")
    say(f"(d) 8 concurrent verifications: {len(ok)} verified, {len(busy)} refused with 503; "
        f"/v1/models answered in {t_models - t0 - 0.05:.3f} s, the first verification in "
        f"{min(ok) - t0:.3f} s ({time.monotonic() - t0:.2f} s)")

    # (d) `verinfer verify-completion` on an exact response, then on a tampered one
    t0 = time.monotonic()
    kw_d = dict(model=m, messages=[{"role": "user", "content": "Count from one to five."}],
                temperature=0.75, seed=99, max_tokens=24)
    st, body = http("/v1/chat/completions", kw_d)
    check(st == 200, f"(d) chat status {st}: {body[:300]}")
    req_path = os.path.join(ARGS.work, "request.json")
    resp_path = os.path.join(ARGS.work, "response.json")
    bad_path = os.path.join(ARGS.work, "response-tampered.json")
    with open(req_path, "w") as f:
        json.dump(kw_d, f)
    with open(resp_path, "w") as f:
        f.write(body)
    resp = json.loads(body)
    ids_d = resp["verinfer"]["completion_token_ids"]
    check(len(ids_d) >= 2, f"(d) only {len(ids_d)} completion ids")
    resp["verinfer"]["completion_token_ids"][1] = (ids_d[1] + 1) % 49152
    with open(bad_path, "w") as f:
        json.dump(resp, f)
    cmd = [ARGS.bin, "verify-completion", ARGS.gguf, "--request", req_path, "--threads", "2"]
    ok = subprocess.run(cmd + ["--response", resp_path], capture_output=True, text=True)
    check(ok.returncode == 0, f"(d) verify-completion exit {ok.returncode}: {ok.stdout}{ok.stderr}")
    bad = subprocess.run(cmd + ["--response", bad_path], capture_output=True, text=True)
    check(bad.returncode == 1, f"(d) tampered: verify-completion exit {bad.returncode} (want 1): "
          f"{bad.stdout}{bad.stderr}")
    check("output digest differs" in bad.stdout + bad.stderr,
          f"(d) tampered: reason {bad.stdout}{bad.stderr}")
    say(f"(d) verify-completion: exact response exit 0, one id flipped exit 1 "
        f"({time.monotonic() - t0:.2f} s)")

    # (f) the scheduler ran steps with more than one sequence
    st, metrics = http("/metrics")
    check(st == 200, f"/metrics status {st}")
    mm = re.search(r"^verinfer_llm_steps_multi_seq_total(\{[^}]*\})? (\d+)", metrics, re.M)
    ms = re.search(r"^verinfer_llm_steps_total(\{[^}]*\})? (\d+)", metrics, re.M)
    check(mm and ms, "verinfer_llm_steps_multi_seq_total / verinfer_llm_steps_total not in /metrics")
    check(int(mm.group(2)) > 0, "(f) no scheduler step had more than one sequence")
    say(f"(f) /metrics: {mm.group(2)} of {ms.group(2)} scheduler steps had more than one sequence")
    say("ok")


if __name__ == "__main__":
    main()
