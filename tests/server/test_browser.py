"""The Argilla web UI on the local server, in headless Chromium: sign in, open a dataset, see a record."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest

from labeler.argilla.client import Connection
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import DatasetSpec

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".pytest_artifacts"


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.browser
def test_annotator_sees_record_text_and_suggestion(argilla_server, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed; `bash .ci/setup --browser` installs it")
    from playwright.sync_api import sync_playwright

    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name="browser-check", labels=["billing", "shipping delivery"],
                       descriptions={"billing": "Charges and invoices"})
    text = "My parcel NW-77120 never arrived, can you check with the courier?"
    report = push(conn, spec, [PushRecord(id="r1", fields={"text": text}, value="shipping delivery", score=0.87,
                                          agent="ensemble", metadata={"uncertainty": 0.13, "priority": 1})],
                  progress=False)
    auth = base64.b64encode(f"{argilla_server.username}:{argilla_server.password}".encode()).decode()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "argilla_dataset_page.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{argilla_server.url}/sign-in?auth={auth}")
            page.wait_for_url(lambda url: "/sign-in" not in url, timeout=60_000)
            page.goto(f"{argilla_server.url}/dataset/{report.dataset_id}/annotation-mode")
            page.get_by_text(text).first.wait_for(timeout=60_000)
            page.get_by_text("shipping delivery").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shot), full_page=True)
            body = page.inner_text("body")
        finally:
            browser.close()
    assert text in body
    assert "shipping delivery" in body and "billing" in body
    # the suggested option carries the suggestion's score (0.87 shown rounded) beside its label
    assert re.search(r"shipping delivery\s*0\.9", body), body
    assert shot.stat().st_size > 10_000
