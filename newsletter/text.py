"""Pure text helpers: canonical URLs and item keys, safe HTML, plain text, hashtags."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

import nh3

# Query parameters that only say where a click came from; dropping them lets the same
# page reached from a feed, a newsletter and a tweet share one key.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "ref", "ref_src",
     "ref_url", "_hsenc", "_hsmi", "mkt_tok", "spm", "cmpid", "ocid", "wt_mc", "wt_zmc"}
)
TRACKING_PREFIXES = ("utm_", "hsa_", "pk_")

_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_ID_RE = re.compile(rf"^(?:arxiv:)?\s*(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})(?P<version>v\d+)?$", re.I)
_ARXIV_PATH_RE = re.compile(
    rf"^/(?:abs|pdf|html|format)/(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})(?P<version>v\d+)?(?:\.pdf)?/?$"
)
_ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org", "browse.arxiv.org"})
_X_HOSTS = frozenset(
    {"x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com"}
)
_X_STATUS_RE = re.compile(r"^/(?P<handle>i/web|[A-Za-z0-9_]{1,15})/status(?:es)?/(?P<id>\d{1,20})")
_HF_PAPER_RE = re.compile(rf"^/papers/(?P<id>{_ARXIV_NEW})(?:v\d+)?/?$")
_BSKY_POST_RE = re.compile(r"^/profile/(?P<actor>[A-Za-z0-9._:%-]{3,253})/post/(?P<rkey>[A-Za-z0-9._~:-]{1,512})/?$")


def canonical_url(url: str) -> str:
    """The form of a URL used to recognise the same page: scheme and host lowercased,
    default port, fragment and tracking parameters dropped. `www.` is kept: some sites
    serve different things with and without it. Never raises: a URL urllib cannot take
    apart (a port out of range, "https://[x") is its own key, as it came."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query, doseq=True), ""))


def arxiv_id(text: str) -> tuple[str, str] | None:
    """(id without version, version or "") from an arXiv id or abs/pdf URL, else None.

    >>> arxiv_id("https://arxiv.org/pdf/2407.13623v2.pdf")
    ('2407.13623', 'v2')
    """
    text = text.strip()
    match = _ARXIV_ID_RE.match(text)
    if not match and "://" in text:
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").lower()
        except ValueError:  # "https://[x": not a URL, so not an arXiv one
            return None
        if host in _ARXIV_HOSTS:
            match = _ARXIV_PATH_RE.match(parts.path)
    if not match:
        return None
    return match["id"], (match["version"] or "").lower()


def x_status(url: str) -> tuple[str, str] | None:
    """(handle, status id) of an X/Twitter post URL, else None. Handle is "" for /i/ URLs."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in _X_HOSTS:
        return None
    match = _X_STATUS_RE.match(parts.path)
    if not match:
        return None
    handle = match["handle"]
    return ("" if handle in ("i", "i/web") else handle), match["id"]


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def without_tracking(url: str) -> str:
    """The URL with tracking parameters (utm_*, fbclid, ...) taken out of its query and
    everything else exactly as it was: for links handed to readers, not for recognising pages."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [pair for pair in parts.query.split("&")
            if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))]
    return urlunsplit(parts._replace(query="&".join(kept)))


