"""rank: the queue's ranker on real daily arXiv listings against one curator's picks.

Follows the data set's README.md rules exactly: evaluated days are listing days with at least
one positive; the positives of day D are the picks listed on D; the history for D holds the
picks with `day` < D, and those never listed whose `note_date` <= D - 2. Macro means over
evaluated days. The baseline, arxiv-sanity-lite's recommender, is measured in the same run on
the same days. `--serve` answers ranking requests on stdin with the very same code.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import statistics
import sys
import time
from pathlib import Path

from .common import log

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "ranking" / "dev"


def _read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load(data: Path) -> tuple[dict[dt.date, list[dict]], list[dict]]:
    days = {}
    for path in sorted((data / "days").iterdir()):
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            days[dt.date.fromisoformat(path.name[:10])] = _read_jsonl(path)
    return days, _read_jsonl(data / "picks.jsonl")


def history_for(day: dt.date, picks: list[dict]) -> list[dict]:
    """The picks a ranker for `day` may see (the README's rule)."""
    cutoff = (day - dt.timedelta(days=2)).isoformat()
    listed_before, today = [], day.isoformat()
    for pick in picks:
        if (pick.get("day") and pick["day"] < today) or (not pick.get("day") and pick["note_date"] <= cutoff):
            listed_before.append(pick)
    return listed_before


def day_metrics(ranked_ids: list[str], positives: set[str]) -> dict:
    ranks = [i + 1 for i, pid in enumerate(ranked_ids) if pid in positives]
    dcg = sum(1.0 / math.log2(r + 1) for r in ranks if r <= 50)
    idcg = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(positives), 50) + 1))
    return {"hits20": sum(r <= 20 for r in ranks), "positives": len(positives),
            "recall_at_20": sum(r <= 20 for r in ranks) / len(positives),
            "recall_at_50": sum(r <= 50 for r in ranks) / len(positives),
            "ndcg_at_50": dcg / idcg, "first_hit_rank": min(ranks)}


