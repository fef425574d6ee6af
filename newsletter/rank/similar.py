"""Which past items are most like this one: TF-IDF cosine over title and abstract (the
ranker's text features), for the draft prompt's examples and the learned tag suggestions."""

from __future__ import annotations

from typing import Sequence

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from .ranker import Doc


def most_similar(target: Doc, pool: Sequence[Doc], k: int) -> list[tuple[str, float]]:
    """Up to k (id, cosine) of `pool`, most similar first (ties by id); none below zero."""
    pool = [doc for doc in pool if doc.id != target.id]
    if not pool or k <= 0:
        return []
    texts = [f"{doc.title} {doc.abstract}" for doc in [target, *pool]]
    try:
        matrix = TfidfVectorizer(strip_accents="unicode", sublinear_tf=True, ngram_range=(1, 2),
                                 stop_words="english").fit_transform(texts)
    except ValueError:  # no word in any text (empty titles, Hangul-only snippets without spaces)
        return []
    scores = linear_kernel(matrix[0:1], matrix[1:]).ravel()
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool[i].id))
    return [(pool[i].id, float(scores[i])) for i in order[:k] if scores[i] > 0]
