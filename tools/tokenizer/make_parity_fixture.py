#!/usr/bin/env python3
"""Build the tokenizer parity fixtures from Hugging Face `tokenizers` (the reference).

Writes, next to the Swift tests:
  Tests/RiptideTokenizerTests/Fixtures/tokenizer-parity.jsonl  {"text": ..., "ids": [...]} per line
  Tests/RiptideTokenizerTests/Fixtures/tokenizer-decode.jsonl  {"ids": [...], "text": ...} per line,
      HF decode(skip_special_tokens=False) of arbitrary id runs, including invalid UTF-8 byte runs.

Deterministic (seeded). Usage, from the repository root:
  pip install tokenizers
  python3 tools/tokenizer/make_parity_fixture.py [--tokenizer PATH] [--count N] [--seed S]
"""
import argparse, json, os, random, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_TOKENIZER = os.path.join(ROOT, "Sources/RiptideTokenizer/Resources/tokenizer.json")
FIXTURES = os.path.join(ROOT, "Tests/RiptideTokenizerTests/Fixtures")

PROSE = """The quick brown fox jumps over the lazy dog. It's a truth universally acknowledged, that a
single man in possession of a good fortune, must be in want of a wife. I don't think we're in Kansas
anymore, Toto! "Well," she said, "that's that." Numbers like 3.14159, 1,000,000 and 2024-11-29 appear
often; so do e-mail addresses (alice@example.com) and URLs: https://www.example.org/path?q=1&r=2#frag.
Mr. O'Neill's well-known co-operative re-entered the U.S.A. market in Q3 -- a 12.5% rise. Hmm... really?
Yes!!! ALL CAPS, camelCase, snake_case, kebab-case, PascalCase and SCREAMING_SNAKE_CASE identifiers.""".split()

CODE = [
    'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
    'func encode(_ text: String) -> [Int] {\n\tvar ids: [Int] = []\n\tfor (i, c) in text.utf8.enumerated() where c != 0x20 { ids.append(Int(c) &+ i) }\n\treturn ids\n}\n',
    '#include <stdio.h>\nint main(int argc, char **argv) {\n  printf("%d args\\n", argc);\n  return argc > 1 ? 0 : -1; // done\n}\n',
    'const x = {a: 1, "b": [2, 3], c: null};\nconsole.log(`${x.a} -> ${JSON.stringify(x)}`);\nif (x?.b?.length >= 2 && !x.c) { x.c = () => 42; }\n',
    '<html><head><title>Test &amp; more</title></head>\r\n<body class="main"><p>Hello <b>world</b>!</p><br/></body></html>\r\n',
    '{"name": "riptide", "version": "0.1.0", "deps": {"swift-argument-parser": ">=1.5"}, "ok": true, "n": -1.5e-10}',
    'SELECT u.id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.created_at > \'2024-01-01\' GROUP BY u.id;',
    '    if let x = y { return x }   \n\n\n    else {\n        fatalError("unreachable")   \n    }\t\t\n',
    'fn main() { let v: Vec<u32> = (0..10).map(|x| x * x).collect(); println!("{:?}", v); }',
    '$ ls -la /usr/local/bin | grep -E "^-rwx" && echo "done" > /tmp/out.txt 2>&1',
]

SCRIPTS = {
    "zh": "我们今天去公园散步，天气非常好。人工智能正在改变世界！这是一个测试句子：包含标点符号、数字123和英文word。龍龜龘鬱𠀀𠮷丽",
    "ja": "こんにちは、世界！今日はいい天気ですね。カタカナとひらがなを混ぜて書きます。ﾊﾝｶｸｶﾀｶﾅもあります。ゔぁ〜ー・゛゜",
    "ko": "안녕하세요, 세계! 한국어 텍스트를 토큰화합니다. 자모 ㄱㄴㄷ 그리고 한자 韓國語.",
    "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю. Ёлка — это «дерево».",
    "ar": "مرحبا بالعالم! هذه جملة عربية للاختبار، مع أرقام ١٢٣٤٥ وتشكيل: كَتَبَ الْوَلَدُ الدَّرْسَ.",
    "he": "שלום עולם! זהו משפט בעברית עם ניקוד: בְּרֵאשִׁית.",
    "hi": "नमस्ते दुनिया! यह एक परीक्षण वाक्य है। क्षत्रिय ज्ञान १२३",
    "th": "สวัสดีชาวโลก นี่คือประโยคทดสอบภาษาไทย ๑๒๓",
    "el": "Γειά σου Κόσμε! Ελληνικά με τόνους: άέήίόύώ ΐΰ.",
    "mixed_marks": "e\u0301 a\u0300\u0301\u0302 Z\u0351\u0352\u0353a\u0354l\u0355g\u0356o \u0301start n\u0303o\u0308 1\u0301 .\u0301",
}

