#!/usr/bin/env python3
"""tests/server/openai_fuzz.py — bounded, seeded fuzzing of the OpenAI-compatible
endpoints of a running `verinfer serve --llm` (model name given by --model):
mutated JSON (wrong types, huge and negative numbers, NaN-like text, deep
nesting, huge strings, invalid UTF-8, token ids out of range, empty and huge
message lists, stop arrays of odd sizes, unknown fields), truncated bodies,
random bytes, bad headers and wrong methods on GET /v1/models, POST
/v1/completions, /v1/chat/completions (also streamed: the events read to the
end, or the connection dropped midway), /tokenize, /detokenize and /v1/verify.
Every reply must be a 200 (JSON, or a well-formed server-sent event stream
ending in [DONE]) or a 4xx / 501 / 503 with an OpenAI-style JSON error
{"error": {"message", "type", "param", "code"}}, the HTTP layer's own 404 /
405 / 413 replies included; never a 500, a dropped
connection or a dead server. Exits 1 on the first violation, printing the
request. Standard library only; reuses http_fuzz.exchange."""
import argparse
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_fuzz import exchange  # noqa: E402

ROUTES = ["/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize", "/v1/verify",
          "/v1/models"]


def odd_values(rng):
    """A fresh odd value: the table of ODD of http_fuzz plus text-model cases."""
    n = rng.randrange(22)
    if n == 0:
        return "x" * rng.choice([0, 1, 300, 5000, 70000])
    if n == 1:
        return rng.choice([2 ** 31, 2 ** 31 - 1, -2 ** 31 - 1, 2 ** 63 - 1, -2 ** 63, 2 ** 64,
                           10 ** 30, 299, 300, 301, 255, 256, 257, 0, -1, 1])
    if n == 2:
        return rng.choice([1e308, -1e308, 1e-320, 0.5, -0.0, 2.0000001, 1.5])
    if n == 3:
        return rng.choice(["NaN", "Infinity", "-Infinity", "nan", "1e999", "0x10", " 1"])
    if n == 4:
        d = rng.choice([1, 5, 50, 500])
        v = []
        for _ in range(d):
            v = [v] if rng.random() < 0.5 else {"a": v}
        return v
    if n == 5:
        return [rng.randrange(-5, 400) for _ in range(rng.choice([0, 1, 3, 40, 255, 256, 400]))]
    if n == 6:
        return [rng.choice(["a", "", "\u00e9", "<|im_end|>", "\n", 1, None])
                for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 9]))]
    if n == 7:
        return [{"role": rng.choice(["user", "system", "assistant", "tool", "", 1]),
                 "content": rng.choice(["hi", "", "\u0000", "<|im_start|>", 3, None])}
                for _ in range(rng.choice([0, 1, 2, 50, 400]))]
    if n == 8:
        return {"include_usage": rng.choice([True, False, 1, None, "yes"])}
    if n == 9:
        return "\ud800x" if rng.random() < 0.5 else "\u0000\u0001\uffff\U0010ffff"
    return rng.choice([None, True, False, -1, 0, 1, 16, "", "tiny", [], {}, [[]], {"x": 1},
                       3.5, "NaN", [1, -1], [2 ** 40], "stop", ["a"] * 4])


def mutate(rng, obj, depth=0):
    if isinstance(obj, dict) and obj and rng.random() < 0.6 and depth < 6:
        k = rng.choice(list(obj))
        obj[k] = mutate(rng, obj[k], depth + 1)
        return obj
    if isinstance(obj, list) and obj and rng.random() < 0.6 and depth < 6:
        i = rng.randrange(len(obj))
        obj[i] = mutate(rng, obj[i], depth + 1)
        return obj
    if isinstance(obj, dict) and rng.random() < 0.3:
        obj[rng.choice(["unknown_field", "max_tokens", "stop", "seed", "stream", "top_k",
                        "max_completion_tokens", "n", "logprobs", "user", "stream_options",
                        "add_special", "parse_special"])] = odd_values(rng)
        return obj
    return odd_values(rng)


