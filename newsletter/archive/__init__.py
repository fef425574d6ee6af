"""The public archive: a static site of the sent issues that any static host can serve.

    build_archive(conn, settings, out_dir, now, previews=()) -> ArchiveReport
    default_archive_dir(db_path) -> Path        data/newsletter.db -> data/archive/

What it writes (every link relative to the page it is on; see paths.py):

    index.html                      the issues, newest first: number, date, subject, teaser
    issues/YYYY-MM-DD/index.html    one per issue, an anchor per item (id="item-<id>")
    tags/index.html                 every tag, the most used first
    tags/<tag>/index.html           a tag's newest items (a Hangul tag keeps its name); older
                                    ones of a busy tag on tags/<tag>/page-N.html
    search/index.html               client-side search over titles, commentary and tags (any
                                    substring: "모델" finds "모델을"), over a sharded index:
    search/data.js, bNNNN/XXX.js,   the blocks of 50 issues, each a set of buckets a query word
    search/docs/DATE-N.js           reads one of, and what results show, 5 items a file (search.py)
    feed.xml, sitemap.xml           absolute URLs on newsletter.site_url
    static/                         archive.css, search.js, favicon.svg from templates/archive/static/
    .archive-manifest.json          what the last build wrote (see build.py); the app never serves
                                    names starting with a dot

To serve it from the web app (Starlette):

    Mount("/archive", StaticFiles(directory=default_archive_dir(app.db_path), html=True,
                                  check_dir=False))

Pipeline layer: it reads the store and the render views; it imports nothing above it.
"""

from .build import MANIFEST, ArchiveReport, build_archive
from .pages import ArchiveTemplates
from .paths import default_archive_dir, issue_path, relative_url, tag_path, tag_slug

__all__ = ["MANIFEST", "ArchiveReport", "ArchiveTemplates", "build_archive",
           "default_archive_dir", "issue_path", "relative_url", "tag_path", "tag_slug"]
