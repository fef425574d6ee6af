"""The curator's taste: pure scoring of candidates from past decisions, with readable reasons.
No I/O, nothing from the rest of the package: (history, candidates, today) -> ranked.

    ranker.py   rank(history, candidates, today) -> [Scored(id, score, reasons)], best first
    records.py  the benchmark's JSON records (arXiv metadata) as Docs and Examples
"""

from .ranker import Doc, Example, Label, Scored, rank
from .records import doc_of, example_of, rank_records

__all__ = ["Doc", "Example", "Label", "Scored", "doc_of", "example_of", "rank", "rank_records"]
