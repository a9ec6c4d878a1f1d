"""``labeler train / runs / compare`` through the CLI entry point: the trigger message, runs listing, set-current."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import yaml

from labeler.cli import main
from labeler.config import load_config
from tests.training.data import LABELS, make_labels


def make_project(tmp_path, per_class=10, **training):
    df = make_labels(per_class).assign(agreement=1.0)
    data = tmp_path / "news.jsonl"
    data.write_text("\n".join(json.dumps({"id": i, "text": t, "label": lab})
                              for i, t, lab in zip(df["id"], df["text"], df["label"])) + "\n")
    raw = {
        "data": {"path": str(data), "id_field": "id", "label_field": "label"},
        "task": {"labels": LABELS},
        "signals": [{"type": "keywords", "params": {"keywords": {
            "sports": [r"\b(team|match|goal|game|coach|league|cup)\b"],
            "business": [r"\b(shares|bank|prices|company|markets|profits)\b"],
            "tech": [r"\b(software|app|chip|laptop|computer|browser)\b"]}}}],
        "training": {"backend": "logreg", **training},
        "project": {"dir": str(tmp_path / "state")},
    }
    cfg = tmp_path / "news.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    (tmp_path / "state").mkdir()
    df.to_parquet(tmp_path / "state" / "labels.parquet")
    return cfg


def cli(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


class FakeModel:
    def save(self, path):
        path.mkdir(parents=True)
        (path / "weights.txt").write_text("fake")


def fake_run(config, accuracy, macro_f1, n_train, make_current=True, n=None, info=()):
    from labeler.project import Project
    from training.registry import Registry

    metrics = {"gold": {"accuracy": accuracy, "macro_f1": macro_f1, **({"n": n} if n else {})}}
    return Registry(Project(config).runs).save(
        FakeModel(), labels=LABELS, multi_label=False, backend="logreg", config={}, data_fingerprint="f",
        metrics=metrics, info={"n_train": n_train, **dict(info)}, make_current=make_current)


def test_training_section_drives_the_threshold_message(tmp_path, capsys):
    # 10 labels per class, of which the random gold reserve holds 1 per class (hash of the id): 9 train each
    cfg = make_project(tmp_path, min_per_class=19)
    code, out, err = cli(["train", "-c", str(cfg)], capsys)
    assert code == 1 and out == ""
    assert err == ("Error: not training yet: a run starts when the fast model beats zero-shot on the random reserve in "
                   "90% of resamples (no fast model or gold labels yet) or when at most half of the 57 labels 19 per "
                   "class asks for are short (30 short now, in 3 classes; due at 28: business needs 10 more, "
                   "sports needs 10 more, tech needs 10 more); label more or pass --force\n")
    # at 18 per class, 27 of 54 are short: half the count is there, and the run trains without --force
    code, out, err = cli(["train", "-c", str(cfg), "--set", "training.min_per_class=18"], capsys)
    assert code == 0, err
    assert re.match(r"run \S+ \(logreg\): trained on 27 human labels \(1 random labels held out for calibration, "
                    r"too few to calibrate on\)", out)


def test_threshold_message_reads_well_at_150_classes():
    from labeler.loop.runs import short_message

    short = {f"intent_{i:03d}": (i % 7) + 1 for i in range(150)}
    message = short_message(short, 8)
    assert message.startswith("not enough labels to train (8 per class): 150 of the classes are short, ")
    assert message.count("needs") == 5 and "and 145 more classes (" in message and len(message) < 400


def test_status_uses_training_min_per_class(tmp_path):
    from labeler.status import status, summary_lines

    config = load_config(make_project(tmp_path, min_per_class=12), ["argilla.url=http://127.0.0.1:9"])
    st = status(config)
    thr = st["training_threshold"]
    assert (thr["min_per_class"], thr["met"], thr["short"]) == (12, False, {"sports": 3, "business": 3, "tech": 3})
    assert st["labeled_per_split"] == {"train": 27, "gold": 2, "calib": 1}
    # no run yet, single-label: the verdict counts the calibration label too
    assert st["gold"]["enough"] is False and st["gold"]["message"] == (
        "not enough random labels for a verdict: 3 of 50 (gold 2 + calibration 1) (about 5 more batches of 50 new records)")
    lines = summary_lines(st)
    assert f"gold: {st['gold']['message']}" in lines
    assert "labeled: 30 (train 27, gold 2, calibration 1)" in lines[1] and len(lines) < 12
    assert "pushed: n/a  labeled" in lines[1] and lines[2].startswith("server: ")  # the server at :9 is unreachable
    assert st["watcher"] is None and not any(line.startswith("watcher:") for line in lines)

    from labeler.watch.state import WatchState

    WatchState(processed=["a|u|t"], refreshes=2, last_refresh=0.0, backlog=3, mode="polling").save(tmp_path / "state")
    lines = summary_lines(status(config))
    assert sum(line.startswith("watcher:") for line in lines) == 1
    assert any(line.startswith("watcher: not running; 2 refreshes, last ") and line.endswith(
        " ago; backlog 3 answers (1 processed)") for line in lines)


def test_no_labels_yet_is_one_line(tmp_path, capsys):
    cfg = make_project(tmp_path)
    (tmp_path / "state" / "labels.parquet").unlink()
    code, _, err = cli(["train", "-c", str(cfg)], capsys)
    assert code == 1 and err.startswith("Error: no human labels yet at ") and err.count("\n") == 1


def test_runs_lists_and_sets_current(tmp_path, capsys):
    cfg = make_project(tmp_path)
    config = load_config(cfg)
    code, out, _ = cli(["runs", "-c", str(cfg)], capsys)
    assert code == 0 and out == f"no runs under {tmp_path / 'state' / 'runs'}; train one with `labeler train`\n"
    first = fake_run(config, 0.5, 0.4, 20)
    second = fake_run(config, 0.75, 0.7, 24, n=12, info={"final_fit": {"folds": 5}})
    code, out, _ = cli(["runs", "-c", str(cfg)], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["run", "backend", "created", "n_train", "accuracy", "macro_f1", "gold", "n"]
    assert lines[1].split() == [first.run_id, "logreg", first.info["created_at"], "20", "0.500", "0.400", "n/a"]
    assert lines[2].split() == ["*", second.run_id, "logreg", second.info["created_at"], "24", "0.750", "0.700", "12",
                                "(final", "fit:", "cross-fitted)"]
    from labeler.loop.run_lines import runs_table
    from labeler.loop.runs import list_project_runs  # multi-label: exact match, micro- and macro-F1

    assert runs_table(list_project_runs(config), multi_label=True).splitlines()[0].split() == [
        "run", "backend", "created", "n_train", "exact_match", "micro_f1", "macro_f1", "gold", "n"]
    code, out, err = cli(["runs", "-c", str(cfg), "--set-current", second.run_id], capsys)  # a final fit: said
    assert (code, out) == (0, f"current run: {second.run_id}\n") and err.startswith("note: a final fit trained on the gold")
    code, out, err = cli(["runs", "-c", str(cfg), "--set-current", first.run_id], capsys)
    assert (code, out, err) == (0, f"current run: {first.run_id}\n", "")
    _, out, _ = cli(["runs", "-c", str(cfg)], capsys)
    assert out.splitlines()[1].startswith(f"* {first.run_id} ") and out.splitlines()[2].startswith(f"  {second.run_id} ")
    code, _, err = cli(["runs", "-c", str(cfg), "--set-current", "nope"], capsys)
    assert code == 1 and err == f"Error: no run 'nope' under {tmp_path / 'state' / 'runs'}; `labeler runs` lists them\n"


def test_suggestion_agent_rule():
    from labeler.loop.join import suggestion_agent

    w = {"emb": 0.05, "kw": 0.05, "run": 0.9}
    assert suggestion_agent(w, {"emb": True, "kw": True, "run": True}, "run", "ensemble") == "run"
    assert suggestion_agent({**w, "run": 0.5}, {"emb": True, "kw": True, "run": True}, "run", "ensemble") == "ensemble"
    # the others abstain or weigh nothing: the run is the sole source
    assert suggestion_agent({**w, "run": 0.5}, {"emb": False, "kw": False, "run": True}, "run", "ensemble") == "run"
    assert suggestion_agent({"emb": 0.0, "run": 1.0}, {"emb": True, "run": True}, "run", "ensemble") == "run"
    assert suggestion_agent(w, {"emb": True, "kw": True}, None, "ensemble") == "ensemble"


@pytest.mark.slow
def test_train_then_compare_through_the_cli(tmp_path, capsys):
    cfg = make_project(tmp_path, min_per_class=8)
    code, out, err = cli(["train", "-c", str(cfg)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    # 27 human training labels (the 3 reserve records are 2 gold + 1 calibration: too few to calibrate on,
    # still held out); gold is 2 labels: far below min_gold, so no verdict
    run_id = re.match(r"run (\S+) \(logreg\): trained on 27 human labels \(1 random labels held out for "
                      r"calibration, too few to calibrate on\), "
                      r"evaluated on 2 random gold labels", lines[0]).group(1)
    assert re.fullmatch(r"  gold accuracy: \d\.\d{3} \(95% CI \d\.\d{3}\.\.\d\.\d{3}, n=2\)", lines[1])
    # the run held its calibration record out, so the verdict counts it with gold
    assert lines[3] == ("verdict: no verdict: not enough random labels for a verdict: 3 of 50 (gold 2 + calibration 1) "
                        "(about 5 more batches of 50 new records)")
    assert lines[4].startswith(f"run {run_id} is now current")
    out_dir = tmp_path / "report"
    code, out, err = cli(["compare", "-c", str(cfg), "--out", str(out_dir), "--set", "training.min_gold=2"], capsys)
    assert code == 0, err
    assert "keywords" in out and run_id in out and f"report: {out_dir / 'report.md'}" in out
    assert "no verdict" not in out
    report = json.loads((out_dir / "report.json").read_text())
    # the suggestions annotators see (the run joined with keywords) are scored too; the headline stays on keywords
    assert set(report["systems"]) == {"keywords", run_id, "suggestions"} and report["n"] == 3  # gold 2 + calib 1
    assert report["systems"]["keywords"]["kind"] == "rules" and report["systems"][run_id]["kind"] == "fine-tuned"
    assert report["systems"]["suggestions"]["kind"] == "joined" and report["notes"] == [
        f"suggestions: {run_id} joined with keywords; the join weights cross-fitted: each of 5 gold folds is scored "
        "with weights fitted on the others"]
    assert f"\n- {report['notes'][0]}\n" in (out_dir / "report.md").read_text()  # under the systems table
    assert f"fine-tuned {run_id} does not beat rules keywords: " in out
    assert f"suggestions: {run_id} joined with keywords; the join weights cross-fitted: each of 5 gold folds is " \
           "scored with weights fitted on the others" in out.splitlines()
    assert (out_dir / "metrics.png").exists() and (out_dir / "report.md").read_text().startswith("# Comparison")
    # the run joins the signals at bootstrap; weights are fitted on gold only once min_gold gold labels exist
    from labeler.loop.scoring import bootstrap

    _, scores = bootstrap(load_config(cfg), progress=False)
    assert scores.run_id == run_id and set(scores.signals) == {"keywords", run_id}
    assert scores.note == (f"join with configured weights, {run_id} weight 1: not enough gold labels to fit the join "
                           "weights: 2 of 50; the pool holds 2 gold records in all (queue.gold_share 0.2 of 30 records, "
                           "33% of them kept for calibration): add records, or set training.min_gold to 2 or fewer")
    _, scores = bootstrap(load_config(cfg, ["training.min_gold=2"]), progress=False)
    assert scores.note.startswith("join: weights fitted on 2 random gold labels (keywords ")
    assert set(scores.weights) == {"keywords", run_id} and sum(scores.weights.values()) == pytest.approx(1)
    assert np.allclose(scores.P.sum(1), 1)
    # replace: the run is the only weighted signal, or the note says why not
    _, scores = bootstrap(load_config(cfg, ["training.mode=replace", "training.min_gold=2"]), progress=False)
    replaced = scores.note.startswith(f"replace: run {run_id} beats the zero-shot ensemble (")
    assert replaced or scores.note.startswith(f"replace refused, run {run_id} does not clearly beat")
    assert (scores.weights == {"keywords": 0.0, run_id: 1.0}) == replaced


@pytest.mark.slow
def test_force_without_gold_succeeds_with_a_warning_and_the_run_is_current(tmp_path, capsys):
    """``--force`` means "train now although no run is due": the run is registered and made current, the missing
    gold is a warning line, and the exit code says success (issue 24, item 2)."""
    cfg = make_project(tmp_path, min_per_class=50)
    sets = ["--set", "queue.gold_share=0"]
    code, out, err = cli(["train", "-c", str(cfg), *sets], capsys)
    assert code == 1 and err.startswith("Error: not training yet: ") and err.endswith("; label more or pass --force\n")
    code, out, err = cli(["train", "-c", str(cfg), *sets, "--force"], capsys)
    assert code == 0, err
    run_id = re.match(r"run (\S+) \(logreg\): trained on 30 human labels", out).group(1)
    assert err == ("warning: no verdict for this run: not enough gold labels for a verdict: 0 of 50 random gold "
                   "labels (queue.gold_share is 0: no batch adds gold; set it above 0)\n")
    assert out.splitlines()[-1].startswith(f"run {run_id} is now current")
    code, out, _ = cli(["runs", "-c", str(cfg)], capsys)
    assert out.splitlines()[1].startswith(f"* {run_id} ")
    from labeler.status import status, summary_lines

    lines = summary_lines(status(load_config(cfg, ["queue.gold_share=0", "argilla.url=http://127.0.0.1:9"])))
    assert f"current run: {run_id} (logreg, 30 training labels), no gold labels to score it yet" in lines


def test_status_shows_the_current_run_and_when_the_next_one_starts(tmp_path):
    from labeler.status import status, summary_lines

    config = load_config(make_project(tmp_path, min_per_class=19), ["argilla.url=http://127.0.0.1:9"])
    lines = summary_lines(status(config))
    assert "current run: none yet (suggestions come from the zero-shot signals and the fast model)" in lines
    from labeler.status import current_run_line  # a final fit made current: its numbers are cross-fitted, not gold

    final = {"run_id": "r", "backend": "logreg", "n_train": 30, "n_gold": 12, "metric": "accuracy", "value": 0.75,
             "ci": {"lo": 0.5, "hi": 0.9}, "final_fit": True}
    assert current_run_line(final) == ("current run: r (logreg, 30 training labels), cross-fitted accuracy 0.750 "
                                       "(95% CI 0.500..0.900, n=12)")
    assert [line for line in lines if line.startswith("next run: ")] == [
        "next run: not training yet: a run starts when the fast model beats zero-shot on the random reserve in 90% of "
        "resamples (no fast model or gold labels yet) or when at most half of the 57 labels 19 per class asks for are "
        "short (30 short now, in 3 classes; due at 28: business needs 10 more, sports needs 10 more, tech "
        "needs 10 more)"]
    run = fake_run(config, 0.75, 0.7, 24)
    st = status(config)
    assert st["current_run"]["run_id"] == run.run_id
    assert f"current run: {run.run_id} (logreg, 24 training labels), no gold labels to score it yet" in \
        summary_lines(st)
    (tmp_path / "met").mkdir()
    lines = summary_lines(status(load_config(make_project(tmp_path / "met", min_per_class=9),
                                             ["argilla.url=http://127.0.0.1:9"])))
    assert "next run: due now (every class has at least 9 training labels); `labeler round` or `labeler train` " \
           "starts it" in lines
    (tmp_path / "half").mkdir()
    lines = summary_lines(status(load_config(make_project(tmp_path / "half", min_per_class=18),
                                             ["argilla.url=http://127.0.0.1:9"])))
    assert "next run: due now (half the labels 18 per class asks for are there (27 of 54 short, at most 27): " \
           "training can be expected to help); `labeler round` or `labeler train` starts it" in lines


def test_the_fast_models_verdict_on_gold_makes_a_run_due(tmp_path, monkeypatch):
    """The evidence rule through the project: a fast model fitted on the human training labels against the
    zero-shot ensemble (scores.npz) on the answered random reserve; classes below the floor do not block."""
    import pandas as pd

    from labeler.data import load_pool
    from labeler.loop.policy import project_policy
    from labeler.project import Project
    from labeler.loop.runs import fast_model_evidence, trigger
    from labeler.loop.pool_matrices import Scores

    config = load_config(make_project(tmp_path, min_per_class=50, min_gold=5, calib_share=0.0),
                         ["queue.gold_share=0.5"])
    policy = project_policy(config)
    pool = load_pool(config)
    truth = dict(zip(*pd.read_parquet(tmp_path / "state" / "labels.parquet")[["id", "label"]].values.T))
    y = np.array([LABELS.index(truth[i]) for i in pool.ids])
    wrong = np.eye(3)[(y + 1) % 3]  # a zero-shot signal that is always wrong
    assert trigger(config, policy).reason.startswith(
        "not training yet: a run starts when the fast model beats zero-shot on the random reserve in 90% of resamples "
        "(no fast model or gold labels yet)")
    Scores(ids=pool.ids, P=wrong, agreement=np.ones(len(y)), signals={"keywords": wrong}).save(Project(config).scores)
    n_gold = sum(policy.reserve.split_of(i) == "gold" for i in pool.ids)
    assert 5 <= n_gold < 30
    ev = fast_model_evidence(config, policy)
    # Newcombe's paired score interval: 13 of 14 right against 0 of 14, phi 0, so lo = 13/14 - sqrt((13/14 - 0.685313)^2
    # + 0.215311^2) and hi = Wilson's upper end for 13 of 14; p_value: the share of bootstrap resamples with no gain
    assert (ev.diff, ev.lo, ev.hi, ev.n, ev.p_value) == (pytest.approx(13 / 14), pytest.approx(0.603712, abs=1e-6),
                                                         pytest.approx(0.987278, abs=1e-6), 14, 0.0)
    assert n_gold == 14
    # the data file changed since bootstrap (a pool read afresh, its rows not the scored ones): no evidence until rescored
    from labeler.data.records import Pool

    assert fast_model_evidence(config, policy, Pool(pool.records[::-1], {}, len(pool), pool.text_fields)) is None
    d = trigger(config, policy)
    assert (d.due, d.rule) == (True, "evidence") and d.reason == (
        f"the fast model vs zero-shot on {n_gold} random reserve labels: {ev.diff:+.3f} accuracy (95% CI "
        f"{ev.lo:+.3f}..{ev.hi:+.3f}, better in 100% of resamples): training can be expected to help")
    # `labeler round` asks once a round and hands the answer (and the pool it read) to the train step: not asked again
    from labeler.loop import runs

    monkeypatch.setattr(runs, "fast_model_evidence", lambda *a, **k: pytest.fail("the evidence was fitted twice"))
    run = runs.train_project(config, policy=policy, decision=d, pool=pool, n_resamples=50)
    assert run.info["n_train"] == sum(policy.reserve.split_of(i) == "train" for i in pool.ids) == 16


@pytest.mark.slow
def test_final_fit_trains_on_every_label_and_reports_a_cross_fitted_accuracy(tmp_path, capsys):
    cfg = make_project(tmp_path, min_per_class=50)
    code, out, err = cli(["train", "-c", str(cfg), "--final-fit", "3"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "final fit: the model on every label, then 3 cross-fitted folds: up to 4 logreg fits"
    assert not [line for line in lines if line.startswith("  fit ")]  # a logreg fit takes a second: no line each
    lines = lines[1:]
    run_id = re.match(r"run (\S+) \(logreg, final fit\): trained on all 30 human labels, gold and calibration "
                      r"included in \d+\.\ds$", lines[0]).group(1)
    assert re.fullmatch(r"  cross-fitted accuracy: \d\.\d{3} \(95% CI \d\.\d{3}\.\.\d\.\d{3}, n=3; 3 folds over the "
                        r"random reserve, each scored by a model that never saw it\)", lines[1])
    assert lines[-1].startswith(f"run {run_id} registered, not current: it trained on the gold labels")
    from labeler.loop.runs import current_run, registry

    config = load_config(cfg)
    assert current_run(config) is None
    run = registry(config).load(run_id)
    assert run.info["final_fit"] == {"folds": 3, "n_reserve": 3} and run.info["n_train"] == 30
    code, out, err = cli(["train", "-c", str(cfg), "--final-fit"], capsys)  # no K: the single-label default
    assert code == 0, err
    assert registry(config).load(re.search(r"^run (\S+) \(", out, re.M).group(1)).info["final_fit"]["folds"] == 5
    assert run.metrics["estimate"].startswith("cross-fitted: 3 folds over 3 random reserve labels")
    # compare never scores a final fit on the gold labels it trained on (it read near perfect there)
    code, out, err = cli(["compare", "-c", str(cfg), "--all-runs", "--out", str(tmp_path / "rep")], capsys)
    assert code == 0, err
    assert run_id not in out.split("left out:")[0] and out.count("left out: run ") == 2
    assert (f"left out: run {run_id} (a final fit: it trained on the gold labels; its cross-fitted metrics are in "
            "`labeler runs` and its model card)") in out.splitlines()
    assert set(json.loads((tmp_path / "rep" / "report.json").read_text())["systems"]) == {"keywords"}


def test_final_fit_with_one_fold_is_one_line(tmp_path, capsys):
    cfg = make_project(tmp_path)
    code, out, err = cli(["train", "-c", str(cfg), "--final-fit", "1"], capsys)
    assert code == 2 and "Error: Invalid value for --final-fit: K must be 2 to 20 folds, got 1" in err


def test_status_says_a_due_run_waits_for_new_labels_when_the_current_one_has_them_all(tmp_path, capsys):
    # `labeler round` does not retrain on the labels a run was trained on: status must not say "due now" then
    from labeler.status import status, summary_lines

    cfg = make_project(tmp_path, min_per_class=9)
    config = load_config(cfg, ["argilla.url=http://127.0.0.1:9"])
    assert any(line.startswith("next run: due now (") for line in summary_lines(status(config)))
    code, out, err = cli(["train", "-c", str(cfg)], capsys)
    assert code == 0, err
    run_id = out.split()[1]
    st = status(config)
    assert st["next_run"]["unchanged_since"] == run_id
    assert f"next run: with the next new labels (every class has at least 9 training labels; run {run_id} was " \
           "trained on every label there is)" in summary_lines(st)
    assert re.search(rf"current run: {run_id} \(logreg, 27 training labels\), gold accuracy \d\.\d{{3}} \(95% CI ",
                     "\n".join(summary_lines(st)))


def test_a_multi_label_fast_models_evidence_is_the_verdicts_micro_f1_on_gold(tmp_path):
    """Multi-label, the first run's evidence is judged as `compare` judges: micro-F1 on the gold labels (calibration
    only fits the cuts), not exact match at one 0.5 cut on gold and calibration together."""
    from labeler.data import load_pool
    from labeler.loop.policy import project_policy
    from labeler.loop.pool_matrices import Scores
    from labeler.loop.runs import fast_model_evidence, trigger
    from labeler.project import Project

    cfg = make_project(tmp_path, min_per_class=50, min_gold=5)
    (tmp_path / "state" / "labels.parquet").unlink()
    make_labels(multi=True).assign(agreement=1.0).to_parquet(tmp_path / "state" / "labels.parquet")
    config = load_config(cfg, ["queue.gold_share=0.5", "task.multi_label=true"])
    policy = project_policy(config)
    pool = load_pool(config)
    truth = dict(zip(make_labels(multi=True)["id"], make_labels(multi=True)["labels"]))
    Y = np.array([[int(lab in truth[i]) for lab in LABELS] for i in pool.ids])
    wrong = np.where(Y == 1, 0.1, 0.9)  # a zero-shot signal that is always wrong
    Scores(ids=pool.ids, P=wrong, agreement=np.ones(len(Y)), signals={"keywords": wrong}).save(Project(config).scores)
    splits = policy.reserve.splits(pool.ids)
    n_gold = sum(s == "gold" for s in splits.values())
    assert 5 <= n_gold < sum(s in ("gold", "calib") for s in splits.values())
    ev = fast_model_evidence(config, policy)
    assert ev.metric == "micro-F1" and ev.n == n_gold and ev.diff > 0.5 and ev.lo > 0
    d = trigger(config, policy)
    assert (d.due, d.rule) == (True, "evidence") and \
        f"on {n_gold} random reserve labels: {ev.diff:+.3f} micro-F1 (95% CI " in d.reason


@pytest.mark.slow
def test_a_run_worse_than_zero_shot_says_how_to_bring_back_the_previous_one(tmp_path, capsys, monkeypatch):
    from types import SimpleNamespace

    from labeler.evaluation import compare_on_gold

    cfg = make_project(tmp_path, min_per_class=8)
    code, out, err = cli(["train", "-c", str(cfg), "--force"], capsys)
    assert code == 0, err
    first = re.match(r"run (\S+) ", out).group(1)
    worse = "fine-tuned x is worse than zero-shot keywords by -0.174 accuracy (95% CI -0.275..-0.085) on 59 gold labels"
    monkeypatch.setattr(compare_on_gold, "compare_project",
                        lambda *a, **k: SimpleNamespace(result=SimpleNamespace(verdict=worse)))
    code, out, err = cli(["train", "-c", str(cfg), "--force"], capsys)
    assert code == 0 and f"verdict: {worse}" in out.splitlines()
    assert err == (f"note: the run is current all the same (its join weight is fitted on gold); `labeler runs "
                   f"--set-current {first}` brings back the previous one\n")


@pytest.mark.slow
def test_compare_leaves_a_pruned_run_out_and_says_so(tmp_path, capsys):
    from labeler.evaluation.compare_on_gold import compare_project
    from labeler.loop.runs import train_project

    cfg = make_project(tmp_path, min_per_class=2)
    config = load_config(cfg)
    old = train_project(config, backend="logreg", n_resamples=50)
    new = train_project(config, backend="logreg", n_resamples=50, force=True)
    code, out, _ = cli(["runs", "-c", str(cfg), "--prune", "--keep", "0"], capsys)
    assert code == 0 and out.startswith("deleted the models of 1 run (") and old.run_id in out
    result = compare_project(config, all_runs=True, write=False)
    assert result.left_out == [f"run {old.run_id} (its model was deleted by `labeler runs --prune`; its metrics are "
                               "in `labeler runs`)"]
    assert result.result.primary == new.run_id  # the run with a model is scored


def test_a_setfit_final_fit_reports_each_fit_as_it_ends(tmp_path, capsys, monkeypatch):
    """A multi-label SetFit final fit is 11 fits, minutes on a CPU: the start line says how many, each fit says when
    it ended (a logreg one, a second each, does not: the test above)."""
    from types import SimpleNamespace

    from labeler.loop import run_lines, runs

    cfg = make_project(tmp_path, min_per_class=2)

    def fake_train(config, backend=None, progress=None, **kw):
        assert backend == "setfit" and kw["final_fit"] == 3
        for i, seconds in enumerate((31.0, 28.5, 29.25, 30.0), start=1):
            progress(i, 4, seconds)
        return SimpleNamespace(run_id="run-ff", path=tmp_path / "run-ff")

    monkeypatch.setattr(runs, "train_project", fake_train)
    monkeypatch.setattr(run_lines, "describe_run", lambda run: [])
    code, out, err = cli(["train", "-c", str(cfg), "--final-fit", "3", "--backend", "setfit"], capsys)
    assert code == 0, err
    assert out.splitlines()[:5] == ["final fit: the model on every label, then 3 cross-fitted folds: up to 4 setfit fits",
                                    "  fit 1 of 4 done in 31.0 s", "  fit 2 of 4 done in 28.5 s",
                                    "  fit 3 of 4 done in 29.2 s", "  fit 4 of 4 done in 30.0 s"]
