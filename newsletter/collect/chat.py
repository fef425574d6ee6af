"""Chat completions from any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp,
OpenRouter), through the project's one HTTP client: its limits, timeouts and Retry-After
handling. The answer's bytes are parsed by a pure function; the key travels only in the
Authorization header and never into an error message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from ..config import LlmSettings
from ..errors import FetchError, ModelError, RateLimited
from .http import HttpClient

SOURCE_ID = "llm"


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # as the server names it (gpt-4o-mini-2024-07-18, llama3.1:8b, ...)


def parse_completion(content: bytes) -> Completion:
    """A non-streamed chat.completion body -> its first choice's text; ModelError otherwise."""
    try:
        document = json.loads(content)
        choice = document["choices"][0]
        text = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise ModelError(f"모델 서버의 답이 chat.completion 형식이 아닙니다 ({type(e).__name__})") from e
    if not isinstance(text, str) or not text.strip():
        raise ModelError("모델 서버가 빈 답을 보냈습니다 (finish_reason: "
                         f"{choice.get('finish_reason') if isinstance(choice, dict) else '?'})")
    return Completion(text=text.strip(), model=str(document.get("model") or ""))


def _korean_reason(error: FetchError, settings: LlmSettings) -> str:
    """What the curator is told; the technical detail after it, never the key."""
    if error.status == 401:
        return "모델 서버가 키를 받지 않았습니다 (401): NEWSLETTER_LLM_API_KEY를 확인하세요"
    if error.status == 403:
        return "모델 서버가 이 요청을 거절했습니다 (403): 키의 권한을 확인하세요"
    if error.status == 404:
        return f"모델 서버에 '{settings.model}' 모델이나 주소가 없습니다 (404): llm.model과 llm.base_url을 확인하세요"
    if isinstance(error, RateLimited) or error.status == 429:
        return "모델 서버가 요청이 너무 많다고 합니다 (429): 잠시 뒤에 다시 시도하세요"
    if error.status:
        return f"모델 서버 오류 ({error.status})"
    return f"모델 서버에 닿지 못했습니다: {error.message}"


async def complete(http: HttpClient, settings: LlmSettings, api_key: str,
                   messages: Sequence[Message]) -> Completion:
    """One chat completion (not streamed). ModelError, in Korean first, on any failure."""
    if not settings.enabled:
        raise ModelError("모델이 설정되지 않았습니다: sources.yaml의 llm.base_url과 llm.model을 채우세요")
    url = settings.base_url.rstrip("/") + "/chat/completions"
    if not api_key.isascii() or any(ch.isspace() for ch in api_key):
        raise ModelError("NEWSLETTER_LLM_API_KEY에 키에 쓸 수 없는 글자(한글, 공백 등)가 있습니다: 키를 다시 복사해 넣으세요")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    body = {"model": settings.model, "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": settings.max_tokens, "temperature": 0.4, "stream": False}
    try:
        response = await http.post_json(url, body, source_id=SOURCE_ID, headers=headers, timeout=settings.timeout)
    except FetchError as e:
        # The server's own words can echo the key (OpenAI's 401 does, masked): keep them out.
        detail = f"HTTP {e.status}" if e.status else "no answer"
        raise ModelError(_korean_reason(e, settings), detail=detail, status=e.status) from None
    return parse_completion(response.content)
