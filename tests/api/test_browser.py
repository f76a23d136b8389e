"""Headless Chromium over a real server: sign in with a key, open each page, check it, screenshot it.

Screenshots go to a temporary folder (``KOE_SCREENSHOTS`` to keep them elsewhere).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from koe.settings import get_settings
from tests.api.seed import RAW_PHONE, Seeded, seed
from tests.net import free_port

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Seeded]]:
    """uvicorn on 127.0.0.1 (free port) in a thread, over seeded demo data."""
    monkeypatch.setenv("KOE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("KOE_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    data = seed(sqlite_url, recordings=tmp_path / "incoming")
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(create_app(get_settings()), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", data
    instance.should_exit = True
    thread.join(timeout=10)
    get_settings.cache_clear()


def test_pages_in_chromium(server: tuple[str, Seeded], tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    base, data = server
    shots = Path(os.environ.get("KOE_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(base) else None)
        page.goto(f"{base}/ui/topics")
        assert "/ui/signin" in page.url
        page.get_by_label("API キー").fill(data.keys["data"])
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url(f"{base}/ui/topics")
        assert page.locator("h1").inner_text() == "トピックレポート"
        assert page.locator("svg.chart polyline").count() == 2
        assert "回線・つながらない" in page.locator("table").inner_text()
        page.screenshot(path=str(shots / "topics.png"), full_page=True)

        page.goto(f"{base}/ui/customers")
        first = page.locator("tbody tr").first.inner_text()
        assert "C-1001" in first
        page.screenshot(path=str(shots / "customers.png"), full_page=True)

        page.goto(f"{base}/ui/customers/C-1001")
        assert "電話の前に" in page.content()
        assert page.locator("svg.chart circle").count() == 2
        page.screenshot(path=str(shots / "customer.png"), full_page=True)

        page.goto(f"{base}/ui/calls/call-001")
        assert page.locator(".bubble.agent").count() == 2 and page.locator(".bubble.customer").count() == 2
        assert page.locator(".bubble.tagged mark").count() == 1
        assert RAW_PHONE not in page.content()
        page.wait_for_function("document.getElementById('player').readyState >= 1")
        page.locator(".bubble.customer .seek").first.click()
        page.wait_for_function("document.getElementById('player').currentTime >= 1.0")
        page.keyboard.press("Tab")  # keyboard focus is visible and reaches the controls
        page.screenshot(path=str(shots / "call.png"), full_page=True)

        page.get_by_role("button", name="サインアウト").click()
        page.goto(f"{base}/ui/customers")
        assert "/ui/signin" in page.url
        browser.close()
    assert external == [], f"pages requested external resources: {external}"