def bluesky_post(url: str) -> tuple[str, str] | None:
    """(handle or DID, record key) of a bsky.app post URL, else None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in ("bsky.app", "www.bsky.app"):
        return None
    match = _BSKY_POST_RE.match(parts.path)
    return (match["actor"].lower() if not match["actor"].startswith("did:") else match["actor"],
            match["rkey"]) if match else None


def hf_paper_id(url: str) -> str | None:
    """The arXiv id of a Hugging Face paper page (huggingface.co/papers/<arXiv id>), else None:
    that page is about the arXiv paper, so a link to it is a mention of the paper."""
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in ("huggingface.co", "www.huggingface.co", "hf.co"):
        return None
    match = _HF_PAPER_RE.match(parts.path)
    return match["id"] if match else None


def item_key(url: str) -> str:
    """The canonical key of what a URL points at: `arxiv:<id>` (an arXiv or Hugging Face paper
    page), `x:<status id>`, else the canonical URL (a Bluesky post's with its handle lower-cased).
    Never raises, like canonical_url."""
    found = arxiv_id(url) if "arxiv" in url.lower() else None
    if found:
        return f"arxiv:{found[0]}"
    try:
        if paper := hf_paper_id(url):
            return f"arxiv:{paper}"
        if post := x_status(url):
            return f"x:{post[1]}"
        if skeet := bluesky_post(url):  # handles are case-insensitive; the web app's own form
            return f"https://bsky.app/profile/{skeet[0]}/post/{skeet[1]}"
    except ValueError:  # urllib cannot take it apart: see canonical_url
        return url.strip()
    return canonical_url(url)


_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_URL_ATTRIBUTES = frozenset({"href", "src"})


def sanitize_html(fragment: str, base_url: str = "") -> str:
    """Untrusted HTML -> HTML safe to store and show: no scripts, handlers, styles or
    javascript: links, only http(s)/mailto URLs, every URL made absolute against base_url."""

    def absolutise(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            absolute = urljoin(base_url, value.strip()) if base_url else value.strip()
            if urlsplit(absolute).scheme.lower() not in ("http", "https", "mailto"):
                return None
            return absolute
        return value

    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=absolutise,
        strip_comments=True,
    ).strip()


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
     "tr", "table", "figure", "figcaption", "hr", "dt", "dd"}
)
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment: paragraphs kept, runs of spaces collapsed."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    paragraphs = "".join(extractor.parts).split("\n")
    lines = [clean_text(line) for line in paragraphs]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u2028\u2029]")


def clean_text(text: str) -> str:
    """One line of plain text: entities decoded, control characters and runs of space removed."""
    return re.sub(r"\s+", " ", _CONTROL_CHARS.sub(" ", html.unescape(text))).strip()


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.6 else cut).rstrip() + "…"


_TAG_SPLIT = re.compile(r"[\s,]+")


def normalise_tag(raw: str) -> str:
    """A hashtag as stored: no '#', Latin words lower-kebab-case, Hangul kept as typed.

    >>> normalise_tag("#Scaling Law")
    'scaling-law'
    """
    tag = clean_text(raw).lstrip("#").strip()
    tag = re.sub(r"[\s_]+", "-", tag.lower())
    tag = re.sub(r"[^\w\-.+]", "", tag)  # \w keeps Hangul and other letters
    return re.sub(r"-{2,}", "-", tag).strip("-")


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags from what a curator typed: '#a #b', 'a, b' or a mix; duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for raw in _TAG_SPLIT.split(text):
        tag = normalise_tag(raw)
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


# --- Markdown subset: the curator's commentary -------------------------------------------
# Links, bold, italic, inline code, bare URLs and paragraphs; nothing else, so what a curator
# types is what readers see. Shared by the editor and the email renderer.

_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*((?:https?://|mailto:)[^\s<>\"]+?)\s*\)")
_MD_BARE_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")
_MD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
# '*' may touch Hangul on both sides ("*강조*합니다"); '_' may not touch letters (snake_case).
_MD_STAR = re.compile(r"(?<!\*)\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?!\*)")
_MD_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_MD_SLOT = re.compile(r"\x00(\d+)\x00")


def markdown_subset(source: str) -> str:
    """The curator's Markdown (links, **bold**, *italic*, `code`, bare URLs, paragraphs) as
    sanitised HTML. Anything else, HTML included, is shown as typed text.

    >>> markdown_subset("**중요**한 [논문](https://arxiv.org/abs/2407.13623)")
    '<p><strong>중요</strong>한 <a href="https://arxiv.org/abs/2407.13623" rel="noopener noreferrer nofollow">논문</a></p>'
    """
    text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if not text:
        return ""
    slots: list[str] = []

    def keep(fragment: str) -> str:
        slots.append(fragment)
        return f"\x00{len(slots) - 1}\x00"

    def inline(fragment: str) -> str:
        fragment = html.escape(fragment, quote=True)
        fragment = _MD_BOLD.sub(r"<strong>\1</strong>", fragment)
        fragment = _MD_STAR.sub(r"<em>\1</em>", fragment)
        return _MD_UNDERSCORE.sub(r"<em>\1</em>", fragment)

    def bare_url(match: re.Match) -> str:
        url = match.group()
        trimmed = url.rstrip(".,;:!?")
        if trimmed.endswith(")") and trimmed.count("(") < trimmed.count(")"):
            trimmed = trimmed[:-1]  # "(see https://a.b/c)" keeps its closing parenthesis outside
        link = html.escape(trimmed, quote=True)
        return keep(f'<a href="{link}">{link}</a>') + url[len(trimmed):]

    text = _MD_CODE.sub(lambda m: keep(f"<code>{html.escape(m[1], quote=True)}</code>"), text)
    text = _MD_LINK.sub(
        lambda m: keep(f'<a href="{html.escape(m[2], quote=True)}">{inline(m[1])}</a>'), text)
    text = _MD_BARE_URL.sub(bare_url, text)
    text = inline(text)
    while _MD_SLOT.search(text):  # link text may hold code slots
        text = _MD_SLOT.sub(lambda m: slots[int(m[1])], text)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return sanitize_html("".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs))


def safe_url(url: str | None) -> str:
    """The URL if it is http(s), else "" (no javascript:, data: or relative surprises)."""
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
