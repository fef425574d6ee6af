#!/usr/bin/env python3
"""Benchmarks: `scripts/bench.py NAME` prints {"NAME": {figure: number, ...}} on stdout.

    collect   50 loopback feeds answering after 300 ms, concurrent vs one at a time (same run);
              bytes of a second, unchanged run over the first; a 2000-entry arXiv listing
              parsed and stored, time and peak RSS (in a fresh process).
    render    the email of a 40-item issue (papers, lab posts, X posts, Korean commentary):
              median milliseconds per render; HTML kilobytes of the 30-item issue.
    queue     the editor on 5,000 waiting items, in-process: median ms of the queue page and of
              approve (20+ requests each), plus a later page and a 2-syllable Hangul search.
    send      messages per second of a send to 10,000 subscribers (aiosmtpd sink in its own process,
              4 connections) against the sink's ceiling (plain smtplib, one connection, pre-built
              messages), same run; peak RSS preparing and sending to 100,000 (fresh process).
    archive   the static archive of 500 sent issues of 20 items (Korean commentary, ~200 tags):
              seconds of a full build into an empty directory, and of the rebuild after one
              more issue is sent (only changed files rewritten); then grown to 1,000 issues, the
              kilobytes a search downloads (page, script, index files), the largest and the
              median of ten Korean and English queries, against the old one-piece index.
    rank      the queue's ranker on real daily arXiv listings (--data DIR, default
              ../shared/fixtures/ranking/dev) against one curator's picks: recall@20/50, nDCG@50,
              first hit, with arxiv-sanity-lite's SVM measured in the same run; ms per day, peak RSS.
              `rank --serve`: one JSON request a line on stdin, one {"day", "ranked"} line back.
"""


from __future__ import annotations

import json
from pathlib import Path

import click
from benchmarks.archive import bench_archive
from benchmarks.collect import (
    arxiv_worker,
    bench_arxiv,
    bench_concurrency,
    bench_second_run,
)
from benchmarks.queue import bench_queue
from benchmarks.rank import bench_rank
from benchmarks.rank import serve as rank_serve
from benchmarks.render import bench_render
from benchmarks.send import bench_send, send_worker, smtp_sink


@click.command()
@click.argument("name", type=click.Choice(["collect", "render", "queue", "_arxiv-worker",
                                                 "send", "_send-worker", "_smtp-sink", "archive", "rank"]))
@click.argument("entries", required=False, type=int, default=2000)
@click.argument("port", required=False, type=int, default=0)  # send: the sink's port
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="rank: the data set (days/, picks.jsonl); default ../shared/fixtures/ranking/dev.")
@click.option("--serve", is_flag=True, help="rank: answer JSON ranking requests on stdin, one a line.")
def main(name: str, entries: int, port: int, data: Path | None, serve: bool) -> None:
    """Run one benchmark and print its JSON figures on stdout."""
    if name == "rank" and serve:
        rank_serve()
        return
    if name == "_send-worker":  # send: the sending process (ENTRIES subscribers, the sink on PORT)
        send_worker(entries, port)
        return
    if name == "_smtp-sink":  # send: the sink process (listening on port ENTRIES)
        smtp_sink(entries)
        return
    if name == "_arxiv-worker":
        arxiv_worker(entries)
        return
    if name == "render":
        figures = bench_render()
    elif name == "queue":
        figures = bench_queue()
    elif name == "send":
        figures = bench_send()
    elif name == "archive":
        figures = bench_archive()
    elif name == "rank":
        figures = bench_rank(data)
    else:
        figures = {**bench_concurrency(), **bench_second_run(), **bench_arxiv()}
    print(json.dumps({name: figures}, indent=2))


if __name__ == "__main__":
    main()
