#!/usr/bin/env python3
"""tests/server/http_fuzz.py — bounded, seeded fuzzing of a running verinfer
server: mutated KServe requests (wrong types, huge and negative numbers,
truncated JSON, random bytes, bad binary-extension headers, wrong methods)
against every route. Every reply must be a well-formed HTTP response: a 200,
or a 4xx / 501 (unsupported) / 503 with a JSON {"error"} body; never a 500 or
another 5xx, a dropped connection or a dead server. Exits 1 on the first violation, printing the
request that caused it. Standard library only."""
import argparse
import json
import random
import socket
import sys
import time

PATHS = ["/v2/models/mlp/infer", "/v2/models/all-ops/infer", "/v2/models/mlp/verify",
         "/v2/models/mlp/versions/1/infer", "/v2/repository/index", "/v2/models/mlp/config",
         "/v2/models/nope/infer", "/metrics", "/v2", "/v2/health/ready"]
ODD = [None, True, -1, 0, 2 ** 63, -2 ** 63 - 5, 1e308, "NaN", "", "x" * 300, [], {}, [[[]]],
       3.5, "FP32", "INT64", "BF16", [1, -1], [2 ** 40, 2 ** 40], {"binary_data_size": 10},
       {"binary_data_size": -4}, {"binary_data": True}]


def mutate(rng, obj):
    if isinstance(obj, dict) and obj and rng.random() < 0.6:
        k = rng.choice(list(obj))
        obj[k] = mutate(rng, obj[k])
        return obj
    if isinstance(obj, list) and obj and rng.random() < 0.6:
        i = rng.randrange(len(obj))
        obj[i] = mutate(rng, obj[i])
        return obj
    return rng.choice(ODD)


def exchange(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    return b"".join(chunks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--max-requests", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20261125)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    seeds = [json.load(open(f"{a.repo}/{m}/example-request.json")) for m in ("mlp", "all-ops")]
    start, n, seen = time.time(), 0, {}
    while n < a.max_requests and time.time() - start < a.seconds:
        n += 1
        body = json.dumps(mutate(rng, json.loads(json.dumps(rng.choice(seeds))))).encode()
        headers = {}
        kind = rng.random()
        if kind < 0.15:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
        elif kind < 0.3:
            body = body[:rng.randint(0, len(body))]
        elif kind < 0.45:
            headers["Inference-Header-Content-Length"] = rng.choice(
                ["0", "-1", "abc", str(len(body)), str(len(body) + 5), "99999999999999999999",
                 str(max(0, len(body) - 3))])
            body += bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        method = rng.choice(["POST", "POST", "POST", "GET", "PUT", "DELETE"])
        path = rng.choice(PATHS)
        head = f"{method} {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Length: {len(body)}\r\n"
        head += "Connection: close\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        raw = head.encode() + b"\r\n" + body
        try:
            reply = exchange(a.port, raw)
        except OSError as e:
            print(f"http_fuzz: request {n}: connection failed ({e}); request: {raw[:300]!r}")
            return 1
        status_line, _, rest = reply.partition(b"\r\n")
        parts = status_line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            print(f"http_fuzz: request {n}: malformed reply {reply[:200]!r}; request: {raw[:300]!r}")
            return 1
        status = int(parts[1])
        seen[status] = seen.get(status, 0) + 1
        if status >= 500 and status not in (501, 503):
            print(f"http_fuzz: request {n}: status {status}: {reply[:300]!r}; request: {raw[:300]!r}")
            return 1
        if status >= 400:
            body_out = rest.partition(b"\r\n\r\n")[2]
            try:
                err = json.loads(body_out)
                ok = isinstance(err, dict) and isinstance(err.get("error"), str) and err["error"]
            except ValueError:
                ok = False
            if not ok:
                print(f"http_fuzz: request {n}: {status} without a JSON error body: "
                      f"{body_out[:200]!r}; request: {raw[:300]!r}")
                return 1
    print(f"http_fuzz: {n} requests, statuses {dict(sorted(seen.items()))}")
    if seen.get(200, 0) == 0 or sum(v for k, v in seen.items() if 400 <= k < 500) == 0:
        print("http_fuzz: expected both accepted and rejected requests")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
