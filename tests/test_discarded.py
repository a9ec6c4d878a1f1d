"""Answers the numbers do not use, said where they are left out: records annotators discard (Argilla's Discard
button: never trained on, not asked again; `status` counts them, which it computed and never printed, and `compare`
says how many random reserve records are missing from the gold it scores), and answered records taken out of the
data file (left out by what reads the pool)."""

from __future__ import annotations

import pandas as pd

from labeler.config import load_config
from labeler.evaluation.compare_on_gold import compare_project
from labeler.loop.policy import project_reserve
from labeler.loop.runs import train_project
from labeler.project import Project
from labeler.status import status, summary_lines
from tests.test_train_cli import make_project


def test_status_and_compare_count_what_annotators_discarded(tmp_path):
    cfg = make_project(tmp_path, per_class=12, min_per_class=2)
    config = load_config(cfg)
    path = Project(config).labels
    df = pd.read_parquet(path)
    reserve = project_reserve(config)
    in_reserve = [rid for rid in df["id"] if reserve.contains(rid)]
    outside = [rid for rid in df["id"] if not reserve.contains(rid)]
    gone = in_reserve[:2] + outside[:1]
    df.loc[df["id"].isin(gone), "status"] = "discarded"
    df.loc[df["id"] == outside[1], "status"] = "conflict"
    df.to_parquet(path)
    lines = summary_lines(status(load_config(cfg, ["argilla.url=http://127.0.0.1:9"])))
    assert lines[2] == ("not trained on: 3 discarded by annotators (not asked again), 2 of them random reserve "
                        "records: gold scores the ones answered, and a discarded record is often a hard one; 1 conflict "
                        "(annotators disagree; `labeler pull` lists them)")
    train_project(config, backend="logreg", n_resamples=20)
    cmp = compare_project(config, write=False, n_resamples=50)
    assert cmp.discarded == 2 and cmp.discarded_note() == (
        "2 random reserve records were discarded by annotators and are not scored: the estimates cover the records "
        "answered (a discarded record is often a hard one)")
    assert cmp.n_gold + cmp.n_calib == len(in_reserve) - 2


def test_answers_whose_records_left_the_data_file_are_said_where_they_are_left_out(tmp_path):
    """Records taken out of the data file after they were answered: the queue model and the join weights (which
    read the pool) left them out silently, while `train` and `compare` keep them (labels.parquet holds the texts)."""
    import json

    from labeler.loop.scoring import bootstrap

    cfg = make_project(tmp_path, per_class=12, min_per_class=2)
    config = load_config(cfg)
    data = tmp_path / "news.jsonl"
    rows = data.read_text().splitlines()
    data.write_text("\n".join(rows[2:]) + "\n")  # two answered records taken out of the file
    gone = [json.loads(r)["id"] for r in rows[:2]]
    assert all(rid in set(pd.read_parquet(Project(config).labels)["id"]) for rid in gone)
    _, scores = bootstrap(config, progress=False)
    note = ("2 answered records are no longer in the data file: the queue model and the join weights leave them out; "
            "`train` and `compare` keep them (labels.parquet holds their texts)")
    assert scores.queue_note.endswith(f" weak labels; {note}")
    assert f"data: {note}" in summary_lines(status(load_config(cfg, ["argilla.url=http://127.0.0.1:9"])))
