"""Issue 26 item 1: a single-label verdict counts the calibration labels with gold (nothing fitted on them moves
an argmax), unless a compared run trained or early-stopped on them; multi-label keeps them for its cuts."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from labeler.cli import main
from labeler.config import load_config
from labeler.evaluation import compare_on_gold
from labeler.evaluation.compare_on_gold import compare_project
from labeler.evaluation.gold import CALIB, GOLD, GoldReserve, calibration_untouched, verdict_splits
from labeler.loop.policy import project_reserve

from .test_compare_many_classes import make_project, write_labels


def fake_run(run_id: str = "run-1", backend: str = "logreg", n_calib: int = 31, **info):
    return SimpleNamespace(run_id=run_id, backend=backend, info={"n_calib": n_calib, **info})


def test_enough_counts_calibration_only_when_asked():
    r = GoldReserve(0.2)  # 15 of a batch of 77 come from the reserve
    assert r.enough(34, 50, 77) == (False, "not enough gold labels for a verdict: 34 of 50 random gold labels "
                                           "(about 2 more batches of 77 new records)")
    assert r.enough(34, 50, 77, n_calib=17) == (True, "51 random labels (gold 34 + calibration 17)")
    assert r.enough(34, 50, 77, n_calib=10) == (False, "not enough random labels for a verdict: 44 of 50 "
                                                       "(gold 34 + calibration 10) (about 1 more batch of 77 new records)")


def test_a_pool_too_small_for_min_gold_is_told_so_not_sent_for_more_batches():
    r = GoldReserve(0.2)
    ids = [f"r{i}" for i in range(62)]
    gold, calib = r.held(ids, (GOLD,)), r.held(ids, (CALIB,))
    assert (gold, calib) == (sum(r.split_of(i) == GOLD for i in ids), sum(r.split_of(i) == CALIB for i in ids))
    assert (gold, calib) == (8, 4)  # 12 of 62 in the reserve
    assert r.enough(3, 50, 50, ids=ids) == (False, "not enough gold labels for a verdict: 3 of 50; the pool holds 8 "
                                                   "gold records in all (queue.gold_share 0.2 of 62 records, 33% of them "
                                                   "kept for calibration): add records, or set training.min_gold to 8 "
                                                   "or fewer")
    assert r.enough(3, 50, 50, n_calib=2, ids=ids)[1] == ("not enough random labels for a verdict: 5 of 50; the pool "
                                                          "holds 12 random records in all (queue.gold_share 0.2 of 62 "
                                                          "records): add records, or set training.min_gold to 12 or fewer")
    assert r.enough(0, 50, 50, ids=ids[:2], purpose="to fit the join weights")[1] == (
        "not enough gold labels to fit the join weights: 0 of 50; the pool holds 0 gold records in all "
        "(queue.gold_share 0.2 of 2 records, 33% of them kept for calibration): add records")
    # a pool whose reserve can hold min_gold keeps the pace; enough is enough whatever the pool
    big = [f"r{i}" for i in range(1000)]
    assert r.enough(34, 50, 77, ids=big) == r.enough(34, 50, 77)
    assert r.enough(8, 8, 50, ids=ids) == (True, "8 random gold labels")


def test_which_runs_leave_calibration_untouched():
    assert calibration_untouched(fake_run()) is None  # held out, a temperature fitted on it: argmax unchanged
    assert calibration_untouched(fake_run(n_calib=0)) == "run run-1 trained on the calibration labels"  # an old run
    # runs that record "calibrated" held calibration out at any count, even too few to calibrate on
    assert calibration_untouched(fake_run(n_calib=7, calibrated=False)) is None
    assert calibration_untouched(fake_run(n_calib=0, calibrated=False)) is None
    assert calibration_untouched(fake_run(final_fit={"folds": 5})) == "run run-1 trained on the calibration labels"
    assert calibration_untouched(fake_run(backend="transformers")) == \
        "run run-1 (transformers) early-stops on the calibration labels"
    single = SimpleNamespace(task=SimpleNamespace(multi_label=False))
    multi = SimpleNamespace(task=SimpleNamespace(multi_label=True))
    assert verdict_splits(single) == ((GOLD, CALIB), "")
    assert verdict_splits(single, [fake_run(), fake_run("run-2", "setfit")]) == ((GOLD, CALIB), "")
    assert verdict_splits(single, [fake_run(), fake_run("run-2", n_calib=0)]) == \
        ((GOLD,), "run run-2 trained on the calibration labels")
    assert verdict_splits(multi, [fake_run()]) == ((GOLD,), "multi-label: the calibration labels fit the per-label cuts")


class _Run:
    """A run that predicts ``truth[text]`` (text -> label index; a few texts are shared by records of both labels)."""

    labels = ["intent_000", "intent_001"]
    multi_label, frozen_body, data_fingerprint = False, None, "fixed"  # scored through the prediction cache

    def __init__(self, truth: dict, n_calib: int, backend: str = "logreg"):
        self.run_id, self.backend, self.info, self.truth = "run-x", backend, {"n_calib": n_calib}, truth

    def predict_proba(self, texts):
        return np.eye(2)[[self.truth[t] for t in texts]]


class _Registry:
    history_path = "/nonexistent/history.jsonl"  # no training history: the report draws no learning curve

    def __init__(self, run):
        self.run = run

    def run_ids(self):
        return [self.run.run_id]

    def current_id(self):
        return self.run.run_id

    def load(self, rid):
        return self.run


@pytest.fixture
def project(tmp_path):
    """Two labels, 120 records, 95% in the reserve, a third of it calibration: 84 gold + 31 calibration."""
    cfg, _, truth, texts = make_project(tmp_path, 2, 60, exact_right=0.8, noisy_right=0.5)
    config = load_config(cfg, ["training.calib_share=0.3333", "training.min_gold=100"])
    split = project_reserve(config).splits(list(truth))
    write_labels(cfg, [i for i in truth if split[i] != "train"], truth, texts)
    return config, split, {texts[i]: int(truth[i][-3:]) for i in truth}, cfg


@pytest.mark.parametrize("n_calib,backend", [(31, "logreg"), (0, "logreg"), (31, "transformers")])
def test_verdict_flips_when_calibration_counts(project, monkeypatch, n_calib, backend):
    config, split, by_text, _ = project
    assert (sum(s == GOLD for s in split.values()), sum(s == CALIB for s in split.values())) == (84, 31)
    monkeypatch.setattr(compare_on_gold, "registry", lambda config: _Registry(_Run(by_text, n_calib, backend)))
    cp = compare_project(config, write=False, n_resamples=200)
    res = cp.result
    if n_calib and backend == "logreg":  # 115 of min_gold 100: a verdict, on gold + calibration
        assert (cp.enough, res.enough_gold, res.n, cp.n_gold, cp.n_calib, cp.gold_only) == (True, True, 115, 84, 31, "")
        assert res.verdict == ("fine-tuned run-x beats rules exact by +0.148 accuracy (95% CI +0.049..+0.244) "
                               "on 115 random labels (gold 84 + calibration 31)")
        assert res.rule.startswith("accuracy, run-x minus each other system on the same random records "
                                   "(gold + calibration) (")
        # ECE stays on gold alone (a run's temperature is fitted on calibration)
        assert res.systems["run-x"].metrics["ece_n"] == 84 and res.systems["run-x"].metrics["accuracy"] == pytest.approx(100 / 115)
        assert res.systems["exact"].metrics["accuracy"] == pytest.approx(83 / 115)
    else:  # the run trained (or early-stopped) on calibration: gold alone, 84 of 100, no verdict
        why = ("run run-x trained on the calibration labels" if not n_calib else
               "run run-x (transformers) early-stops on the calibration labels")
        assert (cp.enough, res.n, cp.n_gold, cp.n_calib, cp.gold_only) == (False, 84, 84, 0, why)
        assert res.verdict == ("no verdict: not enough gold labels for a verdict: 84 of 100 random gold labels "
                               "(about 1 more batch of 50 new records)")


@pytest.mark.parametrize("n_calib", [31, 0])
def test_compare_cli_says_what_the_verdict_is_scored_on(project, monkeypatch, capsys, tmp_path, n_calib):
    _, _, by_text, cfg = project
    monkeypatch.setattr(compare_on_gold, "registry", lambda config: _Registry(_Run(by_text, n_calib)))
    main(["compare", "-c", str(cfg), "--out", str(tmp_path / "report"), "--set", "training.calib_share=0.3333",
          "--set", "training.min_gold=100"])
    out = capsys.readouterr().out
    md = (tmp_path / "report" / "report.md").read_text()
    if n_calib:
        assert "scored on 115 random labels (gold 84 + calibration 31); ECE on gold alone" in out.splitlines()
        assert "gold: 115 random labels (gold 84 + calibration 31): human labels on records drawn uniformly at " \
               "random from the pool (never trained on); ECE on the gold labels alone" in md
    else:
        assert "scored on 84 random gold labels (calibration left out: run run-x trained on the calibration labels)" \
            in out.splitlines()
        assert "gold: 84 random gold labels: human labels on records drawn uniformly at random from the pool (never " \
               "trained on); calibration left out (run run-x trained on the calibration labels)" in md


def test_all_runs_with_an_older_run_says_the_current_one_alone_counts_calibration(project, monkeypatch):
    """An upgraded project: a run from before calibration was held out, beside the current one. ``--all-runs`` scores
    every system on gold alone and loses the verdict; it now says that without --all-runs calibration counts."""
    config, _, by_text, _ = project
    current, old = _Run(by_text, 31), _Run(by_text, 0)
    old.run_id = "run-old"

    class _Two(_Registry):
        def run_ids(self):
            return [old.run_id, current.run_id]

        def load(self, rid):
            return old if rid == old.run_id else current

    monkeypatch.setattr(compare_on_gold, "registry", lambda config: _Two(current))
    every = compare_project(config, all_runs=True, write=False, n_resamples=200)
    assert (every.n_gold, every.n_calib, every.gold_only) == (84, 0, (
        "run run-old trained on the calibration labels; without --all-runs the current run's verdict counts the "
        "calibration labels too"))
    alone = compare_project(config, write=False, n_resamples=200)
    assert (alone.n_gold, alone.n_calib, alone.gold_only, alone.enough) == (84, 31, "", True)
