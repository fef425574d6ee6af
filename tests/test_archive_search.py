"""The archive's sharded search index (newsletter/archive/search.py), as pure functions: looked
up as static/search.js looks it up, it finds exactly what a substring search over the titles,
commentary and tags finds. Chromium runs the real script in test_archive_browser.py."""

from __future__ import annotations

import itertools

import pytest

from newsletter.archive import search
from newsletter.archive.search import TAGS, TEXT, TITLE, SearchItem

ITEMS = [
    SearchItem(1, "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies",
               "연산량에 따라 최적의 어휘 크기가 달라진다는 스케일링 법칙. 다국어 모델을 다루는 팀이라면", "scaling-law 토크나이저"),
    SearchItem(2, "Transformers without Tokenizers", "토크나이저 없이 바이트를 바로 읽는 언어모델입니다.", "바이트"),
    SearchItem(3, "GPT-4o mini", "작지만 빠른 모델의 추론 비용을 크게 낮췄습니다 🚀", "openai x"),
    SearchItem(4, "ＦＵＬＬＷＩＤＴＨ Ｍｏｄｅｌ", "전각 글자도\u3000찾는다\u00a0모델", "에이전트"),
    SearchItem(5, "", "", ""),
    SearchItem(6, "Weak-to-Strong Reasoning", "약한 감독자로 강한 모델의 추론을 끌어내는 방법", "추론 weak-to-strong"),
]


def naive(items, word: str) -> dict[int, int]:
    """What the search used to do: the word as a substring of each normalised field."""
    found = {}
    for number, item in enumerate(items):
        fields = sum(bit for bit, text in ((TITLE, item.title), (TEXT, item.text), (TAGS, item.tags))
                     if word in search.normalised(text))
        if fields:
            found[number] = fields
    return found


def looked_up(items, word: str, buckets: int) -> dict[int, int]:
    filed = search.block_buckets(items, buckets)
    return search.lookup(filed.get(search.bucket_of(search.key_of(word), buckets), ({}, {})), word)


@pytest.mark.parametrize("word, expected", [
    ("모델", {0: TEXT, 1: TEXT, 2: TEXT, 3: TEXT, 5: TEXT}),  # "모델을", "모델의", "언어모델입니다."
    ("언어모델", {1: TEXT}),  # inside a word: "언어모델입니다."
    ("모델입니다", {1: TEXT}),
    ("former", {1: TITLE}),  # "Transformers", any case
    ("model", {0: TITLE, 3: TITLE}),  # "Models", and full-width "Ｍｏｄｅｌ" (NFKC)
    ("토크나이저", {0: TAGS, 1: TEXT}),
    ("tokenizer", {1: TITLE}),
    ("x", {2: TAGS}),  # one character: a tag of its own
    ("v", {0: TITLE}),  # one character, inside words
    ("법", {0: TEXT, 5: TEXT}),
    ("🚀", {2: TEXT}),  # outside the BMP: one code point
    ("찾는다", {3: TEXT}),  # after an ideographic space
    ("-to-", {5: TITLE | TAGS}),
    ("양자컴퓨터", {}),
])
def test_a_word_is_found_as_a_substring_wherever_it_is(word, expected):
    assert naive(ITEMS, word) == expected  # the old search's answer...
    for buckets in (1, 7, 32, 256):
        assert looked_up(ITEMS, word, buckets) == expected, buckets  # ...is the index's


def test_every_substring_of_every_token_is_found_exactly_as_a_substring_search_finds_it():
    words = {token[start:end] for item in ITEMS for text in (item.title, item.text, item.tags)
             for token in search.tokens(text) for start, end in itertools.combinations(range(len(token) + 1), 2)}
    assert len(words) > 700
    for word in words:
        assert looked_up(ITEMS, word, 32) == naive(ITEMS, word), word


def test_postings_keep_item_order_and_fields_in_small_numbers():
    postings = {0: TITLE, 3: TEXT | TAGS, 900: TEXT}
    encoded = search.encode_postings(postings)
    assert encoded == [TITLE, (3 << 3) | TEXT | TAGS, (897 << 3) | TEXT]
    assert search.decode_postings(encoded) == postings


@pytest.mark.parametrize("postings, lead, most", [
    ({n: TEXT for n in range(1000) if n % 6}, "2", 170),  # "모델" in most commentary: a bit an item
    ({n: (TEXT if n % 3 else TITLE | TEXT) for n in range(1000)}, "0", 510),  # fields differ: 3 bits an item
    ({n: TAGS for n in range(0, 999, 2)}, "4", 170),
])
def test_a_word_in_most_items_of_a_block_is_a_bitmap(postings, lead, most):
    encoded = search.encode_postings(postings)
    assert isinstance(encoded, str) and encoded[0] == lead and len(encoded) <= most
    assert search.decode_postings(encoded) == postings


def test_a_token_is_filed_under_each_of_its_pairs_and_a_character_alone():
    filed = search.block_buckets([SearchItem(1, "", "모델을", "")], 1)
    assert filed == {0: ({"모델을": [TEXT]}, {"모": [TEXT], "델": [TEXT], "을": [TEXT]})}
    filed = search.block_buckets([SearchItem(1, "", "모델을", "")], 4096)
    holding = {bucket for bucket, (tokens, _) in filed.items() if "모델을" in tokens}
    assert holding == {search.bucket_of("모델", 4096), search.bucket_of("델을", 4096)}


def test_the_bucket_hash_is_fnv1a_over_code_points_as_the_script_computes_it():
    # the same numbers search.js's bucketOf gives (Math.imul, >>> 0), taken from node
    assert search.bucket_of("", 1 << 32) == 0x811C9DC5
    assert search.bucket_of("a", 1 << 32) == 0xE40C292C
    # Hangul and a character past the BMP (code points, not UTF-16 halves), as node computes them
    assert search.bucket_of("모델", 1 << 32) == 890769725 and search.bucket_of("모델", 256) == 61
    assert search.bucket_of("🚀a", 32) == 26 and search.bucket_of("la", 256) == 222
    assert search.key_of("모델을") == "모델" and search.key_of("x") == "x" and search.key_of("🚀a") == "🚀a"


def test_query_words_split_on_what_javascript_calls_white_space():
    assert search.tokens("a\u00a0b\u3000c\ufeffd\u2028e f\tg") == list("abcdefg")
    assert search.tokens("ＡＢ  Ｃ") == ["ab", "c"]  # NFKC, lower case