EMOJI = ["😀", "👍", "👍🏽", "👍🏿", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🇺🇸", "🇯🇵", "1️⃣", "#️⃣", "❤️", "☺", "🫠",
         "🧑🏻‍🤝‍🧑🏿", "🐈‍⬛", "✊🏾", "😶‍🌫️", "👁️‍🗨️", "🤷‍♀️"]

SPECIAL = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<think>",
           "</think>", "｜DSML｜", "<dsml:", "</dsml:", "<｜tool▁calls▁begin｜>", "<｜tool▁sep｜>", "<|EOT|>",
           "<｜fim▁hole｜>", "<｜▁pad▁｜>", "<|place_holder_mm_span_0021|>", "<｜place▁holder▁no▁7｜>",
           "<｜DSML｜tool_calls>", "</｜DSML｜invoke>", "<｜DSML｜parameter name=\"x\" string=\"true\">"]
NEAR_SPECIAL = ["<｜User", "<think", "think>", "<｜", "｜>", "<|", "<dsml", "</dsml", "｜DSML", "<<think>>",
                "<think></think>", "<｜User｜><｜User｜>", "<｜｜DSML｜｜>", "</think >", "< think>"]

SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\t\n", "\u00a0", "\u3000", "\u2028",
          "\u0085", "\u000b", "\u000c", "\u2009", "\u200b", "\ufeff", " \r\n ", "\n \n", "  \t  "]

NUMBERS = ["0", "7", "42", "123", "1234", "12345", "123456789012345678901234567890", "3.14159", "1,000,000",
           "٣٤٥", "１２３４", "²³", "Ⅻ", "½", "۱۲۳", "०१२", "1e-10", "0x1F", "v2.0.1", "abc123def", "2024年11月29日"]


def rand_unicode(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            c = rng.randrange(0x20, 0x250)
        elif r < 0.6:
            c = rng.randrange(0x250, 0x10000)
        elif r < 0.8:
            c = rng.randrange(0x10000, 0x30000)
        elif r < 0.9:
            c = rng.randrange(0, 0x110000)
        else:  # scripts added in recent Unicode versions, controls, specials
            c = rng.choice([0x1ACF, 0x10940, 0x11DB0, 0x1CEBA, 0x16FF4, 0x10ED0, 0x0, 0x1, 0x7F, 0x9F, 0xAD,
                            0x200D, 0xFE0F, 0xFFFD, 0xFFFE, 0xE000, 0x10FFFF, 0x1F3FB, 0x1D400, 0x2F800])
        if 0xD800 <= c <= 0xDFFF:
            c = 0xFFFD
        out.append(chr(c))
    return "".join(out)


def prose(rng, words):
    return " ".join(rng.choice(PROSE) for _ in range(words))


def piece(rng):
    kind = rng.randrange(12)
    if kind == 0: return prose(rng, rng.randint(1, 12))
    if kind == 1:
        c = rng.choice(CODE); a = rng.randrange(len(c)); return c[a:a + rng.randint(5, 120)]
    if kind == 2:
        s = SCRIPTS[rng.choice(list(SCRIPTS))]; a = rng.randrange(len(s)); return s[a:a + rng.randint(1, 40)]
    if kind == 3: return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind == 4: return rng.choice(SPECIAL)
    if kind == 5: return rng.choice(NEAR_SPECIAL)
    if kind == 6: return "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 4)))
    if kind == 7: return rng.choice(NUMBERS)
    if kind == 8: return rand_unicode(rng, rng.randint(1, 10))
    if kind == 9: return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(rng.randint(1, 12)))
    if kind == 10: return "".join(rng.choice("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \n\r\tab") for _ in range(rng.randint(1, 8)))
    return rng.choice(["\u0301", "\u0308\u0301", "a\u0301", " \u0301b", "\u20dd", "\u093f", "\u0e31"])


