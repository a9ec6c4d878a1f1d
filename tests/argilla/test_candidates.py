"""Top guesses, label order, visible labels and guidelines for long label sets: pure functions, exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labeler.argilla.candidates import candidates_markdown, top_candidates
from labeler.argilla.schema import GUIDELINES_MAX_CHARS, DatasetSpec, md_escape
from labeler.errors import LabelerError

LABELS = ["time", "timezone", "current_location", "alarm"]


def test_top_candidates_rank_by_probability_with_ties_in_label_order():
    p = np.array([0.05, 0.83, 0.03, 0.05])
    assert top_candidates(p, LABELS, 3) == [("timezone", 0.83, ""), ("time", 0.05, ""), ("alarm", 0.05, "")]
    assert top_candidates(p, LABELS, 0) == []
    assert [c[0] for c in top_candidates(p, LABELS, 10)] == ["timezone", "time", "alarm", "current_location"]
    with pytest.raises(ValueError):
        top_candidates(p[:3], LABELS, 3)


def test_sources_only_where_signals_disagree_and_a_dissenting_top_label_is_never_hidden():
    p = np.array([0.10, 0.70, 0.05, 0.15])
    agree = {"nli": np.array([0.1, 0.8, 0.05, 0.05]), "keywords": np.array([0, 1.0, 0, 0]),
             "abstains": np.full(4, np.nan)}
    assert top_candidates(p, LABELS, 2, agree) == [("timezone", 0.70, ""), ("alarm", 0.15, "")]
    differ = {"nli": np.array([0.1, 0.8, 0.05, 0.05]), "keywords": np.array([0, 0, 1.0, 0]),
              "run-3": np.array([0.2, 0.7, 0.05, 0.05])}
    assert top_candidates(p, LABELS, 2, differ) == [
        ("timezone", 0.70, "nli, run-3"), ("alarm", 0.15, ""), ("current_location", 0.05, "keywords")]


def test_candidates_markdown_one_line_escaped():
    line = candidates_markdown([("timezone", 0.83, ""), ("time", 0.05, "keywords"), ("current_location", 0.001, "")])
    assert line == "**Suggested:** timezone 0.83 · time 0.05 (keywords) · current_location <0.01"
    assert candidates_markdown([("a*b", math.nan, "")]) == r"**Suggested:** a\*b n/a"
    assert candidates_markdown([]) == ""
    assert md_escape("x|y_z\n _w_ *") == r"x\|y_z \_w\_ \*"


def test_label_order_and_visible_labels():
    spec = DatasetSpec(name="d", labels=["b", "C", "a", "d"], label_counts={"a": 3, "d": 3, "b": 1})
    assert spec.question_labels() == ["b", "C", "a", "d"]
    assert DatasetSpec(name="d", labels=spec.labels, label_order="alphabetical").question_labels() == ["a", "b", "C", "d"]
    freq = DatasetSpec(name="d", labels=spec.labels, label_order="frequency", label_counts=spec.label_counts)
    assert freq.question_labels() == ["a", "d", "b", "C"]  # ties keep config order; unlabeled last
    assert DatasetSpec(name="d", labels=spec.labels, visible_labels=3).visible_options() == 3
    assert DatasetSpec(name="d", labels=spec.labels, visible_labels=4).visible_options() is None
    assert DatasetSpec(name="d", labels=spec.labels).visible_options() is None


@pytest.mark.parametrize("kwargs, message", [
    ({"label_order": "random"}, "label_order must be one of config, alphabetical, frequency"),
    ({"visible_labels": 2}, "visible_labels must be a whole number >= 3"),
    ({"candidates": -1}, "candidates must be a whole number >= 0"),
    ({"candidates": 3, "text_fields": ["Candidates"]}, "a text field is named 'candidates'"),
])
def test_bad_settings_are_one_line_errors(kwargs, message):
    spec = DatasetSpec(name="d", labels=["a", "b", "c"], **kwargs)
    with pytest.raises(LabelerError, match=message):
        spec.validate()
        spec.field_names()


def test_guidelines_list_every_label_with_its_description_within_argillas_limit():
    small = DatasetSpec(name="d", labels=["billing", "shipping"], descriptions={"billing": "Charges | invoices"})
    text = small.guidelines()
    assert "- **billing**: Charges \\| invoices\n- **shipping**\n" in text + "\n"
    assert "## Labels (2)" in text and "top guesses" not in text

    labels = [f"intent_{i:03d}" for i in range(150)]
    descs = {lab: f"Requests about {lab}: " + "details " * 12 for lab in labels}  # ~110 characters each
    big = DatasetSpec(name="d", labels=labels[::-1], descriptions=descs, candidates=3)
    text = big.guidelines()
    assert len(text) <= GUIDELINES_MAX_CHARS
    assert "## Labels (150, alphabetical)" in text and "top guesses" in text
    rows = [line for line in text.splitlines() if line.startswith("- **intent")]
    assert len(rows) == 150 and rows[0].startswith("- **intent_000**: Requests about intent_000: details")
    assert all(row.endswith("…") for row in rows)  # every description shortened by the same cap
    assert len({len(row) for row in rows}) == 1

    nodesc = DatasetSpec(name="d", labels=labels).guidelines()
    assert "**intent_000** · **intent_001**" in nodesc

    many = DatasetSpec(name="d", labels=[f"{'x' * 150}{i:04d}" for i in range(400)]).guidelines()
    assert len(many) <= GUIDELINES_MAX_CHARS and "more labels are not listed" in many


def test_default_visible_labels_and_the_search_hint():
    from labeler.argilla.schema import default_visible_labels

    assert [default_visible_labels(n) for n in (2, 20, 21, 150)] == [None, None, 12, 12]
    six = DatasetSpec(name="d", labels=list("abcdef"))
    assert "search" not in six.question_description() and "search box" not in six.guidelines()
    assert "search" in DatasetSpec(name="d", labels=list("abcdef"), visible_labels=3).question_description()
    assert "search box" in DatasetSpec(name="d", labels=[f"l{i}" for i in range(15)]).guidelines()


def test_multi_label_top_guesses_are_every_label_over_its_threshold_or_none():
    from labeler.argilla.candidates import BELOW, above_threshold

    labels = ["billing", "shipping", "refund", "login"]
    row = [0.62, 0.05, 0.91, 0.5]
    assert above_threshold(row, labels, 0.5) == [("refund", 0.91, ""), ("billing", 0.62, ""), ("login", 0.5, "")]
    assert candidates_markdown(above_threshold(row, labels, 0.5)) == "**Suggested:** refund 0.91 · billing 0.62 · login 0.50"
    # one threshold per label (training.thresholds.fit_thresholds): shipping's low cut lets it in, refund's high cut not
    assert above_threshold(row, labels, [0.7, 0.04, 0.95, 0.5]) == [("login", 0.5, ""), ("shipping", 0.05, "")]
    below = above_threshold(row, labels, 0.95)
    assert below == [("refund", 0.91, BELOW)]
    assert candidates_markdown(below) == "**Suggested:** none above threshold (highest: refund 0.91)"
    assert above_threshold([float("nan")] * 4, labels, 0.5) == []
    with pytest.raises(ValueError, match="3 thresholds for 4 labels"):
        above_threshold(row, labels, [0.5, 0.5, 0.5])


# -- the queue line (issue 24) --------------------------------------------------------------------------
def test_the_queue_line_says_why_a_record_is_next_and_how_fresh_the_order_is():
    from labeler.argilla.candidates import queue_line
    from labeler.argilla.push import PushRecord, to_argilla
    from labeler.argilla.schema import DatasetSpec

    fresh = "order refreshed 2026-12-05 23:30 UTC by labeler watch after 120 answers"
    assert queue_line(3, 20, "uncertain", 0.8349, fresh) == (
        "<sub>Next because: \\#3 of 20 · the model is unsure (uncertainty 0.83) · " + fresh + "</sub>")
    assert queue_line(7, None, "gold", 0.5) == "<sub>Next because: \\#7 · picked at random from the whole pool</sub>"
    assert queue_line(None, None, None, None) == queue_line(1, 20, None, 0.3) == ""
    spec = DatasetSpec(name="d", labels=["a", "b"], candidates=2, queue_size=5,
                       queue_status="Review order refreshed 2026-12-05 23:30 UTC by labeler push. Suggestions: "
                                    "the ensemble (zero-shot signals). Current fine-tuned run: none yet.")
    rec = PushRecord(id="r", fields={"text": "t"}, value="a", score=0.6, agent="ensemble",
                     metadata={"priority": 2, "uncertainty": 0.4, "why": "pending"},
                     candidates=[("a", 0.6, ""), ("b", 0.4, "")])
    assert to_argilla(rec, spec).fields["candidates"] == (
        "**Suggested:** a 0.60 · b 0.40\n\n<sub>Next because: \\#2 of 5 · queued earlier, still unanswered "
        "(uncertainty 0.40) · order refreshed 2026-12-05 23:30 UTC by labeler push</sub>")
