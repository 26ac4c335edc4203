#!/usr/bin/env python3
"""Makes extra DeepSeek-V4 chat test cases by running DeepSeek's own reference encoder/parser
(encoding/encoding_dsv4.py from the model repo, not vendored here) on random inputs.

  python3 tools/chat/reference_cases.py PATH/TO/encoding_dsv4.py OUT_DIR [SEED] [N_ENCODE] [N_PARSE]

Writes OUT_DIR/chat-reference-encode.jsonl ({name, messages, options, prompt}, the official
vector format) and OUT_DIR/chat-reference-parse.jsonl ({mode, text, result}: the reference
parser's verdict on well-formed and mutated completions). Used by ChatReferenceFuzzTests.swift.
"""
import importlib.util, json, random, sys

spec = importlib.util.spec_from_file_location("encoding_dsv4", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
out_dir = sys.argv[2]
R = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
N_ENCODE = int(sys.argv[4]) if len(sys.argv) > 4 else 200
N_PARSE = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
WORDS = ["hi", "Paris", "naïve café", "日本語", "🚀", "a\tb", "line1\nline2", "x\r\ny", "quote\"q", "back\\slash", "</think>", "<think>", "ctl\u0001\u001f", "\u2028sep", "del\x7f", "  spaced  ", "", "a/b", "中文测试"]
def text(): return " ".join(R.choice(WORDS) for _ in range(R.randint(0, 3)))
def num():
    c = R.randint(0, 9)
    if c == 0: return R.randint(-10**30, 10**30)
    if c == 1: return R.choice([0.1, 1.0, 1e16, 1e15, 1e-5, 1e-4, 123456789.125, 5e-324, 1.7976931348623157e308, -0.0, 2.5e-7, 1e22, 0.30000000000000004])
    if c in (2, 3): return R.uniform(-1, 1) * 10 ** R.randint(-30, 30)
    if c == 4: return R.randint(-5, 5)
    return round(R.uniform(0, 1000), R.randint(0, 4))
def jval(d=0):
    c = R.randint(0, 6 if d < 2 else 3)
    if c == 0: return text()
    if c == 1: return num()
    if c == 2: return R.choice([True, False, None])
    if c == 3: return R.choice(WORDS)
    if c == 4: return [jval(d + 1) for _ in range(R.randint(0, 3))]
    return {R.choice(["k", "ключ", "z", "a", "b"]) + str(i): jval(d + 1) for i in range(R.randint(0, 3))}
def args_text():
    c = R.randint(0, 9)
    if c == 0: return "not json " + text()
    if c == 1: return '{"a":1.50, "b" : 1E5, "c":-0.0, "d": 1e400, "e": [1,2 ,3], "a": "dup"}'
    if c == 2: return "{}"
    obj = {R.choice(["city", "q", "n", "опция", "x y"]) + str(i): jval() for i in range(R.randint(0, 4))}
    return json.dumps(obj, ensure_ascii=R.random() < 0.5, indent=R.choice([None, None, 2]))
def tool():
    fn = {"name": R.choice(["search", "get_weather", "open"]) + str(R.randint(0, 9))}
    if R.random() < 0.8: fn["description"] = text()
    if R.random() < 0.8: fn["parameters"] = {"type": "object", "properties": {"p": {"type": "number", "default": num()}}, "required": ["p"]}
    return {"type": "function", "function": fn}
def message(i):
    role = R.choice(["system", "user", "user", "assistant", "assistant", "tool", "tool", "developer", "latest_reminder"])
    m = {"role": role}
    if role == "user":
        m["content"] = text()
        if R.random() < 0.15: m["task"] = R.choice(["action", "query", "authority", "domain", "title", "read_url"])
        if R.random() < 0.1: m["tools"] = [tool()]
    elif role == "system":
        if R.random() < 0.9: m["content"] = R.choice([text(), None])
        if R.random() < 0.3: m["tools"] = R.choice([[], [tool()], [tool(), tool()]])
        if R.random() < 0.2: m["response_format"] = R.choice([{}, {"type": "json_object"}, {"type": "json_schema", "json_schema": jval()}])
    elif role == "developer":
        m["content"] = "dev " + text()
        if R.random() < 0.5: m["tools"] = [tool()]
    elif role == "latest_reminder":
        m["content"] = text()
    elif role == "tool":
        if R.random() < 0.9: m["tool_call_id"] = R.choice(["c0", "c1", "c2", "zz"])
        m["content"] = R.choice([text(), [{"type": "text", "text": text()}, {"type": "image_url", "image_url": {"url": "x"}}], [{"type": "text", "text": text()}]])
    else:
        if R.random() < 0.9: m["content"] = R.choice([text(), None])
        if R.random() < 0.6: m["reasoning_content"] = R.choice([text(), None])
        if R.random() < 0.5:
            m["tool_calls"] = [{"id": "c%d" % k, "type": "function", "function": {"name": "fn%d" % k, "arguments": args_text()}} for k in R.sample(range(3), R.randint(0, 3))]
        if R.random() < 0.1: m["wo_eos"] = True
        if R.random() < 0.08: m["task"] = "title"
    return m

PIECES = ["</think>", "<｜end▁of▁sentence｜>", "\n\n<｜DSML｜tool_calls", ">\n", "<｜DSML｜invoke",
          "</｜DSML｜invoke>\n", "<｜DSML｜parameter", "</｜DSML｜parameter>", "\n", "<", "｜DSML｜",
          " name=\"x\">\n", "\"", "<think>"]


def encode_cases(path):
    with open(path, "w") as out:
        n = 0
        while n < N_ENCODE:
            msgs = [message(i) for i in range(R.randint(1, 7))]
            ctx = [message(i) for i in range(R.randint(1, 3))] if R.random() < 0.15 else []
            opts = {"thinking_mode": R.choice(["chat", "thinking"]), "drop_thinking": R.random() < 0.7,
                    "add_default_bos_token": R.random() < 0.9,
                    "reasoning_effort": R.choice([None, None, "high", "max"])}
            try:  # inputs the reference rejects are skipped
                prompt = ref.encode_messages(json.loads(json.dumps(msgs)),
                                             context=json.loads(json.dumps(ctx)) or None, **opts)
            except Exception:
                continue
            if ctx:
                opts["context"] = ctx
            out.write(json.dumps({"name": "ref_%d" % n, "messages": msgs, "options": opts,
                                  "prompt": prompt}, ensure_ascii=False) + "\n")
            n += 1


def parse_cases(path):
    with open(path, "w") as out:
        n = 0
        while n < N_PARSE:
            m = None
            while m is None or m["role"] != "assistant":
                m = message(0)
            m.pop("wo_eos", None)
            m.pop("task", None)
            mode = R.choice(["chat", "thinking"])
            try:
                p = ref.encode_messages([{"role": "user", "content": "q"}, m], thinking_mode=mode,
                                        drop_thinking=False)
            except Exception:
                continue
            head = "<｜Assistant｜>" + ("<think>" if mode == "thinking" else "</think>")
            comp = p[p.index(head) + len(head):]
            kind = R.randint(0, 5)  # 0, 5: as rendered; 1-4: truncated or mutated
            if kind == 1:
                comp = comp[:R.randint(0, len(comp))]
            elif kind == 2 and comp:
                i = R.randrange(len(comp))
                comp = comp[:i] + comp[i + 1:]
            elif kind == 3:
                i = R.randint(0, len(comp))
                comp = comp[:i] + R.choice(PIECES) + comp[i:]
            elif kind == 4:
                comp = comp + R.choice(["", "extra", "<｜end▁of▁sentence｜>"])
            try:
                r = ref.parse_message_from_completion_text(comp, mode)
                res = {"ok": True, "reasoning": r["reasoning_content"], "content": r["content"],
                       "calls": [[c["function"]["name"], c["function"]["arguments"]] for c in r["tool_calls"]]}
            except Exception as e:
                res = {"ok": False, "error": str(e)[:100]}
            out.write(json.dumps({"mode": mode, "text": comp, "result": res}, ensure_ascii=False) + "\n")
            n += 1


encode_cases(out_dir + "/chat-reference-encode.jsonl")
parse_cases(out_dir + "/chat-reference-parse.jsonl")
