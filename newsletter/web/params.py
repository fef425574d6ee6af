"""Query parameters of the queue pages and the API, read forgivingly: a bad value is named
and dropped, never fatal."""

from __future__ import annotations

from datetime import date

from starlette.convertors import Convertor, register_url_convertor

from ..store.queue import ORDERS, STATUS_FILTERS, QueueFilter

MAX_ID = 2**63 - 1  # SQLite's integers: a larger id can name nothing, and cannot even be bound
MAX_PAGE = 1_000_000  # past any real queue; keeps page x per_page inside SQLite's integers


class ItemIdConvertor(Convertor):
    """`{item_id:id}` in a route: at most 18 digits, so /items/99999999999999999999 is a 404
    like any id that names nothing, not an OverflowError when the id is bound."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", ItemIdConvertor())


def parse_filter(params) -> tuple[QueueFilter, list[str]]:
    """Queue filters from query parameters; a bad value is dropped and named, not fatal."""
    problems = []
    status = params.get("status") or "waiting"
    if status == "new":
        status = "waiting"
    if status not in STATUS_FILTERS:
        problems.append(f"unknown status {status!r}")
        status = "waiting"
    day = None
    if raw_day := (params.get("date") or "").strip():
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(f"not a date (YYYY-MM-DD): {raw_day[:40]!r}")
    order = params.get("order") or "score"
    if order not in ORDERS:
        problems.append(f"unknown order {order[:20]!r} (one of {', '.join(ORDERS)})")
        order = "score"
    return QueueFilter(status=status, order=order, section=(params.get("section") or "").strip(),
                       source=(params.get("source") or "").strip(), day=day,
                       query=(params.get("q") or "").strip()[:200]), problems


def page_number(params, name: str = "page") -> int:
    try:
        return min(MAX_PAGE, max(1, int(params.get(name) or 1)))
    except ValueError:
        return 1
