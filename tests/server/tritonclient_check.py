#!/usr/bin/env python3
"""tests/server/tritonclient_check.py — NVIDIA's unmodified tritonclient.http
against a running `verinfer serve` (started by test_tritonclient.sh on a
repository holding the `mlp` and `all-ops` models): health, server and model
metadata, configuration, repository index, inference with binary tensor data
(the client's default) and with JSON data, each compared bit for bit with the
other path and with `verinfer run` of the same request, the receipt in the
response, verification by re-execution, and errors raised as
InferenceServerException with the server's message. Prints a summary; exit
status 1 on any failure.
"""
import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

RECEIPT_FIELDS = [
    "format_version", "model_name", "model_version", "model_digest", "input_digest",
    "output_digest", "engine_id", "order_version", "mode", "request_id", "parameters",
    "created", "receipt_digest", "signature", "public_key", "signature_algorithm",
]

NP_DTYPE = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32,
            "INT8": np.int8, "UINT8": np.uint8, "BOOL": np.bool_}

# What the two generated models look like (docs/kserve.md section 4.1).
EXPECTED_META = {
    "mlp": {
        "inputs": [("input", "FP32", [-1, 16])],
        "outputs": [("probabilities", "FP32", [-1, 4]), ("label", "INT64", [-1])],
    },
    "all-ops": {
        "inputs": [("x", "FP32", [-1, 8]), ("ids", "INT64", [-1, 4])],
        "outputs": [("probabilities", "FP32", [-1, 3]), ("label", "INT64", [-1]),
                    ("attention", "FP32", [-1, 4]), ("features", "FP32", [-1, 8])],
    },
}


class Checks:
    """Counts checks; a failed one is printed and remembered, and the run goes on."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL: {what}", file=sys.stderr)
        return cond

    def equal(self, got, want, what):
        return self.ok(got == want, f"{what}: got {got!r}, want {want!r}")


def tensor_from_json(out):
    """A KServe JSON output ({"datatype","shape","data"}) as a numpy array."""
    dt = NP_DTYPE[out["datatype"]]
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    data = [special.get(v, v) if isinstance(v, str) else v for v in out["data"]]
    return np.array(data, dtype=dt).reshape(out["shape"])


def make_inputs(model, rows, seed):
    """Deterministic inputs: normal FP32 values (any float32 survives JSON), ids in 0..15."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, dtype, shape in EXPECTED_META[model]["inputs"]:
        full = [rows] + shape[1:]
        if dtype == "FP32":
            arrays[name] = rng.standard_normal(full).astype(np.float32)
        else:
            arrays[name] = rng.integers(0, 16, size=full, dtype=np.int64)
    return arrays


def cli_run(args, model, arrays, request_id, out_names, tag):
    """`verinfer run` of the same request (JSON data); returns the parsed response."""
    req = {"id": request_id,
           "inputs": [{"name": n, "datatype": d, "shape": list(arrays[n].shape),
                       "data": arrays[n].flatten().tolist()}
                      for n, d, _ in EXPECTED_META[model]["inputs"]],
           "outputs": [{"name": n} for n in out_names]}
    req_path = os.path.join(args.workdir, f"request-{tag}.json")
    out_path = os.path.join(args.workdir, f"run-{tag}.json")
    with open(req_path, "w") as f:
        json.dump(req, f)
    subprocess.run([args.bin, "run", os.path.join(args.repo, model), req_path, "--key", args.key,
                    "-o", out_path], check=True, stdout=subprocess.DEVNULL)
    with open(out_path) as f:
        return req, json.load(f)


def post_json(url, path, body):
    """POST a JSON body with the standard library; returns (status, parsed JSON)."""
    r = urllib.request.Request(f"http://{url}{path}", data=json.dumps(body).encode(),
                               method="POST")
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def infer(client, model, arrays, request_id, binary, out_names):
    inputs = []
    for name, dtype, _ in EXPECTED_META[model]["inputs"]:
        t = httpclient.InferInput(name, list(arrays[name].shape), dtype)
        t.set_data_from_numpy(arrays[name], binary_data=binary)
        inputs.append(t)
    outputs = None
    if out_names is not None:
        outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in out_names]
    return client.infer(model, inputs, outputs=outputs, request_id=request_id)


