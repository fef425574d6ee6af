"""`python -m newsletter` as a user runs it: a subprocess in the test's directory, with
NEWSLETTER_DB and NEWSLETTER_CONFIG pointing into it. One runner; a profile names what each
test area has its commands see (database file, variables set, variables taken away):

    plain   cli.db, no X_BEARER_TOKEN (collect, items, backup, archive)
    x       cli.db, X_BEARER_TOKEN set (the issue commands collect the X fixture)
    editor  cli.db, neither X_BEARER_TOKEN nor NEWSLETTER_SECRET (user, serve, demo)
    mail    mail.db, NEWSLETTER_SECRET set, NEWSLETTER_SMTP_URL only if a sink is given
    ops     ops.db, like mail (runs, serve with the scheduler)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import partial

from support.apps import SECRET


@dataclass(frozen=True)
class Profile:
    db: str = "cli.db"
    set: dict = field(default_factory=dict)
    drop: tuple[str, ...] = ()


PROFILES = {
    "plain": Profile(drop=("X_BEARER_TOKEN",)),
    "x": Profile(set={"X_BEARER_TOKEN": "test-token"}),
    "editor": Profile(drop=("X_BEARER_TOKEN", "NEWSLETTER_SECRET")),
    "mail": Profile(db="mail.db", set={"NEWSLETTER_SECRET": SECRET}, drop=("NEWSLETTER_SMTP_URL",)),
    "ops": Profile(db="ops.db", set={"NEWSLETTER_SECRET": SECRET}, drop=("NEWSLETTER_SMTP_URL",)),
}


def environment(tmp_path, profile: str = "plain", *, env: dict | None = None, sink=None) -> dict:
    chosen = PROFILES[profile]
    environ = {name: value for name, value in os.environ.items() if name not in chosen.drop}
    environ.update({"NEWSLETTER_DB": str(tmp_path / chosen.db), "NEWSLETTER_CONFIG": str(tmp_path / "sources.yaml"),
                    **chosen.set, **(env or {})})
    if sink is not None:
        environ["NEWSLETTER_SMTP_URL"] = sink.url
    return environ


def newsletter(tmp_path, *args, profile: str = "plain", stdin: str = "", env: dict | None = None, sink=None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `newsletter *args` to the end; text output captured."""
    return subprocess.run([sys.executable, "-m", "newsletter", *args], capture_output=True, text=True, input=stdin,
                          env=environment(tmp_path, profile, env=env, sink=sink), cwd=tmp_path, timeout=timeout)


def cli_runner(profile: str):
    """newsletter(tmp_path, *args, stdin=..., env=..., sink=...) with `profile` bound."""
    return partial(newsletter, profile=profile)


def spawn(tmp_path, *args, profile: str = "plain", env: dict | None = None, sink=None, text: bool = True,
          **popen) -> subprocess.Popen:
    """Start `newsletter *args` and return at once; stdout and stderr are pipes."""
    return subprocess.Popen([sys.executable, "-m", "newsletter", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=text, env=environment(tmp_path, profile, env=env, sink=sink),
                            cwd=tmp_path, **popen)


class Running:
    """A long-running command whose stderr is read as it comes."""

    def __init__(self, tmp_path, *args, profile: str = "editor", **spawn_options):
        self.process = spawn(tmp_path, *args, profile=profile, **spawn_options)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            assert self.process.poll() is None, "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n" + "".join(self.lines))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
