"""What every benchmark shares: paths, the app on a temporary database, the Korean sample text."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
BENCH = ROOT / "scripts" / "bench.py"  # workers run as `bench.py _name ...` in fresh processes

from newsletter.app import build_app  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
FEED = FIXTURES / "feeds" / "community-mistral-news.turing-ai-rss-feeds.rss.xml"
LISTING = FIXTURES / "arxiv" / "arxiv-listing-cs.CL-2024-07-19.rss.xml"
RSS = "application/rss+xml; charset=utf-8"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_app(directory: Path, sources: list[dict], **collect):
    config = directory / "sources.yaml"
    config.write_text(yaml.safe_dump({"collect": collect, "sources": sources}), encoding="utf-8")
    return build_app(directory / "bench.db", config, environ={})



def own_peak_rss_mb() -> float:
    """Peak RSS of this process's own memory. ru_maxrss would not do: Linux carries it over
    exec from the parent it was forked from, so a child reports at least the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024



KOREAN_COMMENTARY = (
    "연산량에 따라 최적의 어휘 크기를 예측하는 **스케일링 법칙**을 제안합니다.",
    "투입하는 연산량이 커질수록 모델 크기뿐 아니라 데이터와 토크나이저도 함께 키워야 한다는 결론이 흥미롭습니다.",
    "실험 규모가 크지 않다는 한계는 있지만, 실무에서 바로 참고할 만한 수치를 제시합니다.",
    "에이전트 평가에서 *재현성*이 얼마나 흔들리는지 보여 주는 사례라 눈여겨볼 만합니다.",
    "자세한 내용은 [원문](https://arxiv.org/abs/2407.13623)과 부록의 추가 실험을 함께 보시길 권합니다.",
    "한국어 데이터에 대한 언급은 없지만, 다국어 모델을 다루는 팀이라면 `tokenizer` 설정부터 다시 점검해 볼 일입니다.",
)


def korean_commentary(index: int) -> str:
    """Two or three sentences of curator commentary, different for each item."""
    count = 2 + index % 2
    return " ".join(KOREAN_COMMENTARY[(index + k) % len(KOREAN_COMMENTARY)] for k in range(count))

