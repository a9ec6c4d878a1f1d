"""`labeler round` retrains a SetFit or transformers run once the human training labels grew by
``training.retrain_after`` (scoring such a run encodes the whole pool again), a logreg run at every change; `status`
says when; `watch.retrain_after`, where the key lived before, is still read."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from labeler.config import load_config
from labeler.evaluation.gold import TRAIN
from labeler.loop import runs
from labeler.loop.policy import project_policy
from labeler.loop.round import retrain_hold
from labeler.status import next_run_line


def _project(tmp_path, training: str = "{}", extra: str = ""):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {{path: {tmp_path / 'x.csv'}}}\ntask: {{labels: [a, b]}}\n"
                   f"project: {{dir: {tmp_path / 'state'}}}\ntraining: {training}\n{extra}")
    config = load_config(cfg)
    policy = project_policy(config)
    train = [rid for rid in (f"r{i}" for i in range(1000)) if policy.reserve.splits([rid])[rid] == TRAIN][:110]
    Path(config.project.dir).mkdir(parents=True)
    pd.DataFrame({"id": train, "text": [f"text {rid}" for rid in train], "label": ["a", "b"] * 55, "labels": [[]] * 110,
                  "status": "submitted"}).to_parquet(
        Path(config.project.dir) / "labels.parquet")
    return config, policy


def _run(monkeypatch, backend="setfit", n_train=100, **info):
    run = SimpleNamespace(run_id="run-1", backend=backend, labels=["a", "b"], multi_label=False,
                          data_fingerprint="before", info={"n_train": n_train, **info})
    monkeypatch.setattr(runs, "current_run", lambda config: run)
    return run


def test_retrain_at_is_the_first_count_past_the_growth():
    assert [runs.retrain_at(n, 0.25) for n in (0, 1, 4, 80, 100, 240)] == [1, 2, 5, 100, 125, 300]
    assert runs.retrain_at(10, 0.1) == 11 and runs.retrain_at(100, 0.0) == 101  # 10 x 1.1 is 11.000000000000002


def test_a_setfit_run_waits_for_a_quarter_more_labels_a_logreg_run_does_not(tmp_path, monkeypatch):
    config, policy = _project(tmp_path)
    assert runs.train_records(config, policy.reserve) == 110
    _run(monkeypatch)
    assert runs.growth_wait(config, policy) == ("run-1", 100, 110, 125)
    assert runs.growth_wait(config, policy, "transformers") is None  # another backend than the run's: train it now
    assert retrain_hold(config, policy) == (
        "not retraining yet: run run-1 trained on 100 human training labels, 110 now; the next setfit run at 125 "
        "(training.retrain_after 0.25: scoring a setfit run encodes the whole pool again); --force trains now")
    _run(monkeypatch, n_train=88)  # 88 x 1.25 = 110: due
    assert runs.growth_wait(config, policy) is None
    _run(monkeypatch, backend="logreg")
    assert runs.growth_wait(config, policy, "logreg") is None
    _run(monkeypatch, final_fit=True)  # a final fit counted gold and calibration too: any change retrains
    assert runs.growth_wait(config, policy) is None
    (tmp_path / "zero").mkdir()
    zero, zpolicy = _project(tmp_path / "zero", "{retrain_after: 0}")
    _run(monkeypatch)
    assert runs.growth_wait(zero, zpolicy) is None


def test_status_says_when_the_next_run_starts(tmp_path, monkeypatch):
    config, policy = _project(tmp_path, "{retrain_after: 0.5}")
    _run(monkeypatch)
    wait = runs.growth_wait(config, policy)
    st = {"next_run": {"due": True, "reason": "due", "unchanged_since": None,
                       "wait": dict(zip(("run_id", "n_before", "n_now", "at"), wait), retrain_after=0.5)}}
    assert next_run_line(st["next_run"]) == (
        "next run: at 150 human training labels, 110 now (run run-1 trained on 100; training.retrain_after 0.5); "
        "`labeler train` starts one now")


@pytest.mark.parametrize("both", [False, True])
def test_watch_retrain_after_of_older_configs_is_read_as_training_retrain_after(tmp_path, both):
    training = "{retrain_after: 0.1}" if both else "{}"
    config = load_config(_write(tmp_path, training, "watch: {retrain_after: 0.5, refresh_every: 7}\n"))
    assert config.training.retrain_after == (0.1 if both else 0.5) and config.watch.refresh_every == 7
    assert not hasattr(config.watch, "retrain_after")


def _write(tmp_path, training, extra):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {{path: {tmp_path / 'x.csv'}}}\ntask: {{labels: [a, b]}}\ntraining: {training}\n{extra}")
    return cfg


def test_round_waits_then_force_trains(tmp_path, monkeypatch):
    """`labeler round`'s train step with a SetFit run current and 10% more labels: no training, the line says why;
    ``--force`` trains."""
    from labeler.loop import round as rnd

    config, _ = _project(tmp_path)
    _run(monkeypatch)
    trained = []
    monkeypatch.setattr(rnd, "pull_labels", lambda config: (_ for _ in ()).throw(rnd.LabelerError("not found")))
    monkeypatch.setattr(rnd, "load_pool", lambda config: None)  # the round reads it once and hands it down
    monkeypatch.setattr(runs, "trigger", lambda config, policy, backend=None, pool=None: SimpleNamespace(due=True,
                                                                                                         reason="due"))
    monkeypatch.setattr(runs, "labels_unchanged", lambda config: None)
    monkeypatch.setattr(runs, "train_project", lambda config, **kw: trained.append(kw) or pytest.fail("trained"))
    monkeypatch.setattr(rnd, "bootstrap", lambda config, **kw: (SimpleNamespace(texts=[]), SimpleNamespace(
        ids=[], signals={}, method="weighted_mean", note=None, queue_note=None)))
    monkeypatch.setattr(rnd, "push_queue", lambda config, **kw: SimpleNamespace(summary=lambda: "pushed"))
    monkeypatch.setattr(rnd, "reading_lines", lambda config, texts: [])
    lines = []
    out = rnd.run_round(config, progress=False, echo=lines.append)
    assert out["trained"] is None and out["train_note"].startswith("not retraining yet: run run-1 trained on 100 ")
    assert lines[lines.index("[2/4] train") + 1] == "  " + out["train_note"] and not trained
    with pytest.raises(pytest.fail.Exception, match="trained"):
        rnd.run_round(config, force=True, progress=False, echo=lines.append)
    assert trained and trained[0]["force"] is True
