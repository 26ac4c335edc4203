#!/usr/bin/env python3
"""Dump which code points HF `tokenizers` (Oniguruma) puts in \\s, \\p{L}, \\p{M}, \\p{N}, \\p{P}, \\p{S}.

Used once to check Sources/RiptideTokenizer/ScalarClass.swift: Swift's generalCategory and
isWhitespace agree on every scalar except those new in Unicode 17.0, which Oniguruma (Unicode 16.0
tables in tokenizers 0.23.3) treats as unassigned. Output: one line per class, "NAME hex hex ...".
Usage: python3 tools/tokenizer/onig_classes.py > /tmp/onig-classes.txt
"""
from tokenizers import pre_tokenizers, Regex

cps = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
text = "".join(map(chr, cps))
for name, pattern in [("s", r"\s"), ("L", r"\p{L}"), ("M", r"\p{M}"), ("N", r"\p{N}"), ("P", r"\p{P}"), ("S", r"\p{S}")]:
    kept = set()  # characters left over after removing every match
    for _, (a, b) in pre_tokenizers.Split(Regex(pattern), "removed").pre_tokenize_str(text):
        kept.update(range(a, b))
    print(name, " ".join("%x" % cps[i] for i in range(len(cps)) if i not in kept))
