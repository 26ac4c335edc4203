#!/usr/bin/env python3
"""Tool calls round-trip through `riptide serve` with the `openai` SDK: a scripted agent loop.

In thinking and in non-thinking mode, 3 turns: the agent sends the tools and the conversation, the
"model" (forced through the `forced_output` test hook to emit the token ids of a known DSML
completion) answers with tool calls, the agent runs them and sends the results back; the third
turn is a plain answer with finish_reason stop. Each turn is asked twice, streamed and not.

The completions, and what DeepSeek's own parser extracts from them, come from
fixtures/tool_call_cases.json, written by make_tool_call_cases.py with DeepSeek's
encoding_dsv4.py. With --reference PATH/encoding_dsv4.py (or $RIPTIDE_DSV4_ENCODING) the test
rebuilds that file with the reference and checks it is unchanged, so the expectations are
DeepSeek's parser's output on the very text forced here.

Checked per turn: tool_calls (name, arguments) streamed and not equal the reference parse; call
ids are minted by the server (call_…, unique); content and reasoning_content equal the
reference's, and no DSML markup reaches content; finish_reason; prompt_tokens equal the length
of DeepSeek's encoding of the conversation the agent sent; completion and reasoning tokens.

    python3 tools/server/test_tool_calls.py [--riptide PATH] [--reference encoding_dsv4.py]
"""
import json
import os

import openai

from harness import DSML, EOS, THINK_END, Server, Suite, encode, expect_equal, parse_args

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "tool_call_cases.json")
MARKUP = (DSML, "<｜", "｜>", "tool_calls>", "invoke name=", "parameter name=", THINK_END, EOS)

args = parse_args(__doc__, lambda p: p.add_argument(
    "--reference", default=os.environ.get("RIPTIDE_DSV4_ENCODING"),
    help="DeepSeek's encoding_dsv4.py: rebuild the fixture with it and require no change"))
suite = Suite("test_tool_calls")
cases = json.load(open(FIXTURE, encoding="utf-8"))

if args.reference:
    @suite.case("the fixture is what DeepSeek's encoder and parser give now")
    def _():
        import make_tool_call_cases as mk
        ref = mk.load_reference(args.reference)
        fresh = mk.build(ref)
        expect_equal(fresh, cases, "rebuilt fixture")
        for mode, turns in cases["modes"].items():
            for t in turns:
                expect_equal(mk.reference_parse(ref, t["completion"], mode), t["expected"], "live reference parse")
else:
    print("  (no --reference: using the committed fixture made by DeepSeek's parser)")

TOOLS = cases["tools"]


def no_markup(text, what):
    for m in MARKUP:
        assert m not in (text or ""), f"{what} contains markup {m!r}: {text!r}"


def substitute_ids(messages, ids):
    """The fixture's conversation with `$call_T_K` placeholders replaced by the minted ids."""
    text = json.dumps(messages, ensure_ascii=False)
    for placeholder, real in ids.items():
        text = text.replace(json.dumps(placeholder), json.dumps(real))
    assert "$call_" not in text, "a call id placeholder was not replaced"
    return json.loads(text)


def check_calls(calls, expected, what):
    got = [{"name": c["name"], "arguments": c["arguments"]} for c in calls]
    expect_equal(got, expected["tool_calls"], f"{what} tool_calls vs DeepSeek's parser")
    ids = [c["id"] for c in calls]
    assert all(isinstance(i, str) and i.startswith("call_") and len(i) > 8 for i in ids), f"{what} call ids {ids}"
    assert len(set(ids)) == len(ids), f"{what} call ids repeat: {ids}"
    assert all(c["type"] == "function" for c in calls), f"{what} call types"
    for c in calls:
        json.loads(c["arguments"])  # arguments are JSON


def run_nonstreamed(client, model, messages, forced, extra):
    r = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, max_tokens=len(forced) + 8,
                                       extra_body={"forced_output": forced, **extra})
    choice = r.choices[0]
    m = choice.message
    calls = [{"id": c.id, "type": c.type, "name": c.function.name, "arguments": c.function.arguments}
             for c in (m.tool_calls or [])]
    return {"finish": choice.finish_reason, "content": m.content, "reasoning": getattr(m, "reasoning_content", None),
            "calls": calls, "usage": r.usage}


def run_streamed(client, model, messages, forced, extra, markup_ok=False):
    stream = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, max_tokens=len(forced) + 8,
                                            stream=True, stream_options={"include_usage": True},
                                            extra_body={"forced_output": forced, **extra})
    content, reasoning, finishes, usage = "", None, [], None
    calls, fragments = {}, {}
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for ch in chunk.choices:
            d = ch.delta
            if d.content:
                if not markup_ok:
                    no_markup(d.content, "a streamed content delta")
                content += d.content
            r = getattr(d, "reasoning_content", None)
            if r:
                reasoning = (reasoning or "") + r
            for tc in d.tool_calls or []:
                if tc.index not in calls:
                    assert tc.id and tc.function and tc.function.name, f"first delta of call {tc.index} lacks id/name"
                    calls[tc.index] = {"id": tc.id, "type": tc.type or "function", "name": tc.function.name,
                                       "arguments": ""}
                    fragments[tc.index] = 0
                else:
                    assert tc.id in (None, calls[tc.index]["id"]), "a call's id changed mid-stream"
                if tc.function and tc.function.arguments:
                    calls[tc.index]["arguments"] += tc.function.arguments
                    fragments[tc.index] += 1
            if ch.finish_reason:
                finishes.append(ch.finish_reason)
    expect_equal(sorted(calls), list(range(len(calls))), "streamed tool call indexes")
    assert len(finishes) == 1, f"finish reasons {finishes}"
    return {"finish": finishes[0], "content": content, "reasoning": reasoning,
            "calls": [calls[i] for i in sorted(calls)], "fragments": [fragments[i] for i in sorted(calls)],
            "usage": usage}


