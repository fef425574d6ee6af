"""The archive's search index: sharded, so a query downloads a few small files, not the archive.

What the search finds is what a substring search over every item's title, commentary and
tags finds (NFKC, lower case; several words: all of them): "모델" finds "모델을" and
"언어모델", "former" finds "Transformers". A query word holds no white space, so it is a
substring of a field exactly when it is a substring of one of the field's white-space
separated tokens; the index is therefore over tokens, and exact:

  - a token of two or more characters is filed under each pair of neighbouring characters it
    holds ("모델을" under "모델" and "델을"), in the bucket that pair hashes to, with its
    postings (which items, in which fields). A query word looks in the bucket of its first
    pair and keeps the tokens that contain it;
  - a single character is filed (in the bucket it hashes to) with the items that hold it
    anywhere: the answer to a one-character query word, whatever tokens it sits in.

Issues come in blocks of paths.SEARCH_PART_ISSUES by number, each with its own buckets, so a
new issue changes only its block. A full block is spread over SEALED_BUCKETS files (a query
reads one of them per word); the newest, still filling, over OPEN_BUCKETS, so sending an issue
rewrites at most that many index files. What a result shows (title, commentary for the
snippet, tags, the issue) lives apart, one file per issue, read only for the results shown.

Files, every one a script calling window.ARCHIVE_SEARCH_LOADED(name, data) (see search.js):

    search/data.js            window.ARCHIVE_SEARCH = {"blocks": [{"dir", "v", "buckets",
                              "issues": [[date, number, items], ...]}]}; a block's items are
                              counted through its issues, oldest first, in the email's order
    search/bNNNN/XXX.js       one bucket: [{token: postings}, {character: postings}]
    search/docs/DATE-N.js     items (N-1)*DOC_ITEMS + 1 ... of an issue: {"link", "number",
                              "date", "preview", "items": [[id, title, commentary, tags], ...]}

A posting list is the item numbers in the block, ascending, each written as (gap from the
previous number) * 8 + fields, fields being 1 title, 2 commentary, 4 tags; or, where that is
shorter, a bitmap string (see _bitmap).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

from . import paths

SEALED_BUCKETS = 256
OPEN_BUCKETS = 32
DOC_ITEMS = 5  # items per file of what results show: a page of results spread over many issues stays small
TITLE, TEXT, TAGS = 1, 2, 4
FIELD_BITS = 3

# What JavaScript's \s matches (search.js splits the query with it), so both sides cut alike.
_SPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


def normalised(text: str) -> str:
    """As search.js normalises a query: NFKC, then lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    return [token for token in _SPACE.split(normalised(text)) if token]


def bucket_of(key: str, buckets: int) -> int:
    """FNV-1a over the code points of `key`; search.js computes the same."""
    value = _FNV_OFFSET
    for character in key:
        value = ((value ^ ord(character)) * _FNV_PRIME) & 0xFFFFFFFF
    return value % buckets


def pairs(token: str) -> set[str]:
    return {token[i:i + 2] for i in range(len(token) - 1)}


@dataclass(frozen=True)
class SearchItem:
    id: int
    title: str
    text: str  # the commentary as plain text
    tags: str  # space separated


@dataclass(frozen=True)
class SearchIssue:
    link: str  # from the search page
    number: int
    date: str  # ISO, names its file
    date_label: str
    preview: bool
    fingerprint: str  # of everything it is made from
    count: int  # of items
    make_items: Callable[[], Sequence[SearchItem]]  # called only when a file of it is rendered

    @cached_property
    def items(self) -> tuple[SearchItem, ...]:
        return tuple(self.make_items())


def encode_postings(postings: dict[int, int]) -> list[int] | str:
    """The gaps list, or, where shorter (a word in most items of a block: "모델"), a bitmap."""
    encoded, previous = [], 0
    for number in sorted(postings):
        encoded.append(((number - previous) << FIELD_BITS) | postings[number])
        previous = number
    bitmap = _bitmap(postings)
    return bitmap if len(bitmap) + 2 < len(json.dumps(encoded, separators=(",", ":"))) else encoded


def _bitmap(postings: dict[int, int]) -> str:
    """The same fields in every item: those fields as a digit, then one bit an item; else "0",
    then FIELD_BITS an item. Bits little-endian, in base64."""
    kinds = set(postings.values())
    width, lead = (1, kinds.pop()) if len(kinds) == 1 else (FIELD_BITS, 0)
    bits = sum((fields if width > 1 else 1) << (number * width) for number, fields in postings.items())
    return f"{lead}{base64.b64encode(bits.to_bytes((bits.bit_length() + 7) // 8, 'little')).decode('ascii')}"


def decode_postings(encoded: Sequence[int] | str) -> dict[int, int]:
    decoded, number = {}, 0
    if isinstance(encoded, str):
        lead = int(encoded[0])
        width = 1 if lead else FIELD_BITS
        bits = int.from_bytes(base64.b64decode(encoded[1:]), "little")
        while bits:
            if fields := bits & ((1 << width) - 1):
                decoded[number] = lead or fields
            bits >>= width
            number += 1
        return decoded
    for value in encoded:
        number += value >> FIELD_BITS
        decoded[number] = value & ((1 << FIELD_BITS) - 1)
    return decoded


