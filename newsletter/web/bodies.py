"""Request bodies, checked before anything is saved: JSON by type (a wrong shape is an
InputError naming the field, a 400, never a TypeError deep in a flow, a 500) and forms whole
(a multipart body cut short parses "fine", minus the fields after the cut)."""

from __future__ import annotations

import json
import re

from starlette.datastructures import FormData
from starlette.requests import Request

from ..errors import InputError
from .params import MAX_ID


async def json_body(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: [[[[... nested
        raise InputError(f"the body is not JSON: {str(e)[:200]}") from e
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object")
    return body


def is_item_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def item_id(value: object, name: str = "id") -> int:
    if not is_item_id(value):
        raise InputError(f"{name} must be an item id")
    return value  # type: ignore[return-value]


def item_ids(value: object, name: str = "ids") -> list[int]:
    if not isinstance(value, list) or not all(is_item_id(v) for v in value):
        raise InputError(f"{name} must be a list of item ids")
    return value


def text(body: dict, name: str) -> str | None:
    """A string field, None when left out."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{name} must be a string")
    return value


def text_or_strings(body: dict, name: str) -> str | list[str] | None:
    """A field given as text or as a list of strings (tags), None when left out."""
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise InputError(f"{name} must be a string or a list of strings")


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)


async def whole_form(request: Request) -> FormData:
    """The form, refused (InputError) when a multipart body ends before its closing boundary:
    the parser would silently drop the part that was cut and every field after it."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        boundary = _BOUNDARY.search(content_type)
        body = await request.body()  # kept by the request: form() parses it from there
        if not boundary or f"--{boundary[1]}--".encode("latin-1") not in body[-len(boundary[1]) - 8:]:
            raise InputError("the form arrived incomplete (cut off before its end); nothing was saved")
    return await request.form()
