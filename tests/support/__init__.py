"""Helpers shared by the test modules (no tests here). Test files import from `support.*` and
use the fixtures in conftest.py; no test file imports another test file.

    fixtures  real payloads from tests/fixtures, parsed or served on the loopback SnapshotServer
    clock     injected clocks and the fixed moments the tests use
    net       loopback ports and sockets
    config    the one sources.yaml writer and its presets
    apps      the one App factory, and what tests put into an App (curators, subscribers, issues)
    server    the real app under uvicorn in a thread; a static loopback server for the archive
    smtp      the aiosmtpd sink on loopback, and a realistic Korean issue to send through it
    cli       `python -m newsletter` as a user runs it (one runner, profiles per test area)
    web       the editor as tests drive it: Editor/MailEditor handles, login, CSRF, page helpers
    issues    curating and publishing real collected items (render, issue and archive tests)
    composer  the composer's picks and a ready issue for the editor-driven tests
    browser   Debian's Chromium: its path, flags, and logging in through the form
"""
