"""Annotating one item (title, Korean commentary, tags, section, related links; drafts saved
as the curator types) and adding an item by hand."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import EditConflict, FetchError, InputError, NewsletterError, NotFound
from ..flows.add import add_by_url
from ..flows.curate import ACTIONS, Edit
from ..store import curation, model_drafts
from .auth import curator_page
from .bodies import whole_form
from .core import local_path, render, web_of
from .pages import NOTICES, card, nav_counts, with_query


def _form_values(item, draft) -> dict:
    related = "\n".join(f"{link.url} {link.title}".strip() for link in item.related)
    if draft:
        return {"title_override": draft.title_override, "commentary": draft.commentary, "tags": draft.tags,
                "section_override": item.section_override or "",
                "related": related}
    return {"title_override": item.title_override or "", "commentary": item.commentary,
            "tags": " ".join(f"#{tag}" for tag in item.tags), "section_override": item.section_override or "",
            "related": related}


EDIT_FIELDS = ("title_override", "commentary", "tags", "section_override", "related")


def _edit_page(request: Request, item_id: int, *, values: dict | None = None, error: str = "",
               status: int = 200) -> Response:
    web = web_of(request)
    try:
        entry = web.desk.entry(item_id)
    except NotFound as e:
        return render(request, "error.html", {"title": "없는 항목", "message": str(e)}, status=404)
    user_id = request.state.curator.user.id
    draft = curation.get_draft(web.conn, item_id, user_id)  # only one newer than the last save
    return render(request, "item.html", {
        **card(web, entry),
        "values": {**_form_values(entry.item, draft), **{k: v for k, v in (values or {}).items() if v is not None}},
        "draft": draft if values is None else None, "error": error, "nav": nav_counts(web),
        "edited": curation.edit_version(web.conn, item_id),
        "llm_enabled": web.settings.llm.enabled, "llm_model": web.settings.llm.model,
        "model_draft": model_drafts.get(web.conn, item_id),
        "next": local_path(request.query_params.get("next")),
        "notice": NOTICES.get(request.query_params.get("notice", ""), "")}, status=status)


@curator_page
async def item_page(request: Request) -> Response:
    return _edit_page(request, request.path_params["item_id"])


@curator_page
async def save_item(request: Request) -> Response:
    web = web_of(request)
    item_id = request.path_params["item_id"]
    try:
        form = await whole_form(request)
    except InputError as e:
        return _edit_page(request, item_id, error=f"저장하지 못했습니다: {e}", status=400)
    # A field the form did not carry stays as stored (None); "" is the curator emptying it.
    values = {name: str(form[name]) if name in form else None for name in EDIT_FIELDS}
    target = local_path(str(form.get("next", "")), f"/items/{item_id}")
    edit = Edit(**values)
    based_on = str(form["edited"]) if "edited" in form else None
    try:
        web.desk.apply_edit(request.state.curator.user.id, item_id, edit, based_on=based_on)
    except NotFound as e:
        return render(request, "error.html", {"title": "없는 항목", "message": str(e)}, status=404)
    except EditConflict as e:  # someone saved first: keep both texts, overwrite neither
        return _edit_page(request, item_id, values=values, error=_conflict_message(web, e), status=409)
    except NewsletterError as e:  # nothing was saved: show the form again with what was typed
        return _edit_page(request, item_id, values=values, error=f"저장하지 못했습니다: {e}", status=400)
    then = str(form.get("then", ""))
    if then in ACTIONS:
        try:
            web.desk.triage(request.state.curator.user.id, item_id, then)
        except NewsletterError as e:  # the edit is committed; only the move failed
            return _edit_page(request, item_id, error=f"저장했습니다. 하지만 {_ACTION_NAMES[then]}하지 못했습니다: {e}",
                              status=409)
    return RedirectResponse(with_query(target, notice="saved") + f"#item-{item_id}", status_code=303)


_ACTION_NAMES = {"approve": "승인", "reject": "거절", "snooze": "미루기", "restore": "대기로 되돌리기"}


def _conflict_message(web, conflict: EditConflict) -> str:
    saved = web.desk.entry(conflict.item_id).item
    return (f"저장하지 못했습니다: 이 폼을 연 뒤에 다른 저장이 있었습니다 ({conflict.edited}). "
            f"지금 저장된 코멘터리: 「{saved.commentary}」. 아래 칸에는 입력하신 내용이 그대로 있습니다: "
            "합쳐서 다시 저장하면 저장된 내용을 바꿉니다.")


@curator_page
async def save_draft(request: Request) -> Response:
    """The form flavour of the draft API, for navigator.sendBeacon when the page is left."""
    web = web_of(request)
    try:
        form = await whole_form(request)
        web.desk.save_draft(request.state.curator.user.id, request.path_params["item_id"],
                           commentary=str(form.get("commentary", "")), tags=str(form.get("tags", "")),
                           title_override=str(form.get("title_override", "")),
                           based_on=str(form["edited"]) if "edited" in form else None)
    except NotFound:
        return Response(status_code=404)
    except EditConflict as e:  # a late beacon after a save: keeping it would bring old text back
        return Response(str(e), status_code=409, media_type="text/plain")
    except NewsletterError as e:
        return Response(str(e), status_code=400, media_type="text/plain")
    return Response(status_code=204)


@curator_page
async def discard_draft(request: Request) -> Response:
    web = web_of(request)
    item_id = request.path_params["item_id"]
    web.desk.drop_draft(request.state.curator.user.id, item_id)
    return RedirectResponse(f"/items/{item_id}?notice=draft-discarded", status_code=303)


@curator_page
async def add_page(request: Request) -> Response:
    web = web_of(request)
    return render(request, "add.html", {"url": request.query_params.get("url", ""), "section": "", "error": "",
                                        "nav": nav_counts(web)})


@curator_page
async def add(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    url, section = str(form.get("url", "")), str(form.get("section", ""))

    def again(error: str, status: int) -> Response:
        return render(request, "add.html", {"url": url, "section": section, "error": error, "nav": nav_counts(web)},
                      status=status)

    try:
        added = await add_by_url(web.desk, web.settings, web.app.http, url, added_by=request.state.curator.user.name,
                                 section=section)
    except InputError as e:
        return again(str(e), 400)
    except FetchError as e:
        return again(f"could not fetch it: {e}", 502)
    except NewsletterError as e:
        return again(f"could not read it: {e}", 422)
    notice = "added" if added.created else "known"
    return RedirectResponse(f"/items/{added.entry.item.id}?notice={notice}", status_code=303)


routes = [
    Route("/items/{item_id:id}", item_page, methods=["GET"]),
    Route("/items/{item_id:id}", save_item, methods=["POST"]),
    Route("/items/{item_id:id}/draft", save_draft, methods=["POST"]),
    Route("/items/{item_id:id}/draft/discard", discard_draft, methods=["POST"]),
    Route("/add", add_page, methods=["GET"]),
    Route("/add", add, methods=["POST"]),
]
