"""Where things live in the built archive, and how one page links to another.

Every link between pages is relative to the page it sits on ("../../tags/%ED%86%A0/index.html"),
never root-relative: the same files then work at the root of a static host, under the
app's /archive mount, and opened from disk. Links name `index.html` explicitly for that last
case (a file:// URL of a directory shows a listing, not the page). Absolute URLs, built from
newsletter.site_url, appear only where they must: the Atom feed, sitemap.xml and the
canonical link, all pointing at the public address the email's "view in browser" link uses.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from ..config import Settings

INDEX = "index.html"
FEED = "feed.xml"
SITEMAP = "sitemap.xml"
TAGS_INDEX = "tags/index.html"
SEARCH_PAGE = "search/index.html"
SEARCH_DATA = "search/data.js"
SEARCH_PART_ISSUES = 50  # issues per block of the search index, by issue number (see search.py)
STATIC = "static"

# Characters a tag keeps in its directory name: letters of any script (Hangul included),
# digits, '-', '.', '+' (normalise_tag's alphabet). Anything else is replaced.
_SLUG_UNSAFE = re.compile(r"[^\w\-.+]")
_SLUG_MAX_BYTES = 120  # well under the 255-byte file-name limit; a Hangul syllable is 3 bytes


def default_archive_dir(db_path: str | Path) -> Path:
    """Where the archive is built unless told otherwise: `archive/` beside the database
    (data/newsletter.db -> data/archive/). The app serves this directory at /archive."""
    return Path(db_path).resolve().parent / "archive"


def issue_path(issue_date: date) -> str:
    return f"issues/{issue_date.isoformat()}/{INDEX}"


def tag_slug(tag: str) -> str:
    """The directory name of a tag's page. A tag as normalise_tag makes it ("scaling-law",
    "토크나이저") is its own name; anything else (upper case, which would collide with its
    lower-case twin on a case-insensitive disk, a leading dot, '/', very long) is cleaned and
    given a short hash of the tag, so two different tags never share a page and a tag keeps
    its address whatever other tags come along."""
    name = unicodedata.normalize("NFC", tag)
    slug = _SLUG_UNSAFE.sub("-", name.lower()).strip("-.")
    if slug == name and slug and len(slug.encode("utf-8")) <= _SLUG_MAX_BYTES:
        return slug
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    while len(slug.encode("utf-8")) > _SLUG_MAX_BYTES - 9:
        slug = slug[:-1]
    return f"{slug.rstrip('-.')}-{digest}" if slug else f"tag-{digest}"


def search_block_dir(block: int) -> str:
    return f"b{block + 1:04d}"


def search_bucket_path(block: int, bucket: int) -> str:
    return f"search/{search_block_dir(block)}/{bucket:03x}.js"


def search_doc_path(issue_iso_date: str, chunk: int) -> str:
    return f"search/docs/{issue_iso_date}-{chunk + 1}.js"


def tag_path(slug: str) -> str:
    return f"tags/{slug}/{INDEX}"


def tag_page_path(slug: str, number: int) -> str:
    """An older page of a busy tag: page-1.html holds its oldest items."""
    return f"tags/{slug}/page-{number}.html"


def relative_url(from_path: str, to_path: str, fragment: str = "") -> str:
    """The link from the page at `from_path` to `to_path` (both relative to the archive's
    root): up to the root, then down ("../../tags/x/index.html"), percent-encoded: Hangul tag
    names become %XX escapes, which every server and browser decodes back to the UTF-8
    directory name."""
    return "../" * from_path.count("/") + _quoted(to_path) + (f"#{quote(fragment, safe='')}" if fragment else "")


@lru_cache(maxsize=4096)
def _quoted(path: str) -> str:
    return quote(path, safe="/")


def public_url(settings: Settings, path: str = "") -> str:
    """The absolute public URL of a file of the archive, on newsletter.site_url; an index.html
    is named by its directory (…/issues/2024-07-19/), as render.web_url names the issue."""
    if path == INDEX or path.endswith("/" + INDEX):
        path = path[: -len(INDEX)]
    return f"{settings.newsletter.site_url.rstrip('/')}/{quote(path, safe='/')}"
