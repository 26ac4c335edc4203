#!/usr/bin/env python3
"""The `openai` SDK from PyPI against `riptide serve` (built-in random model).

Chat and completions, streamed and not; usage with prompt_tokens_details.cached_tokens and
completion_tokens_details.reasoning_tokens (in the stream with include_usage); bad input raising
openai.BadRequestError with the server's message, param and code; an unknown model raising
NotFoundError; --api-key raising AuthenticationError without the key.

    python3 tools/server/test_openai_sdk.py [--riptide .build/release/riptide]
"""
import openai

from harness import (ASSISTANT, BOS, THINK, THINK_END, EOS, USER, Server, Suite, encode, expect_equal, parse_args,
                     http_get)

CONTEXT = 1024
args = parse_args(__doc__)
suite = Suite("test_openai_sdk")


def chat_prompt_tokens(user_text, thinking=True):
    """The prompt of one user message, as DeepSeek-V4's encoder writes it (spec §3)."""
    return len(encode(BOS + USER + user_text + ASSISTANT + (THINK if thinking else THINK_END)))


def expect_error(cls, call, message, param=None, code=None, status=None):
    try:
        call()
    except cls as e:
        assert isinstance(e.body, dict), f"error body is {e.body!r}"
        assert message in e.body.get("message", ""), f"message {e.body.get('message')!r} lacks {message!r}"
        assert message in str(e), f"{message!r} not in str(exception): {e}"
        if param is not None:
            expect_equal(e.param, param, "error param")
        if code is not None:
            expect_equal(e.code, code, "error code")
        if status is not None:
            expect_equal(e.status_code, status, "status")
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"expected {cls.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {cls.__name__}, the call succeeded")