def check_receipt(c, what, receipt, cli_receipt, args, model_digest, request_id):
    c.equal(sorted(receipt), sorted(RECEIPT_FIELDS), f"{what}: receipt fields")
    for k in ("model_digest", "input_digest", "output_digest", "parameters", "model_name",
              "model_version", "engine_id", "order_version", "mode", "request_id"):
        c.equal(receipt.get(k), cli_receipt.get(k), f"{what}: receipt {k} equals verinfer run's")
    c.equal(receipt.get("model_digest"), model_digest, f"{what}: receipt model_digest = metadata's")
    c.equal(receipt.get("request_id"), request_id, f"{what}: receipt request_id")
    c.equal(receipt.get("signature_algorithm"), "ed25519", f"{what}: signature_algorithm")
    c.equal(receipt.get("public_key"), args.pubkey, f"{what}: receipt public_key")
    c.equal(len(receipt.get("signature", "")), 128, f"{what}: signature length")


def check_infer(c, client, args, model, rows, seed, model_digest):
    outs = [n for n, _, _ in EXPECTED_META[model]["outputs"]]
    arrays = make_inputs(model, rows, seed)
    rid = f"tc-{model}-{rows}"
    what = f"{model} rows={rows}"

    rb = infer(client, model, arrays, rid, True, outs)
    rj = infer(client, model, arrays, rid, False, outs)
    ra = infer(client, model, arrays, rid + "-all", True, None)  # binary_data_output
    req, cli = cli_run(args, model, arrays, rid, outs, f"{model}-{rows}")
    cli_out = {o["name"]: tensor_from_json(o) for o in cli["outputs"]}

    jb, jj, ja = rb.get_response(), rj.get_response(), ra.get_response()
    c.ok(all("binary_data_size" in o.get("parameters", {}) and "data" not in o
             for o in jb["outputs"]), f"{what}: binary path answered with binary outputs")
    c.ok(all("data" in o and "binary_data_size" not in o.get("parameters", {})
             for o in jj["outputs"]), f"{what}: JSON path answered with JSON data")
    c.ok(all("binary_data_size" in o.get("parameters", {}) for o in ja["outputs"]),
         f"{what}: binary_data_output answered with binary outputs")
    c.equal([o["name"] for o in jb["outputs"]], outs, f"{what}: output order")
    c.equal(jb.get("id"), rid, f"{what}: id echoed")

    for name, dtype, shape in EXPECTED_META[model]["outputs"]:
        want_shape = tuple([rows] + shape[1:])
        b, j, a = rb.as_numpy(name), rj.as_numpy(name), ra.as_numpy(name)
        ref = cli_out[name]
        for label, arr in (("binary", b), ("json", j), ("binary_data_output", a),
                           ("verinfer run", ref)):
            c.equal(arr.shape, want_shape, f"{what}: {name} shape ({label})")
            c.equal(arr.dtype, np.dtype(NP_DTYPE[dtype]), f"{what}: {name} dtype ({label})")
        c.ok(b.tobytes() == j.tobytes(), f"{what}: {name} binary == JSON, bit for bit")
        c.ok(b.tobytes() == ref.tobytes(), f"{what}: {name} binary == verinfer run, bit for bit")
        c.ok(a.tobytes() == ref.tobytes(), f"{what}: {name} binary_data_output == verinfer run")

    for label, resp in (("binary", jb), ("json", jj)):
        check_receipt(c, f"{what} {label}", resp.get("receipt", {}), cli["receipt"], args,
                      model_digest, rid)
    ra_receipt = ra.get_response().get("receipt", {})
    c.equal(ra_receipt.get("output_digest"), cli["receipt"]["output_digest"],
            f"{what}: binary_data_output receipt output_digest equals verinfer run's")
    c.equal(ra_receipt.get("parameters"), {}, f"{what}: no outputs named, no receipt parameters")

    # the JSON response re-executes to the same bits through the verify endpoint
    st, v = post_json(args.url, f"/v2/models/{model}/verify",
                      {"request": req, "response": jj, "public_key": args.pubkey})
    c.equal(st, 200, f"{what}: verify status")
    c.ok(v.get("verified") is True, f"{what}: verify of the JSON response: {v}")
    # a binary response is checked through its receipt
    st, v = post_json(args.url, f"/v2/models/{model}/verify",
                      {"request": req, "receipt": jb["receipt"], "public_key": args.pubkey})
    c.ok(st == 200 and v.get("verified") is True, f"{what}: verify of the binary receipt: {v}")


