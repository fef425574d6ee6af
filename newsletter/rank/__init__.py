"""The curator's taste: pure scoring of candidates from past decisions, with readable reasons.
No I/O, nothing from the rest of the package: (history, candidates, today) -> ranked.

    ranker.py   rank(history, candidates, today) -> [Scored(id, score, reasons)], best first
    records.py  the benchmark's JSON records (arXiv metadata) as Docs and Examples
    similar.py  most_similar(target, pool, k): the past items most like one (drafts, tags)
"""

from .ranker import Doc, Example, Label, Scored, rank
from .records import doc_of, example_of, rank_records
from .similar import most_similar

__all__ = ["Doc", "Example", "Label", "Scored", "doc_of", "example_of", "most_similar", "rank", "rank_records"]