with Server(args.riptide, "--enable-test-hooks", "--context-length", CONTEXT, name="sdk") as srv:
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    model = srv.model

    @suite.case("models.list names the served model")
    def _():
        ids = [m.id for m in client.models.list().data]
        expect_equal(ids, [model], "model ids")
        expect_equal(client.models.retrieve(model).id, model, "models.retrieve")

    @suite.case("chat, not streamed: length stop, usage counts")
    def _():
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello there"}],
                                           max_tokens=8, temperature=0.7, seed=3)
        c = r.choices[0]
        expect_equal(c.finish_reason, "length", "finish_reason")
        expect_equal(c.message.role, "assistant", "role")
        expect_equal(r.usage.prompt_tokens, chat_prompt_tokens("Hello there"), "prompt_tokens")
        expect_equal(r.usage.completion_tokens, 8, "completion_tokens")
        expect_equal(r.usage.total_tokens, r.usage.prompt_tokens + 8, "total_tokens")
        assert r.usage.prompt_tokens_details is not None, "no prompt_tokens_details"
        expect_equal(r.usage.prompt_tokens_details.cached_tokens, 0, "cached_tokens of a new prompt")
        assert r.usage.completion_tokens_details is not None, "no completion_tokens_details"
        rt = r.usage.completion_tokens_details.reasoning_tokens
        assert 0 <= rt <= 8, f"reasoning_tokens {rt}"
        # Thinking is on by default (DeepSeek's API default): the reply starts as reasoning.
        assert getattr(c.message, "reasoning_content", None) is not None, "no reasoning_content"

    forced_text = "Two plus two: add them.</think>The answer is 4."
    forced_ids = encode(forced_text) + encode(EOS)
    think_tokens = encode(forced_text).index(encode(THINK_END)[0]) + 1

    @suite.case("chat, not streamed, forced output: reasoning_content, content, reasoning_tokens, stop")
    def _():
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "2+2?"}],
                                           max_tokens=64, extra_body={"forced_output": forced_ids})
        c = r.choices[0]
        expect_equal(c.finish_reason, "stop", "finish_reason")
        expect_equal(c.message.content, "The answer is 4.", "content")
        expect_equal(c.message.reasoning_content, "Two plus two: add them.", "reasoning_content")
        expect_equal(r.usage.completion_tokens, len(forced_ids), "completion_tokens")
        expect_equal(r.usage.completion_tokens_details.reasoning_tokens, think_tokens, "reasoning_tokens")
        expect_equal(r.usage.prompt_tokens, chat_prompt_tokens("2+2?"), "prompt_tokens")

    @suite.case("chat, streamed with include_usage: deltas, finish chunk, usage chunk")
    def _():
        stream = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "2+2?"}], max_tokens=64, stream=True,
            stream_options={"include_usage": True}, extra_body={"forced_output": forced_ids})
        reasoning = content = ""
        finishes, usage, roles = [], None, []
        for chunk in stream:
            if chunk.usage is not None:
                assert not chunk.choices, "the usage chunk has choices"
                usage = chunk.usage
                continue
            for ch in chunk.choices:
                d = ch.delta
                if d.role:
                    roles.append(d.role)
                reasoning += getattr(d, "reasoning_content", None) or ""
                content += d.content or ""
                if ch.finish_reason:
                    finishes.append(ch.finish_reason)
        expect_equal(roles, ["assistant"], "roles")
        expect_equal(reasoning, "Two plus two: add them.", "streamed reasoning_content")
        expect_equal(content, "The answer is 4.", "streamed content")
        expect_equal(finishes, ["stop"], "finish reasons")
        assert usage is not None, "no usage chunk"
        expect_equal(usage.completion_tokens, len(forced_ids), "completion_tokens")
        expect_equal(usage.prompt_tokens, chat_prompt_tokens("2+2?"), "prompt_tokens")
        expect_equal(usage.prompt_tokens_details.cached_tokens, 0, "cached_tokens")
        expect_equal(usage.completion_tokens_details.reasoning_tokens, think_tokens, "reasoning_tokens")

    @suite.case("chat: non-thinking mode via thinking={'type': 'disabled'}: no reasoning")
    def _():
        r = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=16,
            extra_body={"thinking": {"type": "disabled"}, "forced_output": encode("Hello!" + EOS)})
        m = r.choices[0].message
        expect_equal(m.content, "Hello!", "content")
        assert getattr(m, "reasoning_content", None) in (None, ""), f"reasoning_content {m.reasoning_content!r}"
        expect_equal(r.usage.prompt_tokens, chat_prompt_tokens("hi", thinking=False), "prompt_tokens")
        expect_equal(r.usage.completion_tokens_details.reasoning_tokens, 0, "reasoning_tokens")

    @suite.case("chat: a repeated long prompt reports cached_tokens")
    def _():
        system = "You are a careful assistant who answers briefly. " * 30
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": "cache me"}]
        first = client.chat.completions.create(model=model, messages=msgs, max_tokens=2)
        second = client.chat.completions.create(model=model, messages=msgs, max_tokens=2)
        expect_equal(first.usage.prompt_tokens_details.cached_tokens, 0, "first cached_tokens")
        n = second.usage.prompt_tokens
        cached = second.usage.prompt_tokens_details.cached_tokens
        assert n > 128, f"prompt of {n} tokens is too short for a prefix snapshot"
        assert 0 < cached < n, f"second request: cached_tokens {cached} of {n}"

    ids = list(range(1000, 1040))

    @suite.case("completions, not streamed: token-id prompt, ignore_eos, usage")
    def _():
        r = client.completions.create(model=model, prompt=ids, max_tokens=6, extra_body={"ignore_eos": True})
        expect_equal(r.choices[0].finish_reason, "length", "finish_reason")
        expect_equal(r.usage.prompt_tokens, len(ids), "prompt_tokens")
        expect_equal(r.usage.completion_tokens, 6, "completion_tokens")
        assert r.choices[0].text, "empty text"

    @suite.case("completions: text prompt gets BOS in front")
    def _():
        r = client.completions.create(model=model, prompt="Once upon a time", max_tokens=3,
                                      extra_body={"ignore_eos": True})
        expect_equal(r.usage.prompt_tokens, len(encode(BOS + "Once upon a time")), "prompt_tokens")
        expect_equal(r.usage.completion_tokens, 3, "completion_tokens")

    @suite.case("completions, streamed with include_usage: same greedy text as not streamed")
    def _():
        want = client.completions.create(model=model, prompt=ids, max_tokens=12, temperature=0,
                                         extra_body={"ignore_eos": True})
        text, finishes, usage = "", [], None
        for chunk in client.completions.create(model=model, prompt=ids, max_tokens=12, temperature=0, stream=True,
                                               stream_options={"include_usage": True},
                                               extra_body={"ignore_eos": True}):
            if chunk.usage is not None:
                usage = chunk.usage
            for ch in chunk.choices:
                text += ch.text
                if ch.finish_reason:
                    finishes.append(ch.finish_reason)
        expect_equal(text, want.choices[0].text, "streamed greedy text")
        expect_equal(finishes, ["length"], "finish reasons")
        assert usage is not None, "no usage chunk"
        expect_equal(usage.completion_tokens, 12, "completion_tokens")
        expect_equal(usage.prompt_tokens, len(ids), "prompt_tokens")
        assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens is not None
        assert usage.completion_tokens_details is not None

    @suite.case("completions: forced output comes back as its text")
    def _():
        r = client.completions.create(model=model, prompt=ids, max_tokens=50,
                                      extra_body={"forced_output": encode("forced words" + EOS)})
        expect_equal(r.choices[0].text, "forced words", "text")
        expect_equal(r.choices[0].finish_reason, "stop", "finish_reason")

    @suite.case("chat: n=2 and logprobs with top_logprobs")
    def _():
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=4,
                                           n=2, logprobs=True, top_logprobs=3)
        expect_equal(len(r.choices), 2, "choices")
        for c in r.choices:
            lp = c.logprobs.content
            expect_equal(len(lp), 4, "logprob entries")
            for t in lp:
                assert t.logprob <= 0, f"logprob {t.logprob}"
                expect_equal(len(t.top_logprobs), 3, "top_logprobs")
        expect_equal(r.usage.completion_tokens, 8, "completion_tokens for n=2")

    user = [{"role": "user", "content": "hi"}]

    @suite.case("bad input: negative max_tokens is a BadRequestError with our message")
    def _():
        expect_error(openai.BadRequestError,
                     lambda: client.chat.completions.create(model=model, messages=user, max_tokens=-5),
                     "'max_tokens' must be an integer ≥ 1", param="max_tokens", status=400)
        expect_error(openai.BadRequestError,
                     lambda: client.completions.create(model=model, prompt="x", max_tokens=-1),
                     "'max_tokens' must be an integer ≥ 1", param="max_tokens")

    @suite.case("bad input: wrong types are BadRequestErrors naming the field")
    def _():
        expect_error(openai.BadRequestError,
                     lambda: client.chat.completions.create(model=model, messages=user, temperature="hot"),
                     "'temperature' must be a number", param="temperature")
        expect_error(openai.BadRequestError,
                     lambda: client.chat.completions.create(model=model, messages="hi"),
                     "'messages' must be an array", param="messages")
        expect_error(openai.BadRequestError,
                     lambda: client.chat.completions.create(model=model, messages=user, max_tokens=4,
                                                            extra_body={"stream": "yes"}),
                     "'stream' must be a boolean", param="stream")
        expect_error(openai.BadRequestError,
                     lambda: client.completions.create(model=model, prompt={"a": 1}, max_tokens=2),
                     "'prompt' must be a string, a list of token ids", param="prompt")
        expect_error(openai.BadRequestError,
                     lambda: client.completions.create(model=model, prompt=[1, 10 ** 9], max_tokens=2),
                     "outside the vocabulary", param="prompt")

    @suite.case("bad input: a prompt longer than the context is a BadRequestError")
    def _():
        long = "lorem ipsum dolor " * 600
        e = expect_error(openai.BadRequestError,
                         lambda: client.chat.completions.create(model=model, messages=[{"role": "user", "content": long}],
                                                                max_tokens=4),
                         f"maximum context length is {CONTEXT} tokens", code="context_length_exceeded")
        expect_error(openai.BadRequestError,
                     lambda: client.completions.create(model=model, prompt=list(range(100, 100 + CONTEXT + 5)),
                                                       max_tokens=1),
                     f"maximum context length is {CONTEXT} tokens", param="prompt", code="context_length_exceeded")
        # max_tokens that does not fit next to the prompt
        expect_error(openai.BadRequestError,
                     lambda: client.chat.completions.create(model=model, messages=user, max_tokens=CONTEXT),
                     f"maximum context length is {CONTEXT} tokens", code="context_length_exceeded")
        assert e.type == "invalid_request_error", e.type

    @suite.case("bad input, streamed request: the error comes before any stream")
    def _():
        expect_error(openai.BadRequestError,
                     lambda: client.chat.completions.create(model=model, messages=user, max_tokens=0, stream=True),
                     "'max_tokens' must be an integer ≥ 1")

    @suite.case("unknown model is a NotFoundError")
    def _():
        expect_error(openai.NotFoundError,
                     lambda: client.chat.completions.create(model="gpt-17", messages=user, max_tokens=2),
                     "The model 'gpt-17' does not exist", code="model_not_found", status=404)
        expect_error(openai.NotFoundError,
                     lambda: client.completions.create(model="gpt-17", prompt="x", max_tokens=2),
                     "The model 'gpt-17' does not exist")
        expect_error(openai.NotFoundError, lambda: client.models.retrieve("gpt-17"), "does not exist")

with Server(args.riptide, "--api-key", "sk-riptide-test", name="sdk-auth") as srv:
    @suite.case("--api-key: no or wrong key is an AuthenticationError, the right key works")
    def _():
        bad = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-wrong", max_retries=0)
        expect_error(openai.AuthenticationError,
                     lambda: bad.chat.completions.create(model=srv.model, messages=[{"role": "user", "content": "x"}],
                                                         max_tokens=2),
                     "Missing or invalid API key", code="invalid_api_key", status=401)
        expect_error(openai.AuthenticationError, lambda: bad.models.list(), "Missing or invalid API key")
        status, _ = http_get(srv.url + "/v1/models")
        expect_equal(status, 401, "/v1/models without Authorization")
        expect_equal(http_get(srv.url + "/health")[0], 200, "/health stays open")
        good = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-riptide-test", max_retries=0)
        r = good.completions.create(model=srv.model, prompt=[5, 6, 7], max_tokens=2, extra_body={"ignore_eos": True})
        expect_equal(r.usage.completion_tokens, 2, "completion_tokens with the key")

suite.exit()
