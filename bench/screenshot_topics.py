"""Screenshot the topic report on a database of realistic size, for docs/screenshots/topics-200.png.

Usage (the database must already hold calls, e.g. the 200-call development set):

    KOE_DATA_DIR=/tmp/shot koe ingest bench/data/textmining_eval.jsonl
    KOE_DATA_DIR=/tmp/shot .venv/bin/python bench/screenshot_topics.py docs/screenshots/topics-200.png

Starts ``koe serve`` on a free port, signs in with a fresh manager key in Debian's Chromium, and
saves a full-page screenshot. The development set is used on purpose: a blind set's text must not
be looked at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "topics.png")
    koe = [sys.executable, "-m", "cli"]
    key = subprocess.run([*koe, "keys", "create", "--role", "manager", "--name", "screenshot"],
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*koe, "serve", "--port", str(port)], env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                sys.exit("server did not start")
            time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
            page.goto(f"{base}/ui/topics")
            page.get_by_label("API キー").fill(key)
            page.get_by_role("button", name="サインイン").click()
            page.wait_for_url(f"{base}/ui/topics")
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
