"""tests/server/openai_check.py — the real `openai` Python client against
`verinfer serve --llm`: models.list, completions.create, chat.completions.create,
streaming (text equal to the non-streamed completion with the same seed), the
verinfer receipt carried as an extra field, and errors (unknown model ->
NotFoundError, bad parameter -> BadRequestError). Exits non-zero on the first
failure."""
import argparse
import sys

import openai


def check(cond, what):
    if not cond:
        print(f"openai_check: FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    client = openai.OpenAI(base_url=f"http://{args.url}/v1", api_key="unused", max_retries=0)

    ids = [m.id for m in client.models.list()]
    check(ids == [args.model], f"models.list gives {ids}")

    c = client.completions.create(model=args.model, prompt="hello world", max_tokens=12,
                                  seed=7, temperature=0.8)
    check(c.object == "text_completion", "completion object")
    check(c.id.startswith("cmpl-"), "completion id")
    check(c.usage.completion_tokens >= 1, "usage")
    check(c.choices[0].finish_reason in ("stop", "length"), "finish_reason")
    extra = c.model_extra or {}
    v = extra.get("verinfer")
    check(v and len(v["completion_token_ids"]) == c.usage.completion_tokens,
          "verinfer object with the completion ids")
    check(c.system_fingerprint and c.system_fingerprint.startswith("verinfer/"),
          "system_fingerprint")

    text = ""
    n_chunks = 0
    for ch in client.completions.create(model=args.model, prompt="hello world", max_tokens=12,
                                        seed=7, temperature=0.8, stream=True):
        n_chunks += 1
        if ch.choices:
            text += ch.choices[0].text
    check(n_chunks >= 2, "several stream chunks")
    check(text == c.choices[0].text, f"streamed text {text!r} != {c.choices[0].text!r}")

    msgs = [{"role": "user", "content": "hi there"}]
    cc = client.chat.completions.create(model=args.model, messages=msgs, max_tokens=8, seed=3)
    check(cc.object == "chat.completion", "chat object")
    check(cc.choices[0].message.role == "assistant", "chat role")
    content = ""
    usage = None
    for ch in client.chat.completions.create(model=args.model, messages=msgs, max_tokens=8,
                                             seed=3, stream=True,
                                             stream_options={"include_usage": True}):
        if ch.choices and ch.choices[0].delta.content:
            content += ch.choices[0].delta.content
        if ch.usage:
            usage = ch.usage
    check(content == cc.choices[0].message.content, "streamed chat content")
    check(usage and usage.completion_tokens == cc.usage.completion_tokens, "stream usage")

    try:
        client.completions.create(model="no-such-model", prompt="x")
        check(False, "unknown model accepted")
    except openai.NotFoundError as e:
        check("no-such-model" in str(e), f"NotFoundError message: {e}")
    try:
        client.completions.create(model=args.model, prompt="x", temperature=5)
        check(False, "temperature 5 accepted")
    except openai.BadRequestError as e:
        check("temperature" in str(e), f"BadRequestError message: {e}")
    print("openai_check: ok")


if __name__ == "__main__":
    main()
