"""The Argilla web UI on the local server, in headless Chromium: sign in, open a dataset, see a record; with
150 labels and with the 6-label demo, the suggestion and its runners-up are on the first screen and the
guidelines describe every label. Screenshots are kept in ``.pytest_artifacts/``."""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from labeler.argilla.candidates import top_candidates
from labeler.argilla.client import Connection
from labeler.argilla.push import PushRecord, push
from labeler.argilla.schema import DatasetSpec

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".pytest_artifacts"
VIEWPORT = {"width": 1400, "height": 900}

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]


@contextmanager
def annotation_page(server, dataset_id: str):
    """A signed-in page on the dataset's annotation view (the first pending record)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed; `bash .ci/setup --browser` installs it")
    from playwright.sync_api import sync_playwright

    auth = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{server.url}/sign-in?auth={auth}")
            page.wait_for_url(lambda url: "/sign-in" not in url, timeout=60_000)
            page.goto(f"{server.url}/dataset/{dataset_id}/annotation-mode")
            yield page
        finally:
            browser.close()


def in_viewport(locator) -> bool:
    """Visible and entirely inside the first screen: no scrolling needed to see it."""
    if not locator.is_visible():
        return False
    box = locator.bounding_box()
    return (box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"]
            and box["y"] + box["height"] <= VIEWPORT["height"])


def test_annotator_sees_record_text_and_suggestion(argilla_server, tmp_path):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name="browser-check", labels=["billing", "shipping delivery"],
                       descriptions={"billing": "Charges and invoices"})
    text = "My parcel NW-77120 never arrived, can you check with the courier?"
    report = push(conn, spec, [PushRecord(id="r1", fields={"text": text}, value="shipping delivery", score=0.87,
                                          agent="ensemble", metadata={"uncertainty": 0.13, "priority": 1})],
                  progress=False)
    shot = ARTIFACTS / "argilla_dataset_page.png"
    with annotation_page(argilla_server, report.dataset_id) as page:
        page.get_by_text(text).first.wait_for(timeout=60_000)
        page.get_by_text("shipping delivery").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shot), full_page=True)
        body = page.inner_text("body")
    assert text in body
    assert "shipping delivery" in body and "billing" in body
    # the suggested option carries the suggestion's score (0.87 shown rounded) beside its label
    assert re.search(r"shipping delivery\s*0\.9", body), body
    assert shot.stat().st_size > 10_000


DOMAINS = ["account", "alarm", "bill", "calendar", "card", "car_rental", "flight", "hotel", "insurance", "meeting",
           "music", "order", "pto", "recipe", "reminder", "restaurant", "smart_home", "timer", "todo", "transfer",
           "travel", "weather", "shopping_list", "payment", "password"]
ACTIONS = {"create": "Create a new {}", "cancel": "Cancel an existing {}", "status": "Ask about the state of a {}",
           "change": "Change the details of a {}", "query": "Ask a question about a {}", "help": "Ask for help with a {}"}


def intents_150() -> tuple[list[str], dict[str, str]]:
    labels = [f"{d}_{a}" for d in DOMAINS for a in ACTIONS]
    descriptions = {f"{d}_{a}": text.format(d.replace("_", " ")) for d in DOMAINS for a, text in ACTIONS.items()}
    return labels, descriptions


def demo_6() -> tuple[list[str], dict[str, str]]:
    task = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())["task"]
    return [lab["name"] for lab in task["labels"]], {lab["name"]: lab["description"] for lab in task["labels"]}


CASES = {
    # 150 labels alphabetically: the suggestion sorts 149th, far below a full list's first screen
    "150": (intents_150, "Will it still be raining in Lisbon when my flight lands on Friday?",
            ["weather_query", "flight_status", "travel_query"], 12),
    "6": (demo_6, "I was charged twice for my subscription this month, please send the money back",
          ["refund_request", "billing", "account_access"], None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_suggestion_and_runners_up_on_the_first_screen_and_guidelines_describe_labels(argilla_server, case):
    make_labels, text, top3, visible = CASES[case]
    labels, descriptions = make_labels()
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name=f"browser-{case}-{uuid.uuid4().hex[:4]}", labels=labels, descriptions=descriptions,
                       candidates=3, label_order="alphabetical", visible_labels=visible)
    probs = [0.0] * len(labels)
    for lab, p in zip(top3, [0.83, 0.05, 0.03]):
        probs[labels.index(lab)] = p
    cands = top_candidates(probs, labels, 3)
    first = PushRecord(id="p1", fields={"text": text}, value=top3[0], score=0.83, agent="ensemble",
                       metadata={"priority": 1}, candidates=cands)
    later = PushRecord(id="p2", fields={"text": "A later record"}, value=labels[0], score=0.5, agent="ensemble",
                       metadata={"priority": 2}, candidates=top_candidates(probs[::-1], labels, 3))
    report = push(conn, spec, [first, later], progress=False)
    shot = ARTIFACTS / f"argilla_{case}_labels_record.png"
    with annotation_page(argilla_server, report.dataset_id) as page:
        page.get_by_text(text).first.wait_for(timeout=60_000)
        suggested = page.locator(f'label[for="label_{top3[0]}"]')
        suggested.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shot))
        guesses = page.locator(".markdown-render p", has_text="Suggested:")
        assert in_viewport(suggested), "the suggested label is not on the first screen"
        assert "label-active" in (suggested.get_attribute("class") or ""), "the suggestion is not pre-selected"
        assert page.locator(f'input[id="label_{top3[0]}"]').is_checked()
        assert in_viewport(guesses), "the top guesses are not on the first screen"
        assert guesses.inner_text() == f"Suggested: {top3[0]} 0.83 · {top3[1]} 0.05 · {top3[2]} 0.03"
        assert in_viewport(page.get_by_text(text).first)
        chips = page.locator("div.input-button:visible")
        assert chips.count() == (visible + 1 if visible else len(labels))  # the suggestion joins the visible ones

        page.locator("button.panel__header:visible", has_text="Guidelines").first.click()
        desc = descriptions[top3[1]]
        page.get_by_text(desc, exact=False).first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"argilla_{case}_labels_guidelines.png"))
        body = page.inner_text("body")
    assert f"{top3[1]}: {desc}" in body
    assert sum(f"{lab}: {descriptions[lab]}" in body for lab in labels) == len(labels)
    assert shot.stat().st_size > 10_000


def test_none_of_these_answered_in_the_ui_is_pulled_as_an_empty_set(argilla_server, tmp_path):
    """Issue 23: in a multi-label dataset the annotator deselects the pre-selected suggestion and clicks
    "None of these" (first among the chips, on the first screen): `pull` reads an empty label set. Clicking
    it while the suggestion stays selected is also none (the annotator's choice over the pre-selection);
    clicking it beside a label the annotator added is a contradiction: pulled as a counted conflict. Where the
    suggestion is "None of these", it starts selected and Submit alone answers the record; a label chosen
    while it stays selected is that label (the annotator's choice over the pre-selection)."""
    from labeler.argilla.pull import pull
    from labeler.argilla.schema import NONE_TEXT, NONE_VALUE

    import pandas as pd

    labels, descriptions = demo_6()
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    spec = DatasetSpec(name=f"browser-none-{uuid.uuid4().hex[:4]}", labels=labels, descriptions=descriptions,
                       multi_label=True, candidates=3)
    texts = {"n1": "Thanks, that is all for today, have a nice weekend!", "n2": "Good morning, quick hello from me",
             "n3": "Cheers, see you next week", "n4": "My card was charged twice, please check",
             "n5": "I cannot log in and I was charged twice"}
    cands = [("billing", 0.41, "below threshold")]
    records = [PushRecord(id=rid, fields={"text": text}, value=["billing"], score=[0.41], agent="ensemble",
                          metadata={"priority": k + 1}, candidates=cands) for k, (rid, text) in enumerate(texts.items())]
    records[2:4] = [dataclasses.replace(r, value=[NONE_VALUE], score=[0.93]) for r in records[2:4]]  # "no label"
    report = push(conn, spec, records, progress=False)
    with annotation_page(argilla_server, report.dataset_id) as page:
        page.get_by_text(texts["n1"]).first.wait_for(timeout=60_000)
        none = page.locator(f'label[for="label_{NONE_VALUE}"]')
        none.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        assert in_viewport(none)
        chips = page.locator("div.input-button:visible")
        assert re.fullmatch(rf"1\s+{NONE_TEXT}", chips.first.inner_text().strip())  # first, keyboard shortcut 1
        guesses = page.locator(".markdown-render p", has_text="Suggested:")
        assert guesses.inner_text() == "Suggested: none above threshold (highest: billing 0.41)"
        assert page.locator('input[id="label_billing"]').is_checked()  # the suggestion is pre-selected
        page.locator('label[for="label_billing"]').click()  # deselect it
        none.click()
        page.screenshot(path=str(ARTIFACTS / "argilla_none_of_these.png"))
        page.get_by_role("button", name="Submit").click()
        # the next record: "None of these" clicked, the suggestion left selected
        page.get_by_text(texts["n2"]).first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        page.locator(f'label[for="label_{NONE_VALUE}"]').click()
        page.get_by_role("button", name="Submit").click()
        # the third: "None of these" is the suggestion, so it starts selected and Submit alone answers it
        page.get_by_text(texts["n3"]).first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.locator(f'input[id="label_{NONE_VALUE}"]').is_checked()
        assert not page.locator('input[id="label_billing"]').is_checked()
        page.screenshot(path=str(ARTIFACTS / "argilla_none_of_these_suggested.png"))
        page.get_by_role("button", name="Submit").click()
        # the fourth: the annotator chooses billing and leaves the pre-selected "None of these": billing
        page.get_by_text(texts["n4"]).first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        page.locator('label[for="label_billing"]').click()
        page.get_by_role("button", name="Submit").click()
        # the fifth: billing pre-selected, the annotator adds account_access and "None of these": a contradiction
        page.get_by_text(texts["n5"]).first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        page.locator('label[for="label_account_access"]').click()
        page.locator(f'label[for="label_{NONE_VALUE}"]').click()
        page.get_by_role("button", name="Submit").click()
        page.wait_for_timeout(2000)
    pulled = pull(conn, spec, tmp_path)
    got = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert (pulled.submitted, pulled.none, pulled.none_with_labels, pulled.conflicts) == (4, 3, 1, ["n5"])
    assert pulled.labels_over_none == 1 and "1 answer(s) chose labels and left the pre-selected" in pulled.summary()
    assert pulled.none_over_labels == 1 and "1 answer(s) chose 'None of these' and left the pre-selected labels" \
        in pulled.summary()
    assert (got.loc["n1", "status"], list(got.loc["n1", "labels"])) == ("submitted", [])
    assert (got.loc["n2", "status"], list(got.loc["n2", "labels"])) == ("submitted", [])
    assert got.loc["n5", "status"] == "conflict"
    assert (got.loc["n3", "status"], list(got.loc["n3", "labels"])) == ("submitted", [])
    assert (got.loc["n4", "status"], list(got.loc["n4", "labels"])) == ("submitted", ["billing"])


def test_the_record_says_why_it_is_next_and_how_fresh_the_order_is(argilla_server):
    """Issue 24: the queue state on the record itself, one small line under the top guesses, 150 labels."""
    from labeler.loop.round import queue_status

    labels, descriptions = intents_150()
    text = "Will it still be raining in Lisbon when my flight lands on Friday?"
    top3 = ["weather_query", "flight_status", "travel_query"]
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    status = queue_status(type("S", (), {"fast_model": "fast-model-n120", "run_id": None})(),
                          "labeler watch after 120 answers", when="2026-12-05 23:30 UTC")
    spec = DatasetSpec(name=f"browser-why-{uuid.uuid4().hex[:4]}", labels=labels, descriptions=descriptions,
                       candidates=3, label_order="alphabetical", visible_labels=12, queue_status=status, queue_size=20)
    probs = [0.0] * len(labels)
    for lab, p in zip(top3, [0.43, 0.25, 0.13]):
        probs[labels.index(lab)] = p
    first = PushRecord(id="w1", fields={"text": text}, value=top3[0], score=0.43, agent="ensemble/fast-model-n120",
                       metadata={"priority": 1, "uncertainty": 0.82, "why": "uncertain"},
                       candidates=top_candidates(probs, labels, 3))
    report = push(conn, spec, [first], progress=False)
    shot = ARTIFACTS / "argilla_queue_line.png"
    with annotation_page(argilla_server, report.dataset_id) as page:
        page.get_by_text(text).first.wait_for(timeout=60_000)
        line = page.locator(".markdown-render sub", has_text="Next because")
        line.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shot))
        assert in_viewport(line), "the queue line is not on the first screen"
        assert line.inner_text() == ("Next because: #1 of 20 · the model is unsure (uncertainty 0.82) · order "
                                     "refreshed 2026-12-05 23:30 UTC by labeler watch after 120 answers")
        guesses = page.locator(".markdown-render p", has_text="Suggested:").first
        assert guesses.inner_text().startswith(f"Suggested: {top3[0]} 0.43 · {top3[1]} 0.25 · {top3[2]} 0.13")
        assert in_viewport(page.locator(f'label[for="label_{top3[0]}"]'))
    assert shot.stat().st_size > 10_000
