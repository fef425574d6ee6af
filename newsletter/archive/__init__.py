"""The public archive: a static site of the sent issues that any static host can serve.

    build_archive(conn, settings, out_dir, now, previews=()) -> ArchiveReport
    default_archive_dir(db_path) -> Path        data/newsletter.db -> data/archive/

What it writes (every link relative to the page it is on; see paths.py):

    index.html                      the issues, newest first: number, date, subject, teaser
    issues/YYYY-MM-DD/index.html    one per issue, an anchor per item (id="item-<id>")
    tags/index.html, tags/<tag>/index.html   every tag (Hangul names kept), its items
    search/index.html, search/data.js        client-side search over titles, commentary, tags
    feed.xml, sitemap.xml           absolute URLs on newsletter.site_url
    static/archive.css, static/search.js     copied from templates/archive/static/

To serve it from the web app (Starlette):

    Mount("/archive", StaticFiles(directory=default_archive_dir(app.db_path), html=True,
                                  check_dir=False))

Pipeline layer: it reads the store and the render views; it imports nothing above it.
"""

from .build import MANIFEST, ArchiveReport, build_archive
from .pages import DEFAULT_TEMPLATE_DIR, ArchiveTemplates
from .paths import default_archive_dir, issue_path, relative_url, tag_path, tag_slug

__all__ = ["DEFAULT_TEMPLATE_DIR", "MANIFEST", "ArchiveReport", "ArchiveTemplates", "build_archive",
           "default_archive_dir", "issue_path", "relative_url", "tag_path", "tag_slug"]