def seeds(model, verify_pair):
    msgs = [{"role": "user", "content": "hello there"}]
    s = [
        ("/v1/completions", {"model": model, "prompt": "hello world", "max_tokens": 4,
                             "temperature": 0, "seed": 1}),
        ("/v1/completions", {"model": model, "prompt": [5, 6, 7], "max_tokens": 3,
                             "stream": True, "stop": ["x", "yy"]}),
        ("/v1/chat/completions", {"model": model, "messages": msgs, "max_tokens": 4,
                                  "top_p": 0.9, "top_k": 5}),
        ("/v1/chat/completions", {"model": model, "messages": msgs, "max_completion_tokens": 3,
                                  "stream": True, "stream_options": {"include_usage": True}}),
        ("/tokenize", {"model": model, "content": "hello <|im_start|>", "add_special": True,
                       "parse_special": False}),
        ("/detokenize", {"model": model, "tokens": [5, 6, 7, 8]}),
    ]
    if verify_pair:
        s.append(("/v1/verify", verify_pair))
    return s


def request(method, path, body, headers):
    head = f"{method} {path} HTTP/1.1\r\nHost: fuzz\r\n"
    if "Content-Length" not in headers:
        head += f"Content-Length: {len(body)}\r\n"
    head += "Connection: close\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


def dechunk(data):
    """The payload of a chunked body; None when the framing is broken or unfinished."""
    out, i = [], 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return None
        try:
            n = int(data[i:j].split(b";")[0], 16)
        except ValueError:
            return None
        if n == 0:
            return b"".join(out)
        out.append(data[j + 2:j + 2 + n])
        if data[j + 2 + n:j + 4 + n] != b"\r\n":
            return None
        i = j + 4 + n


def check_sse(payload):
    """None when payload is a well-formed event stream ending in [DONE], else why not."""
    events = payload.split(b"\n\n")
    if events[-1] != b"":
        return "the stream does not end with a blank line"
    events = events[:-1]
    if not events or events[-1] != b"data: [DONE]":
        return "the stream does not end with data: [DONE]"
    for ev in events[:-1]:
        if not ev.startswith(b"data: "):
            return f"an event is not a data line: {ev[:80]!r}"
        try:
            o = json.loads(ev[6:])
        except ValueError:
            return f"an event is not JSON: {ev[:80]!r}"
        if not isinstance(o, dict) or ("choices" not in o and "error" not in o):
            return f"an event is neither a chunk nor an error: {ev[:80]!r}"
    return None


def check_error(status, body):
    try:
        err = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return "no JSON error body"
    if isinstance(err, dict):
        if (isinstance(err.get("message"), str) and err["message"] and
                isinstance(err.get("type"), str) and "param" in err and "code" in err):
            return None
        return "the error object lacks message/type/param/code"
    return "not an OpenAI-style error"