def asl_svm_rank(history: list[dict], candidates: list[dict]) -> list[str]:
    """arxiv-sanity-lite: compute.py's TF-IDF (title + abstract + authors), serve.py's SVM."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    def text(record: dict) -> str:
        return " ".join([record.get("title") or "", record.get("abstract") or "", " ".join(record.get("authors") or [])])

    corpus = [text(r) for r in history] + [text(r) for r in candidates]
    vectorizer = TfidfVectorizer(input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
                                 lowercase=True, analyzer="word", stop_words="english",
                                 token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                                 max_features=10000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
                                 max_df=0.5, min_df=5)
    x = vectorizer.fit_transform(corpus).astype(np.float32)
    y = np.r_[np.ones(len(history)), np.zeros(len(candidates))]
    classifier = LinearSVC(class_weight="balanced", C=0.1, max_iter=10000, tol=1e-6)
    classifier.fit(x, y)
    scores = classifier.decision_function(x[len(history):])
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i]["id"]))
    return [candidates[i]["id"] for i in order]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def bench_rank(data: Path | None = None) -> dict:
    from newsletter.rank import rank_records

    data = data or DEFAULT_DATA
    if not (data / "days").is_dir() or not (data / "picks.jsonl").is_file():
        # The data set sits beside the checkout in the team's workspace; elsewhere, name it.
        raise SystemExit(f"rank: no data set at {data} (days/ and picks.jsonl); pass --data DIR")
    days, picks = load(data)
    pick_ids = {pick["id"] for pick in picks}
    per_day, baseline, times = [], [], []
    for day, candidates in sorted(days.items()):
        positives = {record["id"] for record in candidates} & pick_ids
        if not positives:
            continue
        history = history_for(day, picks)
        started = time.perf_counter()
        ranked = rank_records(day.isoformat(), history, candidates)
        times.append((time.perf_counter() - started) * 1000)
        assert sorted(ranked) == sorted({r["id"] for r in candidates}), "every candidate once"
        per_day.append(day_metrics(ranked, positives))
        baseline.append(day_metrics(asl_svm_rank(history, candidates), positives)["recall_at_20"])
        log(f"rank {day}: {len(candidates)} candidates, R@20 {per_day[-1]['recall_at_20']:.2f} "
            f"(baseline {baseline[-1]:.2f}), {times[-1]:.0f} ms")

    def mean(key: str) -> float:
        return round(statistics.fmean(m[key] for m in per_day), 4)

    last_day = max(days)
    rescore_s = bench_rescore(history_for(last_day, picks), (days[last_day] * 3)[:600], last_day)
    huge = [{**record, "id": f"{record['id']}-{n}"} for n in range(12) for record in days[last_day]][:3000]
    started = time.perf_counter()
    rank_records(last_day.isoformat(), history_for(last_day, picks), huge)
    huge_s = time.perf_counter() - started
    log(f"rank: rescore of a 600-paper queue {rescore_s:.2f} s, a 3,000-candidate day {huge_s:.2f} s")
    return {
        "recall_at_20": mean("recall_at_20"), "recall_at_50": mean("recall_at_50"),
        "ndcg_at_50": mean("ndcg_at_50"), "first_hit_rank_mean": mean("first_hit_rank"),
        "micro_recall_at_20": round(sum(m["hits20"] for m in per_day) / sum(m["positives"] for m in per_day), 4),
        "days": len(per_day), "positives": sum(m["positives"] for m in per_day),
        "baseline_asl_svm_recall_at_20": round(statistics.fmean(baseline), 4),
        "ms_per_day_median": round(statistics.median(times), 1), "rescore_600_s": round(rescore_s, 2),
        "huge_day_3000_s": round(huge_s, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def bench_rescore(history: list[dict], candidates: list[dict], day: dt.date) -> float:
    """Seconds of the step that ends a collect (flows.rank.rescore through the App) on a store
    holding the whole history as imported picks and a 600-paper day waiting."""
    import tempfile
    from dataclasses import replace
    from datetime import datetime, timezone

    from newsletter.model import Entry, ItemKind
    from newsletter.store import ranking, transaction
    from newsletter.store.items import upsert_entries

    from .common import make_app

    def entry(record: dict) -> Entry:
        return Entry(key=f"arxiv:{record['id']}", kind=ItemKind.PAPER, url=f"https://arxiv.org/abs/{record['id']}",
                     title=record.get("title") or "", summary_text=record.get("abstract") or "",
                     authors=tuple(record.get("authors") or ()), categories=tuple(record.get("categories") or ()),
                     published=datetime(day.year, day.month, day.day, tzinfo=timezone.utc))

    now = datetime(day.year, day.month, day.day, 1, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), [{"id": "arxiv-ai", "kind": "arxiv", "categories": ["cs.CL"],
                                    "url": "https://rss.arxiv.org/rss/"}])
        app.clock = lambda: now
        try:
            waiting = [replace(entry(record), key=f"arxiv:{record['id']}.{n}") for n, record in enumerate(candidates)]
            picked = [entry(record) for record in history]
            with transaction(app.conn):
                upsert_entries(app.conn, ranking.HISTORY_SOURCE, picked, now)
                ranking.mark_imported(app.conn, [
                    (e.key, datetime.fromisoformat(record.get("day") or record["note_date"]).replace(tzinfo=timezone.utc))
                    for e, record in zip(picked, history)])
                upsert_entries(app.conn, "arxiv-ai", waiting, now)
            started = time.perf_counter()
            report = app.rescore()
            assert report.scored == len(waiting), report
            return time.perf_counter() - started
        finally:
            app.close()


def serve(stdin=None, stdout=None) -> None:
    """One JSON request a line ({"day", "history", "candidates"}), one {"day", "ranked"} line
    back, flushed, until stdin closes. A bad line gets {"error": ...} and the loop goes on."""
    from newsletter.rank import rank_records

    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("a request must be a JSON object")
            ranked = rank_records(request.get("day"), request.get("history", []), request.get("candidates"))
            answer = {"day": request["day"], "ranked": ranked}
        except (ValueError, TypeError, KeyError, RecursionError) as e:
            answer = {"error": f"{type(e).__name__}: {e}"}
        stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        stdout.flush()
