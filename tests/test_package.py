"""The package as a user gets it: a wheel built from the checkout carries every module, template
and demo snapshot, installs into a fresh venv outside the checkout and runs the demo from another
directory; and a curator restyles from a directory of their own (newsletter.templates_dir)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from newsletter.config import TEMPLATES_DIR, load_settings
from newsletter.errors import ConfigError
from newsletter.flows import compose
from support.issues import PICKS, approve_picks, collected_app

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("newsletter", "templates")


def run(*command, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def checkout_files() -> set[str]:
    """The files a wheel must carry, by their name in it (templates/ goes in as newsletter/templates/)."""
    names = set()
    for top in SHIPPED:
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                inside = path.relative_to(ROOT / top).as_posix()
                names.add(f"newsletter/{inside}" if top == "newsletter" else f"newsletter/templates/{inside}")
    return names


def test_the_wheel_installs_outside_the_checkout_and_renders_the_demo_issue(tmp_path):
    # built from a copy: building in the checkout would leave build/ and *.egg-info behind in it
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for top in SHIPPED:
        shutil.copytree(ROOT / top, source / top, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # offline: setuptools from this venv (the dev extra), nothing from an index
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", tmp_path / "dist", source, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("newsletter-*.whl")
    missing = checkout_files() - set(zipfile.ZipFile(wheel).namelist())
    assert not missing, sorted(missing)

    fresh = tmp_path / "fresh"
    run(sys.executable, "-m", "venv", "--without-pip", fresh, cwd=tmp_path)
    python = fresh / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The third-party dependencies come from this venv's site-packages, listed in a .pth (a
    # directory on the path, its own .pth files unread: an editable install there stays inert);
    # the newsletter package itself only from the fresh venv.
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp_path).stdout.strip())
    deps = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (site / "test-venv-dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in os.environ.items()
           if name != "PYTHONPATH" and not name.startswith(("NEWSLETTER_", "X_BEARER"))}
    where = run(python, "-c", "import newsletter, sys; print(newsletter.__file__)", cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(fresh), where.stdout

    demo = run(fresh / "bin" / "newsletter", "demo", "--no-serve", "--dir", "demo", cwd=elsewhere, env=env)
    assert "Traceback" not in demo.stderr
    page = (elsewhere / "demo" / "issue.html").read_text(encoding="utf-8")
    text = (elsewhere / "demo" / "issue.txt").read_text(encoding="utf-8")
    for part in (page, text):
        assert "연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law" in part
    assert '<html lang="ko"' in page
    assert "archive.css" in (elsewhere / "demo" / "archive" / "index.html").read_text(encoding="utf-8")


def test_a_templates_dir_of_ones_own_restyles_the_email_and_keeps_the_rest(tmp_path, server):
    mine = tmp_path / "mine"
    shutil.copytree(TEMPLATES_DIR / "email", mine / "email")
    shipped = (mine / "email" / "issue.txt.j2").read_text(encoding="utf-8")
    line = "{{ labels.view_in_browser }}: {{ v.web_url }}"
    (mine / "email" / "issue.txt.j2").write_text(shipped.replace(line, "우리 동네 AI 소식\n" + line, 1),
                                                 encoding="utf-8")
    app = collected_app(tmp_path, server, newsletter={"templates_dir": "mine"})  # relative to sources.yaml
    try:
        approve_picks(app, PICKS[:2])
        issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
        rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
        assert "\n우리 동네 AI 소식\n웹에서 보기: " in rendered.text
        assert app.web_static_dir == TEMPLATES_DIR / "web" / "static"  # no web/ of its own: the shipped one
    finally:
        app.close()


@pytest.mark.parametrize("make, says", [
    (lambda d: d / "nowhere", "no such directory"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds none of email/, web/, archive/"),
])
def test_a_templates_dir_that_cannot_restyle_is_a_config_error_naming_the_field(tmp_path, make, says):
    directory = make(tmp_path)
    config = tmp_path / "sources.yaml"
    config.write_text(f"newsletter:\n  templates_dir: {directory}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=says) as caught:
        load_settings(config, {})
    assert "newsletter.templates_dir" in str(caught.value)
