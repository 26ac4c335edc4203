#!/usr/bin/env python3
"""Writes tools/server/fixtures/tool_call_cases.json for test_tool_calls.py by running DeepSeek's
own encoder and parser (encoding/encoding_dsv4.py from the DeepSeek-V4 model repo, SHA-256
bdbd57c1…, not vendored here; see shared/specs/dsv4-chat-encoding.md):

    python3 tools/server/make_tool_call_cases.py PATH/TO/encoding_dsv4.py [OUT]

For each thinking mode, a 3-turn agent conversation: turns 1 and 2 end in tool calls, turn 3 in a
plain answer. For each turn the file holds
  - `completion`: the assistant turn as the model would emit it (DeepSeek's encoder renders the
    assistant message, reasoning and DSML markup, up to and including EOS), which the test forces;
  - `expected`: DeepSeek's parser's verdict on that same text (reasoning, content, tool calls);
  - `prompt`: the prompt DeepSeek's encoder writes for the conversation so far, as the agent
    sends it (tools on the system message, earlier tool calls and results);
  - `messages`: that conversation, with call ids left as placeholders (`$call_T_K`) that the test
    replaces with the ids the server minted.
test_tool_calls.py re-runs the parser live with --reference PATH and checks this file against it.
"""
import copy
import hashlib
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "tool_call_cases.json")
REFERENCE_SHA256 = "bdbd57c132a1b3725042323d02b98b9d1df28e5f388f134399555d041f5055e0"

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "get_forecast",
        "description": "Forecast for the next days.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1},
            "hourly": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "filter": {"type": "object"},
            "note": {"type": "string"}},
            "required": ["city", "days"]}}},
]
SYSTEM = "You are a weather agent. Call tools when you need data."
USER = "What's the weather in Paris and in 東京 right now, and will it rain in Paris this week?"

# The assistant turns the "model" emits, per mode; reasoning is dropped in chat mode.
TURNS = [
    {"reasoning_content": "The user asks about two cities; I will call get_weather for both at once.",
     "content": "",
     "tool_calls": [("get_weather", {"city": "Paris", "unit": "celsius"}),
                    ("get_weather", {"city": "東京", "unit": "celsius"})]},
    {"reasoning_content": "Now the forecast for Paris: 7 days, hourly off, \"rain\" and wind tags.",
     "content": "Checking the forecast next.",
     "tool_calls": [("get_forecast", {"city": "Paris", "days": 7, "hourly": False, "tags": ["rain", "wind"],
                                      "filter": {"min_mm": 0.5, "sources": None},
                                      "note": "quotes \" and <tags> & a\nnewline"})]},
    {"reasoning_content": "I have everything: 18 °C in Paris, 22 °C in Tokyo, rain on Thursday.",
     "content": "Paris: 18 °C and cloudy. 東京: 22 °C and clear. Rain is likely in Paris on Thursday (about 4 mm).",
     "tool_calls": []},
]
TOOL_RESULTS = [
    ['{"city": "Paris", "temp": 18, "sky": "cloudy"}', '{"city": "東京", "temp": 22, "sky": "clear"}'],
    ['{"days": [{"day": "Thu", "rain_mm": 4.0}, {"day": "Fri", "rain_mm": 0.0}]}'],
]


def load_reference(path):
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != REFERENCE_SHA256:
        print(f"warning: {path} has SHA-256 {digest}, not the pinned {REFERENCE_SHA256}", file=sys.stderr)
    spec = importlib.util.spec_from_file_location("encoding_dsv4", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    return ref


def reference_parse(ref, text, mode):
    r = ref.parse_message_from_completion_text(text, mode)
    return {"reasoning_content": r["reasoning_content"], "content": r["content"],
            "tool_calls": [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                           for c in r["tool_calls"]]}


def build(ref):
    out = {"reference_sha256": REFERENCE_SHA256, "tools": TOOLS, "system": SYSTEM, "user": USER, "modes": {}}
    for mode in ("thinking", "chat"):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
        turns = []
        for t, turn in enumerate(TURNS):
            # The prompt for this turn: the agent's messages with the tools on the system message.
            with_tools = copy.deepcopy(messages)
            with_tools[0]["tools"] = TOOLS
            prompt = ref.encode_messages(with_tools, thinking_mode=mode)
            # The completion: the assistant turn rendered by the encoder, cut after the prompt's head.
            calls = [{"id": f"$call_{t}_{k}", "type": "function",
                      "function": {"name": n, "arguments": json.dumps(a, ensure_ascii=False)}}
                     for k, (n, a) in enumerate(turn["tool_calls"])]
            assistant = {"role": "assistant", "content": turn["content"]}
            if mode == "thinking":
                assistant["reasoning_content"] = turn["reasoning_content"]
            if calls:
                assistant["tool_calls"] = calls
            rendered = ref.encode_messages(copy.deepcopy(with_tools) + [assistant], thinking_mode=mode,
                                           drop_thinking=False)
            assert rendered.startswith(prompt), "the rendered turn does not extend the prompt"
            completion = rendered[len(prompt):]
            expected = reference_parse(ref, completion, mode)
            turns.append({"messages": copy.deepcopy(messages), "prompt": prompt, "completion": completion,
                          "expected": expected})
            # What the agent sends back: the parsed message (as the server should return it) and
            # the tool results. In thinking mode, turn 2's history omits reasoning_content, as
            # many agent clients do (it must be accepted, not a 400).
            back = {"role": "assistant", "content": expected["content"] or None}
            if mode == "thinking" and t != 1:
                back["reasoning_content"] = expected["reasoning_content"]
            if expected["tool_calls"]:
                back["tool_calls"] = [{"id": f"$call_{t}_{k}", "type": "function",
                                       "function": {"name": c["name"], "arguments": c["arguments"]}}
                                      for k, c in enumerate(expected["tool_calls"])]
            messages.append(back)
            for k, result in enumerate(TOOL_RESULTS[t] if t < len(TOOL_RESULTS) else []):
                messages.append({"role": "tool", "tool_call_id": f"$call_{t}_{k}", "content": result})
        out["modes"][mode] = turns
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = build(load_reference(sys.argv[1]))
    path = sys.argv[2] if len(sys.argv) > 2 else OUT
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
