"""The studio served on a free port in a thread, and a real headless Chromium to drive it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# CI sets this, so that a studio test that cannot run fails instead of being skipped.
REQUIRE_ENV = "LIQUIDSKY_REQUIRE_STUDIO"
CHROMIUM = os.environ.get("LIQUIDSKY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]


def unavailable(reason: str):
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


def _need_studio_extra() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        import websockets  # noqa: F401
    except ImportError:
        unavailable("the studio extra is not installed (pip install '.[studio]')")


@pytest.fixture
def voice_dir(tmp_path, monkeypatch):
    folder = tmp_path / "voices"
    monkeypatch.setenv("LIQUIDSKY_VOICE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def module_dirs():
    """A voice folder and a song folder for the module's server (set before it starts)."""
    root = tempfile.mkdtemp(prefix="liquidsky-studio-")
    saved = {k: os.environ.get(k) for k in ("LIQUIDSKY_VOICE_DIR", "LIQUIDSKY_SONG_DIR")}
    os.environ["LIQUIDSKY_VOICE_DIR"] = os.path.join(root, "voices")
    os.environ["LIQUIDSKY_SONG_DIR"] = os.path.join(root, "songs")
    yield root
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def studio(module_dirs):
    """A studio server on a free port of 127.0.0.1, in a thread; stopped after the module."""
    _need_studio_extra()
    from synth.app.studio.server import Studio

    server = Studio(port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, through Playwright (which downloads nothing when given the binary)."""
    _need_studio_extra()
    if not os.path.exists(CHROMIUM):
        unavailable(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install '.[test]')")
    profile = tempfile.mkdtemp(prefix="liquidsky-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, studio):
    """A tab with the studio open (from its URL with the token) and ready."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(studio.url)
    tab.wait_for_selector("body[data-ready='1']", timeout=15_000)
    tab.errors = errors
    try:
        yield tab
    finally:
        tab.close()