def check_turn(got, turn, mode, forced, what):
    exp = turn["expected"]
    expect_equal(got["finish"], "tool_calls" if exp["tool_calls"] else "stop", f"{what} finish_reason")
    no_markup(got["content"], f"{what} content")
    expect_equal(got["content"] or "", exp["content"], f"{what} content")
    if mode == "thinking":
        expect_equal(got["reasoning"], exp["reasoning_content"], f"{what} reasoning_content")
    else:
        assert not got["reasoning"], f"{what}: reasoning_content {got['reasoning']!r} in non-thinking mode"
    check_calls(got["calls"], exp, what)
    u = got["usage"]
    assert u is not None, f"{what}: no usage"
    expect_equal(u.prompt_tokens, len(encode(turn["prompt"])), f"{what} prompt_tokens (DeepSeek's encoding)")
    expect_equal(u.completion_tokens, len(forced), f"{what} completion_tokens")
    think = forced.index(encode(THINK_END)[0]) + 1 if mode == "thinking" else 0
    expect_equal(u.completion_tokens_details.reasoning_tokens, think, f"{what} reasoning_tokens")


THINKING = {"thinking": {}, "chat": {"thinking": {"type": "disabled"}}}

with Server(args.riptide, "--enable-test-hooks", name="tools") as srv:
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=120)

    for mode in ("thinking", "chat"):
        turns = cases["modes"][mode]
        state = {"ids": {}, "history": None}
        for t, turn in enumerate(turns):
            last = t == len(turns) - 1

            @suite.case(f"{mode} mode, turn {t + 1}: " + ("plain answer, stop" if last else "tool calls"))
            def _(t=t, turn=turn, mode=mode, state=state):
                messages = substitute_ids(turn["messages"], state["ids"])
                if state["history"] is not None:
                    # The conversation the agent built from the server's replies is the fixture's.
                    expect_equal(state["history"], messages, "agent history vs the fixture's conversation")
                forced = encode(turn["completion"])
                body = THINKING[mode]
                plain = run_nonstreamed(client, srv.model, messages, forced, body)
                check_turn(plain, turn, mode, forced, "non-streamed")
                streamed = run_streamed(client, srv.model, messages, forced, body)
                check_turn(streamed, turn, mode, forced, "streamed")
                expect_equal([(c["name"], c["arguments"]) for c in streamed["calls"]],
                             [(c["name"], c["arguments"]) for c in plain["calls"]], "streamed vs non-streamed calls")
                for c, n in zip(streamed["calls"], streamed["fragments"]):
                    assert n >= 2, f"call {c['name']}: arguments arrived in {n} delta(s), not as generated"
                # The agent runs the tools and answers with the results (ids from the non-streamed reply).
                back = {"role": "assistant", "content": plain["content"]}
                if mode == "thinking" and t != 1:  # turn 2 is sent back without its reasoning
                    back["reasoning_content"] = plain["reasoning"]
                if plain["calls"]:
                    back["tool_calls"] = [{"id": c["id"], "type": "function",
                                           "function": {"name": c["name"], "arguments": c["arguments"]}}
                                          for c in plain["calls"]]
                for k, c in enumerate(plain["calls"]):
                    state["ids"][f"$call_{t}_{k}"] = c["id"]
                history = messages + [back]
                if t + 1 < len(turns):
                    following = substitute_ids(turns[t + 1]["messages"], state["ids"])
                    results = following[len(history):]
                    assert all(m["role"] == "tool" for m in results), "fixture: tool results expected"
                    expect_equal([m["tool_call_id"] for m in results], [c["id"] for c in plain["calls"]],
                                 "tool results answer the calls")
                    state["history"] = history + results

    first = cases["modes"]["thinking"][0]
    user_only = substitute_ids(first["messages"], {})

    @suite.case("tool_choice none: generated calls are dropped, no markup in content")
    def _():
        forced = encode(first["completion"])
        for stream in (False, True):
            run = run_streamed if stream else run_nonstreamed
            got = run(client, srv.model, user_only, forced, {"tool_choice": "none"})
            assert not got["calls"], f"tool_choice none returned calls {got['calls']}"
            no_markup(got["content"], "content")
            expect_equal(got["finish"], "stop", "finish_reason")
            expect_equal(got["reasoning"], first["expected"]["reasoning_content"], "reasoning_content")

    @suite.case("parallel_tool_calls false: only the first call comes back")
    def _():
        forced = encode(first["completion"])
        for run in (run_nonstreamed, run_streamed):
            got = run(client, srv.model, user_only, forced, {"parallel_tool_calls": False})
            expect_equal([(c["name"], c["arguments"]) for c in got["calls"]],
                         [(c["name"], c["arguments"]) for c in first["expected"]["tool_calls"][:1]], "calls")
            no_markup(got["content"], "content")

    @suite.case("malformed DSML: plain content, no tool_calls, no 500")
    def _():
        text = first["completion"]
        broken = text.replace('name="get_weather">\n<', 'name=get_weather>\n<', 1)  # unquoted name
        for stream in (False, True):
            got = (run_streamed(client, srv.model, user_only, encode(broken), {}, markup_ok=True) if stream
                   else run_nonstreamed(client, srv.model, user_only, encode(broken), {}))
            assert not got["calls"], f"malformed markup gave calls {got['calls']}"
            assert got["finish"] == "stop", f"finish_reason {got['finish']}"
            assert got["content"], "the malformed call did not come back as content"
            assert 'name=get_weather>' in got["content"], f"content {got['content']!r}"

suite.exit()