def build_texts(rng, count):
    texts = ["", " ", "\n", "\r\n", "a", "A", "\t\t", "   x", "x   ", "x   \n", "  \n  ", "<", ">", "｜"]
    texts += [chr(c) for c in range(0x20, 0x7F)]
    texts += list(SCRIPTS.values()) + CODE + EMOJI + SPECIAL + NEAR_SPECIAL + SPACES + NUMBERS
    texts += [" " * 50 + "x", "\n" * 20, "a" * 300, "ab" * 150, "我" * 120, "😀" * 30, "1" * 40,
              "".join(SCRIPTS["zh"] * 3), "Supercalifragilisticexpialidocious" * 5,
              "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=" * 2]
    while len(texts) < count:
        r = rng.random()
        if r < 0.15:    # plain prose paragraph
            t = prose(rng, rng.randint(3, 40))
            if rng.random() < 0.3: t += rng.choice(["", " ", "  ", "\n", " \n", "\r\n"])
        elif r < 0.25:  # chat-formatted turn
            t = (rng.choice(["", "<｜begin▁of▁sentence｜>"]) + "<｜User｜>" + prose(rng, rng.randint(2, 15))
                 + "<｜Assistant｜>" + rng.choice(["<think>", "</think>"]) + prose(rng, rng.randint(1, 10))
                 + rng.choice(["", "<｜end▁of▁sentence｜>"]))
        elif r < 0.3:   # DSML tool call
            t = ('<｜DSML｜invoke name="%s">\n<｜DSML｜parameter name="q" string="true">%s</｜DSML｜parameter>\n</｜DSML｜invoke>'
                 % (rng.choice(["search", "get_weather", "run"]), prose(rng, rng.randint(1, 6))))
        elif r < 0.4:   # random unicode soup
            t = rand_unicode(rng, rng.randint(1, 40))
        else:           # mixture of pieces
            t = "".join(piece(rng) for _ in range(rng.randint(1, 8)))
        texts.append(t)
    return texts[:count]


def decode_cases(rng, tok, n):
    """Random id runs: single-byte tokens (often invalid UTF-8 together), vocab and special tokens."""
    vocab = tok.get_vocab()
    byte_ids = []
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]; k = 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256 + k); k += 1
    byte_char = {b: chr(c) for b, c in zip(bs, cs)}
    byte_ids = [vocab[byte_char[b]] for b in range(256)]
    cases = []
    size = tok.get_vocab_size()
    for i in range(n):
        r = rng.random()
        if r < 0.5:
            ids = [rng.choice(byte_ids[0x80:]) if rng.random() < 0.7 else rng.choice(byte_ids) for _ in range(rng.randint(1, 8))]
        elif r < 0.8:
            ids = [rng.randrange(size) for _ in range(rng.randint(1, 12))]
        else:
            ids = tok.encode(rng.choice(EMOJI) + rng.choice(SCRIPTS["zh"])).ids
            ids = ids[rng.randrange(len(ids)):]  # start mid-character
        cases.append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=DEFAULT_TOKENIZER)
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=20251129)
    ap.add_argument("--out", default=FIXTURES)
    args = ap.parse_args()

    import tokenizers
    tok = tokenizers.Tokenizer.from_file(args.tokenizer)
    rng = random.Random(args.seed)
    texts = build_texts(rng, args.count)

    path = os.path.join(args.out, "tokenizer-parity.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            enc = tok.encode(t)  # add_special_tokens=True (the default)
            if enc.ids != tok.encode(t, add_special_tokens=False).ids:
                sys.exit("post-processor added tokens for %r; fixture assumes it adds none" % t)
            f.write(json.dumps({"text": t, "ids": enc.ids}) + "\n")
    dpath = os.path.join(args.out, "tokenizer-decode.jsonl")
    with open(dpath, "w", encoding="utf-8") as f:
        for c in decode_cases(rng, tok, 300):
            f.write(json.dumps(c) + "\n")
    print("tokenizers %s: wrote %d strings to %s (%d bytes) and %s"
          % (tokenizers.__version__, len(texts), path, os.path.getsize(path), dpath))


if __name__ == "__main__":
    main()
