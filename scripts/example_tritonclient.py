#!/usr/bin/env python3
"""scripts/example_tritonclient.py — NVIDIA's unmodified tritonclient.http
against verinfer: health, metadata, and one inference of the default model
with binary tensors (tritonclient's default), printing the receipt.

    scripts/python-env.sh >/dev/null
    build/pyenv/bin/python scripts/example_tritonclient.py --url localhost:8000
"""
import argparse
import json
import sys

import numpy as np
import tritonclient.http as httpclient


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="localhost:8000", help="host:port of verinfer serve")
    ap.add_argument("--model", default="mlp-classifier")
    args = ap.parse_args()

    client = httpclient.InferenceServerClient(url=args.url)
    print("live:", client.is_server_live(), "ready:", client.is_server_ready())
    meta = client.get_model_metadata(args.model)
    inp = meta["inputs"][0]
    features = int(inp["shape"][-1])
    print("model:", meta["name"], "input", inp["name"], inp["datatype"], inp["shape"])

    x = np.linspace(-1.0, 1.0, 2 * features, dtype=np.float32).reshape(2, features)
    tensor = httpclient.InferInput(inp["name"], list(x.shape), "FP32")
    tensor.set_data_from_numpy(x)  # binary_data=True by default
    result = client.infer(args.model, [tensor], request_id="tritonclient-example")
    for out in meta["outputs"]:
        print(out["name"], result.as_numpy(out["name"]).tolist())
    receipt = result.get_response()["receipt"]
    print("receipt:", json.dumps(receipt, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
