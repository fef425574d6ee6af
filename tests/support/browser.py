"""Debian's Chromium for the browser tests (never a downloaded browser): its path and flags,
what to do when it is missing, and the page-side helpers the tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.apps import CURATOR, PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses; the rest make a root, headless, GPU-less run work.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The width of the first `chars` characters of the first text node holding `text`, and the
# font size there.
MEASURE = """([text, chars]) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + chars);
    return {width: range.getBoundingClientRect().width,
            fontSize: parseFloat(getComputedStyle(node.parentElement).fontSize)};
  }
  return null;
}"""


def missing_tool(reason: str) -> None:
    """Skip on a developer's machine without the tool; fail under CI, where scripts/test.sh
    installs it, so a broken install can never pass as a green run with skipped tests."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def browser_login(page, base_url: str, name: str = CURATOR, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
