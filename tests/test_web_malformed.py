"""Malformed requests to the editor: huge numbers, JSON of the wrong shape, forms with a field
missing or cut short. Each gets a clear 4xx and nothing stored changes; none is a 500."""

from __future__ import annotations

from support.apps import VOCABULARY_PAPER, item_id
from support.web import login, snapshot

HUGE = "99999999999999999999999"  # past SQLite's 64-bit integers


def test_huge_ids_and_page_numbers_are_not_found_or_clamped_never_500(editor):
    ed = editor()
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        for path in (f"/items/{HUGE}", f"/api/items/{HUGE}"):
            assert client.get(path).status_code == 404, path
        assert client.post(f"/api/items/{HUGE}/approve", headers=headers).status_code == 404
        assert client.post(f"/items/{HUGE}", data={"csrf": csrf, "commentary": "없는 항목"}).status_code == 404
        page = client.get("/queue", params={"page": HUGE})
        assert page.status_code == 200 and "논문" in page.text  # the last page, as for any page past the end
        listed = client.get("/api/items", params={"page": HUGE, "per_page": HUGE})
        assert listed.status_code == 200 and listed.json()["per_page"] == 200
        assert client.get("/api/tags", params={"item": HUGE}).status_code == 200
        reordered = client.post("/api/picks/reorder", headers=headers, json={"ids": [int(HUGE)]})
        assert reordered.status_code == 400 and "item id" in reordered.json()["error"]
        composed = client.post("/api/issue/remove", headers=headers, json={"id": int(HUGE)})
        assert composed.status_code in (400, 404)
        for pasted in ("https://[x/abs", "http://a.example:99999/", "https://bsky.app:abc/profile/a/post/b"):
            added = client.post("/api/add-url", headers=headers, json={"url": pasted})
            assert added.status_code == 400 and "not a usable URL" in added.json()["error"], pasted


def test_json_of_the_wrong_type_is_refused_with_the_field_named(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    before = snapshot(ed)
    with ed.client() as client:
        headers = {"X-CSRF-Token": login(client)}
        for body, field in (({"tags": [1, 2]}, "tags"), ({"related": 5}, "related"),
                            ({"related": [{"url": 5}]}, "related"), ({"commentary": {"한": "글"}}, "commentary"),
                            ({"edited": 3, "commentary": "좋은 글"}, "edited")):
            answer = client.post(f"/api/items/{paper}/annotate", headers=headers, json=body)
            assert answer.status_code == 400 and field in answer.json()["error"], (body, answer.text)
        for body, field in (({"commentary": {"a": 1}}, "commentary"), ({"tags": ["x"]}, "tags"),
                            ({"title_override": 7}, "title_override")):
            answer = client.post(f"/api/items/{paper}/draft", headers=headers, json=body)
            assert answer.status_code == 400 and field in answer.json()["error"], (body, answer.text)
        deep = b"[" * 100_000 + b"]" * 100_000
        for path in (f"/api/items/{paper}/annotate", "/api/picks/reorder", "/api/queue/dismiss", "/api/issue/build"):
            answer = client.post(path, headers={**headers, "Content-Type": "application/json"}, content=deep)
            assert answer.status_code == 400 and "JSON" in answer.json()["error"], path
    assert snapshot(ed) == before


def _saved(ed, item: int) -> tuple:
    with ed.reader() as conn:
        row = conn.execute("SELECT commentary, title_override FROM items WHERE id = ?", (item,)).fetchone()
        tags = [r[0] for r in conn.execute("SELECT tag FROM item_tags WHERE item_id = ? ORDER BY position", (item,))]
        related = [r[0] for r in conn.execute("SELECT url FROM related_links WHERE item_id = ?", (item,))]
    return row[0], row[1], tags, related


def test_a_form_missing_fields_or_cut_short_never_erases_what_was_saved(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as client:
        csrf = login(client)
        full = {"csrf": csrf, "title_override": "어휘 크기의 스케일링 법칙", "commentary": "연산량에 맞는 어휘 크기.",
                "tags": "#토크나이저 #scaling-law", "section_override": "",
                "related": "https://x.com/karpathy/status/1814038096218083497 Karpathy의 설명"}
        assert client.post(f"/items/{paper}", data=full).status_code == 303
        saved = _saved(ed, paper)
        assert saved == ("연산량에 맞는 어휘 크기.", "어휘 크기의 스케일링 법칙", ["토크나이저", "scaling-law"],
                         ["https://x.com/karpathy/status/1814038096218083497"])

        # a form (an old page, a script) carrying only the commentary changes only the commentary
        assert client.post(f"/items/{paper}", data={"csrf": csrf, "commentary": "고친 코멘터리"}).status_code == 303
        assert _saved(ed, paper) == ("고친 코멘터리", *saved[1:])

        # a multipart body cut inside the commentary: refused, nothing changed
        boundary = "----한글경계".encode().hex()
        parts = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                         for name, value in full.items() if name != "related")
        cut = parts[:parts.index("연산량에".encode()) + 6]
        answer = client.post(f"/items/{paper}", content=cut,
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert answer.status_code == 400 and "incomplete" in answer.text
        assert _saved(ed, paper) == ("고친 코멘터리", *saved[1:])
        # the same body, whole, saves
        whole = parts + f"--{boundary}--\r\n".encode()
        assert client.post(f"/items/{paper}", content=whole,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}).status_code == 303
        assert _saved(ed, paper)[0] == "연산량에 맞는 어휘 크기."