def check_metadata(c, client, args):
    c.ok(client.is_server_live(), "is_server_live")
    c.ok(client.is_server_ready(), "is_server_ready")
    meta = client.get_server_metadata()
    c.equal(meta.get("name"), "verinfer", "server name")
    for ext in ("binary_tensor_data", "verinfer", "model_repository", "model_configuration"):
        c.ok(ext in meta.get("extensions", []), f"server extensions include {ext}: {meta}")
    c.equal(meta.get("verinfer", {}).get("public_key"), args.pubkey, "server public_key")

    index = client.get_model_repository_index()
    c.equal(sorted((m["name"], m["version"], m["state"]) for m in index),
            [("all-ops", "1", "READY"), ("mlp", "1", "READY")], "repository index")

    digests = {}
    for model, want in EXPECTED_META.items():
        c.ok(client.is_model_ready(model), f"is_model_ready({model})")
        c.ok(client.is_model_ready(model, "1"), f"is_model_ready({model}, '1')")
        c.ok(not client.is_model_ready(model, "2"), f"not is_model_ready({model}, '2')")
        md = client.get_model_metadata(model)
        c.equal(md.get("name"), model, f"{model} metadata name")
        c.equal(md.get("versions"), ["1"], f"{model} metadata versions")
        for key in ("inputs", "outputs"):
            got = [(t["name"], t["datatype"], t["shape"]) for t in md.get(key, [])]
            c.equal(got, want[key], f"{model} metadata {key}")
        digests[model] = md.get("verinfer", {}).get("model_digest")
        cfg = client.get_model_config(model, "1")
        c.equal(cfg.get("max_batch_size"), 64, f"{model} config max_batch_size")
        c.equal([(t["name"], t["data_type"], t["dims"]) for t in cfg.get("input", [])],
                [(n, "TYPE_" + d, s[1:]) for n, d, s in want["inputs"]], f"{model} config input")
        c.ok("dynamic_batching" in cfg, f"{model} config has dynamic_batching")
    return digests


def check_errors(c, client):
    x = httpclient.InferInput("input", [1, 16], "FP32")
    x.set_data_from_numpy(np.zeros((1, 16), np.float32))
    cases = [
        ("no-such-model", [x], "404", "unknown model 'no-such-model'"),
    ]
    y = httpclient.InferInput("input", [1, 16], "FP64")
    y.set_data_from_numpy(np.zeros((1, 16), np.float64))
    cases.append(("mlp", [y], "400", "input 'input' has datatype FP64 but the model expects FP32"))
    z = httpclient.InferInput("input", [1, 5], "FP32")
    z.set_data_from_numpy(np.zeros((1, 5), np.float32), binary_data=False)
    cases.append(("mlp", [z], "400", "input 'input' has shape [1, 5] but the model expects [-1, 16]"))
    for model, inputs, status, msg in cases:
        try:
            client.infer(model, inputs)
            c.ok(False, f"infer({model}) with bad input should raise")
        except InferenceServerException as e:
            c.equal(str(e.status()), status, f"error status for {msg!r}")
            c.equal(e.message(), msg, "error message")


def main():
    ap = argparse.ArgumentParser(description="tritonclient.http against verinfer serve")
    ap.add_argument("--url", required=True, help="host:port")
    ap.add_argument("--bin", required=True, help="the verinfer binary")
    ap.add_argument("--repo", required=True, help="the model repository the server serves")
    ap.add_argument("--key", required=True, help="the server's key file")
    ap.add_argument("--pubkey", required=True, help="its public key (hex)")
    ap.add_argument("--workdir", required=True, help="where request files are written")
    args = ap.parse_args()

    c = Checks()
    client = httpclient.InferenceServerClient(url=args.url)
    try:
        digests = check_metadata(c, client, args)
        for model in EXPECTED_META:
            for rows, seed in ((1, 11), (5, 12)):
                check_infer(c, client, args, model, rows, seed, digests[model])
        check_errors(c, client)
    finally:
        client.close()

    version = importlib.metadata.version("tritonclient")
    print(f"tritonclient_check: tritonclient {version}, numpy {np.__version__}: "
          f"{c.passed} checks passed, {len(c.failed)} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