def block_buckets(items: Sequence[SearchItem], buckets: int) -> dict[int, tuple[dict, dict]]:
    """{bucket: ({token: postings}, {character: postings})} of the items of one block,
    numbered as given; buckets nothing hashes to are left out."""
    by_token: dict[str, dict[int, int]] = {}
    by_character: dict[str, dict[int, int]] = {}
    for number, item in enumerate(items):
        for field, text in ((TITLE, item.title), (TEXT, item.text), (TAGS, item.tags)):
            words = set(tokens(text))
            for key, into in ((words, by_token), (set("".join(words)), by_character)):
                for token in key:
                    if into is by_character or len(token) > 1:
                        seen = into.setdefault(token, {})
                        seen[number] = seen.get(number, 0) | field
    filed: dict[int, tuple[dict, dict]] = {}
    for token in sorted(by_token):
        encoded = encode_postings(by_token[token])
        for bucket in sorted({bucket_of(pair, buckets) for pair in pairs(token)}):
            filed.setdefault(bucket, ({}, {}))[0][token] = encoded
    for character in sorted(by_character):
        filed.setdefault(bucket_of(character, buckets), ({}, {}))[1][character] = encode_postings(
            by_character[character])
    return filed


def lookup(bucket: tuple[dict, dict], word: str) -> dict[int, int]:
    """{item number: fields} of the items of a block holding `word` (normalised), from the
    bucket its first pair (or its one character) hashes to: what search.js does."""
    if len(word) == 1:
        return decode_postings(bucket[1].get(word, ()))
    found: dict[int, int] = {}
    for token, encoded in bucket[0].items():
        if word in token:
            for number, fields in decode_postings(encoded).items():
                found[number] = found.get(number, 0) | fields
    return found


def key_of(word: str) -> str:
    return word if len(word) == 1 else word[:2]


def script(name: str, data: object) -> bytes:
    document = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    document = document.replace("</", "<\\/")  # could close a <script> if someone ever inlined it
    return f"window.ARCHIVE_SEARCH_LOADED({json.dumps(name)},{document});\n".encode("utf-8")


# An index file of the site: (path, fingerprint of what it is made from or None, render).
Planned = tuple[str, "str | None", Callable[[], bytes]]


class SearchIndex:
    """The index files of a set of issues; `digest` fingerprints what a file is made of."""

    def __init__(self, issues: Sequence[SearchIssue], generator: str, digest: Callable[..., str]):
        self.generator, self.digest = generator, digest
        blocks: dict[int, list[SearchIssue]] = {}
        for issue in sorted(issues, key=lambda i: (i.number, i.date)):
            blocks.setdefault((issue.number - 1) // paths.SEARCH_PART_ISSUES, []).append(issue)
        self.blocks = blocks
        self._buckets: dict[int, dict[int, tuple[dict, dict]]] = {}  # worked out at the first bucket rendered

    @staticmethod
    def bucket_count(block: Sequence[SearchIssue]) -> int:
        return SEALED_BUCKETS if len(block) >= paths.SEARCH_PART_ISSUES else OPEN_BUCKETS

    @cached_property
    def block_inputs(self) -> dict[int, str]:
        return {number: self.digest(self.generator, self.bucket_count(block), [i.fingerprint for i in block])
                for number, block in self.blocks.items()}

    def planned(self) -> list[Planned]:
        files: list[Planned] = [(paths.SEARCH_DATA, None, self.data)]
        for number, block in self.blocks.items():
            for bucket in range(self.bucket_count(block)):
                files.append((paths.search_bucket_path(number, bucket), self.block_inputs[number],
                              lambda number=number, bucket=bucket: self.bucket(number, bucket)))
            for issue in block:
                inputs = self.digest(self.generator, issue.fingerprint)
                for chunk in range(max(1, -(-issue.count // DOC_ITEMS))):
                    files.append((paths.search_doc_path(issue.date, chunk), inputs,
                                  lambda issue=issue, chunk=chunk: self.doc(issue, chunk)))
        return files

    def bucket(self, number: int, bucket: int) -> bytes:
        block = self.blocks[number]
        if number not in self._buckets:
            items = [item for issue in block for item in issue.items]
            self._buckets[number] = block_buckets(items, self.bucket_count(block))
        name = paths.search_bucket_path(number, bucket).removeprefix("search/").removesuffix(".js")
        return script(name, self._buckets[number].get(bucket, ({}, {})))

    def data(self) -> bytes:
        blocks = [{"dir": paths.search_block_dir(number), "v": self.block_inputs[number][:10],
                   "buckets": self.bucket_count(block),
                   "issues": [[issue.date, issue.number, issue.count] for issue in block]}
                  for number, block in self.blocks.items()]
        document = json.dumps({"blocks": blocks}, ensure_ascii=False, separators=(",", ":"))
        return f"window.ARCHIVE_SEARCH={document};\n".encode("utf-8")

    @staticmethod
    def doc(issue: SearchIssue, chunk: int) -> bytes:
        items = issue.items[chunk * DOC_ITEMS:(chunk + 1) * DOC_ITEMS]
        return script(paths.search_doc_path(issue.date, chunk).removeprefix("search/").removesuffix(".js"), {
            "link": issue.link, "number": issue.number, "date": issue.date_label, "preview": int(issue.preview),
            "items": [[item.id, item.title, item.text, item.tags] for item in items]})