def stream_and_drop(port, raw, rng):
    """Sends raw and closes after a few bytes of the reply (the client going away)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        s.recv(rng.choice([1, 64, 400]))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def exchange_big(port, raw):
    """Like exchange, for a body over the limit: the server may reply 413 and
    close before the whole body is sent, so a failed send is not an error."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def verify_pair(port, model):
    req = {"model": model, "prompt": "abc", "max_tokens": 3, "temperature": 0.5, "seed": 7}
    raw = request("POST", "/v1/completions", json.dumps(req).encode(),
                  {"Content-Type": "application/json"})
    reply = exchange(port, raw)
    body = reply.partition(b"\r\n\r\n")[2]
    return {"request": req, "response": json.loads(body)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--max-requests", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20261126)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    table = seeds(a.model, verify_pair(a.port, a.model))
    start, n, seen, streams, dropped, per_route = time.time(), 0, {}, 0, 0, {}
    while n < a.max_requests and time.time() - start < a.seconds:
        n += 1
        path, seed = rng.choice(table)
        obj = json.loads(json.dumps(seed))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            obj = mutate(rng, obj)
        body = json.dumps(obj, allow_nan=rng.random() < 0.5).encode()
        if rng.random() < 0.1:  # invalid UTF-8 inside a string
            body = body.replace(b"hello", b"hel\xff\xc3lo").replace(b"abc", b"a\xed\xa0\x80")
        headers = {"Content-Type": "application/json"}
        kind = rng.random()
        if kind < 0.06:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
        elif kind < 0.14:
            body = body[:rng.randint(0, len(body))]
        elif kind < 0.18:
            # over --max-body-bytes (100000); a malformed Content-Length is refused
            # by libmicrohttpd itself with an HTML page, before any route runs
            headers["Content-Length"] = rng.choice(["100001", str(len(body) + 10 ** 6)])
        elif kind < 0.22:
            # (an unknown Transfer-Encoding makes libmicrohttpd close the
            # connection without a reply, before any route runs: not fuzzed)
            headers[rng.choice(["Content-Type", "Accept", "X-\x7f", "Authorization"])] = \
                rng.choice(["text/plain", "\x01", "chunked", "x" * 5000, ""])
        elif kind < 0.25:
            body = (b'{"model":"' + a.model.encode() + b'","prompt":"' +
                    b"a" * rng.choice([1000, 99000, 120000]) + b'"}')
        method = "POST" if path != "/v1/models" else "GET"
        if rng.random() < 0.05:
            method = rng.choice(["GET", "PUT", "DELETE", "POST", "PATCH"])
        if rng.random() < 0.03:
            path = rng.choice(ROUTES)
        raw = request(method, path, body, headers)
        streaming = isinstance(obj, dict) and obj.get("stream") is True
        declared = int(headers.get("Content-Length", len(body)))
        # replied before the body is read (405, 413): the server may close with
        # the body unread, and the reset can take the reply with it
        early = declared > 100000 or method != ("GET" if path == "/v1/models" else "POST")
        try:
            if streaming and rng.random() < 0.3:
                stream_and_drop(a.port, raw, rng)
                dropped += 1
                continue
            reply = exchange_big(a.port, raw) if early else exchange(a.port, raw)
        except OSError as e:
            print(f"openai_fuzz: request {n}: connection failed ({e}); request: {raw[:300]!r}")
            return 1
        if early and not reply:
            continue
        head, _, rest = reply.partition(b"\r\n\r\n")
        parts = head.split(b"\r\n")[0].split()
        if len(parts) < 2 or not parts[1].isdigit():
            print(f"openai_fuzz: request {n}: malformed reply {reply[:200]!r}; "
                  f"request: {raw[:300]!r}")
            return 1
        status = int(parts[1])
        if declared > 100000 and status not in (404, 405, 413):
            print(f"openai_fuzz: request {n}: a body over --max-body-bytes got {status}, not 413; "
                  f"request: {raw[:300]!r}")
            return 1
        seen[status] = seen.get(status, 0) + 1
        per_route[(path, status)] = per_route.get((path, status), 0) + 1
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            rest = dechunk(rest)
            if rest is None:
                print(f"openai_fuzz: request {n}: broken chunked framing: {reply[-200:]!r}; "
                      f"request: {raw[:300]!r}")
                return 1
        why = None
        if status >= 500 and status not in (501, 503):
            why = f"status {status}"
        elif status >= 400:
            why = check_error(status, rest)
        elif status == 200 and b"text/event-stream" in lower:
            streams += 1
            why = check_sse(rest)
        elif status == 200:
            try:
                json.loads(rest)
            except ValueError:
                why = "a 200 without a JSON body"
        if why:
            print(f"openai_fuzz: request {n}: {why}: {reply[:400]!r}; request: {raw[:400]!r}")
            return 1
    print(f"openai_fuzz: {n} requests ({streams} streams read to the end, {dropped} dropped "
          f"midway), statuses {dict(sorted(seen.items()))}")
    for path in ROUTES:
        print(f"openai_fuzz:   {path}: " + ", ".join(
            f"{st}: {c}" for (p, st), c in sorted(per_route.items()) if p == path))
    if seen.get(200, 0) == 0 or sum(v for k, v in seen.items() if 400 <= k < 500) == 0 \
            or streams == 0 or dropped == 0:
        print("openai_fuzz: expected accepted, rejected, streamed and dropped requests")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
