"""The config's labels change mid-project (a label added, one taken out): the current run and the pool's matrices
no longer fit. Every reader says so in one line and goes on as before a run (suggestions from the signals, a
retrain due, answers with a removed label skipped and counted), never reading a matrix with the wrong columns."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from labeler.config import load_config
from labeler.errors import LabelerError
from labeler.evaluation.compare_on_gold import compare_project
from labeler.evaluation.predict import predict_file
from labeler.loop.run_lines import describe_run
from labeler.loop.runs import labels_unchanged, run_mismatch, train_project
from labeler.loop.scoring import bootstrap
from labeler.project import Project
from tests.test_train_cli import make_project
from tests.training.data import LABELS


def with_labels(cfg, labels):
    """The same project under another label list."""
    raw = yaml.safe_load(cfg.read_text())
    raw["task"]["labels"] = labels
    keywords = raw["signals"][0]["params"]["keywords"]  # a rule for a label taken out is an error of its own
    raw["signals"][0]["params"]["keywords"] = {k: v for k, v in keywords.items() if k in labels}
    out = cfg.with_name(f"labels-{len(labels)}-{labels[-1]}.yaml")
    out.write_text(yaml.safe_dump(raw))
    return load_config(out)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labels_change")
    cfg = make_project(tmp, min_per_class=2)
    config = load_config(cfg)
    run = train_project(config, n_resamples=50)
    bootstrap(config, progress=False)
    return tmp, cfg, config, run


def test_a_new_label_leaves_the_run_out_until_a_retrain(project):
    tmp, cfg, config, run = project
    added = with_labels(cfg, LABELS + ["weather"])
    why = f"run {run.run_id} was trained on other labels than the config's (new: 'weather')"
    assert run_mismatch(config, run) is None and run_mismatch(added, run) == why
    # the pool's matrices were scored for three labels: absent for the readers that can do without, one line elsewhere
    assert Project(config).fitting_scores() is not None and Project(added).fitting_scores() is None
    with pytest.raises(LabelerError, match=r"scored for other labels than the config's .* run `labeler bootstrap`"):
        Project(added).load_scores()
    # the labels on disk did not change, the label set did: a retrain is due
    assert labels_unchanged(config) == run.run_id and labels_unchanged(added) is None
    # predict: the run answers in its own labels, and says so; compare leaves it out
    src = tmp / "new.csv"
    pd.DataFrame({"id": ["n1"], "text": ["the striker scored a late goal"]}).to_csv(src, index=False)
    res = predict_file(added, src)
    assert res.summary().splitlines()[0] == f"{why}: predicted with its own 3 labels"
    assert [c for c in pd.read_parquet(res.path).columns if c.startswith("p_")] == [f"p_{lab}" for lab in LABELS]
    assert compare_project(added, write=False).left_out == [f"{why}: it cannot be scored on them"]
    # bootstrap: the suggestions come from the signals and the fast model, the matrices carry the new labels
    _, scores = bootstrap(added, progress=False)
    assert scores.run_id is None and run.run_id not in scores.signals and scores.labels == LABELS + ["weather"]
    assert scores.note.startswith(f"{why}: left out of the suggestions until a run trains on every label")
    assert Project(added).fitting_scores() is not None and Project(config).fitting_scores() is None
    from labeler.loop.run_lines import runs_table
    from labeler.loop.runs import list_project_runs

    table = runs_table(list_project_runs(added), False, added.label_names).splitlines()
    assert table[1].startswith(f"* {run.run_id}") and table[1].endswith("  (trained on other labels than the config's)")
    assert not runs_table(list_project_runs(config), False, config.label_names).splitlines()[1].endswith("config's)")
    bootstrap(config, progress=False)  # back to the module's labels for the next test


def test_answers_with_a_label_taken_out_are_skipped_and_counted(project):
    tmp, cfg, config, run = project
    fewer = with_labels(cfg, ["sports", "business"])
    assert run_mismatch(fewer, run) == f"run {run.run_id} was trained on other labels than the config's (no longer " \
                                       "in the config: 'tech')"
    from labeler.status import status, summary_lines

    assert "labels: 10 answers carry a label no longer in the config (not trained on; renamed? list the old name " \
        "under the label's was:)" in summary_lines(status(fewer))
    new = train_project(fewer, n_resamples=50, force=True, make_current=False)
    assert new.labels == ["sports", "business"] and new.info["n_train"] + new.info.get("n_gold", 0) \
        + new.info.get("n_calib", 0) == 20  # the ten 'tech' answers are not trained on
    why = "labeled 'tech', no longer in the config (renamed? list the old name under the label's was:)"
    assert new.info["skipped"] == {why: 10}
    assert describe_run(new)[-1] == f"  skipped 10 {why}"


def test_a_renamed_label_keeps_the_answers_given_under_its_old_name(project):
    tmp, cfg, config, run = project
    renamed = with_labels(cfg, ["sports", "business", {"name": "technology", "was": ["tech"]}])
    assert renamed.task.renamed == {"tech": "technology"}
    labels = Project(renamed).load_labels()
    assert (labels["label"] == "technology").sum() == 10 and "tech" not in set(labels["label"])
    new = train_project(renamed, n_resamples=50, force=True, make_current=False)
    assert new.labels == ["sports", "business", "technology"] and not new.info["skipped"]
    # watch's background fine-tune trains on a snapshot of the table: renamed the same way
    snapshot = tmp / "snapshot.parquet"
    snapshot.write_bytes(Project(renamed).labels.read_bytes())
    from_snapshot = train_project(renamed, n_resamples=50, force=True, make_current=False, labels_path=snapshot)
    assert not from_snapshot.info["skipped"] and from_snapshot.info["n_train"] == new.info["n_train"]
    # the data's held-back truth too (the simulated annotator and simulate read it)
    from labeler.data import load_pool

    truth = [r.label for r in load_pool(renamed).records]
    assert truth.count("technology") == 10 and "tech" not in truth
    assert [r.label for r in load_pool(config).records].count("tech") == 10  # the cached pool itself is unchanged
    for bad, why in (([{"name": "a", "was": ["b"]}, "b"], "'b'"), ([{"name": "a", "was": ["c"]}, {"name": "b", "was": ["c"]}], "'c'")):
        with pytest.raises(Exception, match=f"must belong to one label and be no label's name now: {why}"):
            with_labels(cfg, bad)


def test_watchs_background_fine_tune_swaps_over_a_run_trained_on_other_labels(project):
    import json

    from labeler.watch.finetune import main

    tmp, cfg, config, run = project
    added = with_labels(cfg, LABELS + ["weather"])
    out = tmp / "finetune.json"
    code = main(["--config", str(cfg.with_name("labels-4-weather.yaml")), "--labels",
                 str(Project(added).labels), "--out", str(out)])
    result = json.loads(out.read_text())
    assert code == 0 and result["swap"] is True
    assert result["why"] == (f"run {run.run_id} was trained on other labels than the config's (new: 'weather'); "
                             f"{result['run_id']} trained on every label")


def test_answers_given_while_the_task_was_of_the_other_kind_read_as_this_ones():
    """A project switched between single- and multi-label (a new dataset, its old labels kept by pull): a single
    label is a one-label set, not "None of these"; a one-label set is a single label."""
    from labeler.project import as_configured

    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": ["tech", None, None, None],
                       "labels": [[], ["sports"], ["sports", "tech"], []]})
    multi = as_configured(df, {"tech": "technology"}, multi_label=True)
    assert multi["labels"].tolist() == [["technology"], ["sports"], ["sports", "technology"], []]
    single = as_configured(df, {}, multi_label=False)
    assert single["label"].tolist() == ["tech", "sports", None, None]  # several, or none: no single label


def test_status_names_why_the_current_run_is_left_out_whatever_changed():
    from labeler.status import current_run_line

    run = {"run_id": "r1", "backend": "logreg", "n_train": 3, "value": None}
    for why in ("run r1 was trained on other labels than the config's (new: 'weather')",
                "run r1 is multi-label and the config is not"):
        assert current_run_line({**run, "mismatch": why}) == (
            f"current run: r1 (logreg, 3 training labels), no gold labels to score it yet; {why}: left out of the "
            "suggestions until the next run")


def test_status_scores_a_run_of_the_other_kind_by_its_own_metric(project):
    """A single-label project switched to multi-label: its single-label run is left out, and status showed its
    gold micro-F1 with "95% CI nan..nan" (a single-label run has no micro-F1 interval); it shows its accuracy. `labeler
    runs` listed a run of the other kind under the config's columns unmarked (a multi-label run's exact match as
    "accuracy")."""
    from labeler.status import current_run_line, status

    tmp, cfg, config, run = project
    multi = load_config(cfg, ["task.multi_label=true", "queue.strategy=threshold_distance"])
    line = current_run_line(status(multi)["current_run"])
    acc, ci = run.metrics["gold"]["accuracy"], run.metrics["gold_ci"]["accuracy"]
    from labeler.loop.run_lines import runs_table
    from labeler.loop.runs import list_project_runs

    rows = runs_table(list_project_runs(multi), True, multi.label_names).splitlines()
    assert rows[0].split()[4] == "exact_match" and rows[1].endswith("  (a single-label run)")
    assert not runs_table(list_project_runs(config), False, config.label_names).splitlines()[1].endswith("run)")
    assert line == (f"current run: {run.run_id} (logreg, {run.info['n_train']} training labels), gold accuracy "
                    f"{acc:.3f} (95% CI {ci['lo']:.3f}..{ci['hi']:.3f}, n={run.info['n_gold']}); run {run.run_id} is "
                    "single-label and the config is not: left out of the suggestions until the next run")
