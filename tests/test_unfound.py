"""A label no answer carries after ``min_per_class`` answers per label (one the pool may not hold at all: "wrong
number" on SMS spam): class coverage hunted it with 8 picks of every batch, in silence. Push and status say so, with
the way out."""

from __future__ import annotations

import pandas as pd
import yaml

from labeler.config import load_config
from labeler.loop.human_labels import unfound, unfound_note
from labeler.status import status, summary_lines
from tests.test_train_cli import make_project
from tests.training.data import LABELS, make_labels


def test_a_label_no_answer_carries_is_named_once_the_answers_could_have_found_it():
    labels = make_labels(8)  # 8 answers for each of 3 labels: 24
    assert unfound(labels, LABELS + ["weather"], False, 8) == ([], 24)  # 32 asked for 4 labels: too early to say
    assert unfound(labels, LABELS + ["weather"], False, 6) == (["weather"], 24)
    assert unfound(labels, LABELS, False, 6) == ([], 24)
    assert unfound_note(["weather"], 24, 8) == (
        "class coverage (8 picks of this batch) hunts a label no answer has carried in 24 answers ('weather'): if the "
        "pool holds none, take it out of task.labels, or lower queue.coverage")
    many = [f"l{i}" for i in range(7)]
    assert unfound_note(many, 400) == (
        "class coverage looks each batch for labels no answer has carried in 400 answers ('l0', 'l1', 'l2', 'l3', 'l4' "
        "and 2 more): if the pool holds none, take them out of task.labels, or lower queue.coverage")
    multi = pd.DataFrame({"id": ["a", "b"], "label": None, "labels": [["x"], []], "status": "submitted"})
    assert unfound(multi, ["x", "y"], True, 1) == (["y"], 2)  # "None of these" answers count as answers


def test_status_names_the_label_coverage_keeps_hunting(tmp_path):
    cfg = make_project(tmp_path, min_per_class=6)  # 30 answers: 6 per label for 4 labels is 24
    raw = yaml.safe_load(cfg.read_text())
    raw["task"]["labels"] = LABELS + ["weather"]
    cfg.write_text(yaml.safe_dump(raw))
    lines = summary_lines(status(load_config(cfg, ["argilla.url=http://127.0.0.1:9"])))
    assert ("queue: class coverage looks each batch for a label no answer has carried in 30 answers ('weather'): if the "
            "pool holds none, take it out of task.labels, or lower queue.coverage") in lines
    assert not any(line.startswith("queue:") for line in summary_lines(status(load_config(
        cfg, ["argilla.url=http://127.0.0.1:9", "queue.coverage=0"]))))
