"""``labeler predict --drift`` in words: the labels that moved are always named, 150 labels stay readable, a shift
counts only when chance rarely gives one that large, and (without enough unlabeled random pool texts for the run's
own predictions) the reference is random gold labels when there are enough, else the run's training labels, said to
be biased."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from labeler.config import load_config
from labeler.evaluation.drift import MIN_GOLD_REFERENCE, TABLE_ROWS, DriftReport, label_shift, reference_labels, words


def report(labels, ref, new, biased=False) -> DriftReport:
    tvd, psi = label_shift(new, ref)
    rep = DriftReport(
        model_id="run-1", log="batch.parquet", n=500, labels=labels, new_dist=list(new), ref_dist=list(ref), tvd=tvd,
        psi=dict(zip(labels, map(float, psi))), psi_total=float(psi.sum()), ks=0.01, ks_p=0.9, conf_new_median=0.8,
        conf_ref_median=0.8, conf_reference="40 gold texts", label_drift="major" if tvd >= 0.2 else "none",
        confidence_drift=False, label_reference="the reference", reference_biased=biased)
    rep.words = words(rep)
    return rep


def test_a_major_shift_spread_over_150_labels_still_names_the_movers():
    """The bug: each of many labels moved less than 2 points, so "most moved: ." listed nothing."""
    labels = [f"l{k:03d}" for k in range(150)]
    ref = np.full(150, 1 / 150)
    new = ref + np.r_[np.full(50, 0.006), np.full(50, -0.006), np.zeros(50)]
    rep = report(labels, ref, new)
    assert rep.tvd == pytest.approx(0.3)
    assert rep.words[0] == (f"Labels: major shift (TVD 0.30, PSI {rep.psi_total:.2f}); most moved: "
                            "l000 0.7% -> 1.3%, l001 0.7% -> 1.3%, l002 0.7% -> 1.3%, "
                            "and 97 more by half a point or more.")
    lines = rep.summary().splitlines()
    assert lines[0] == "drift of batch.parquet (500 predictions by run-1) against the reference"
    rows = lines[3:3 + TABLE_ROWS]
    assert [r.split()[0] for r in rows] == [f"l{k:03d}" for k in range(TABLE_ROWS)]
    assert lines[3 + TABLE_ROWS] == "  ... and 140 more labels (90 of them moved by half a point or more)"
    assert len(lines) == 3 + TABLE_ROWS + 1 + 1 + 1 + len(rep.words)


def test_few_labels_show_them_all_and_the_biggest_move_first():
    rep = report(["a", "b", "c"], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5])
    assert rep.words[0] == f"Labels: major shift (TVD 0.30, PSI {rep.psi_total:.2f}); most moved: a 50.0% -> 20.0%, " \
                           "c 20.0% -> 50.0%."
    lines = rep.summary().splitlines()
    assert [r.split()[0] for r in lines[3:6]] == ["a", "c", "b"] and "more labels" not in rep.summary()


def test_a_biased_reference_is_said_in_words():
    rep = report(["a", "b"], [0.5, 0.5], [0.5, 0.5], biased=True)
    assert rep.words[0].startswith("Labels: no shift") and rep.words[1].startswith("Confidence: no shift")
    assert rep.words[2] == "Reference: the reference; read the label figures as indicative."
    assert not any(w.startswith("Reference") for w in report(["a", "b"], [0.5, 0.5], [0.5, 0.5]).words)


def project(tmp_path, gold_share: float):
    """A project with 30 submitted labels (sports 12, business 12, tech 6); ``gold_share`` of the pool is the
    random gold reserve (``labeler.evaluation.gold``), none of it for calibration."""
    rows = [(f"{lab}-{j}", lab) for lab, n in (("sports", 12), ("business", 12), ("tech", 6)) for j in range(n)]
    state = tmp_path / "state"
    state.mkdir()
    pd.DataFrame({"id": [i for i, _ in rows], "text": [f"text {i}" for i, _ in rows], "label": [lab for _, lab in rows],
                  "labels": [[lab] for _, lab in rows], "status": "submitted"}).to_parquet(state / "labels.parquet")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({
        "data": {"path": "d.jsonl"}, "task": {"labels": ["sports", "business", "tech"]},
        "queue": {"gold_share": gold_share}, "training": {"calib_share": 0.0}, "project": {"dir": str(state)}}))
    return load_config(tmp_path / "p.yaml")


def gold_of(config) -> list[str]:
    from labeler.evaluation.gold import GOLD
    from labeler.loop.policy import project_reserve

    ids = pd.read_parquet(config.project.dir / "labels.parquet")["id"].tolist()
    return [i for i, split in project_reserve(config).splits(ids).items() if split == GOLD]


RUN = SimpleNamespace(run_id="run-1", info={"train_counts": {"sports": 6, "business": 3, "tech": 1}, "n_train": 10})


def test_the_reference_is_the_gold_labels_once_there_are_enough(tmp_path):
    config = project(tmp_path, 0.95)
    gold = gold_of(config)
    assert len(gold) >= MIN_GOLD_REFERENCE
    ref, what, biased = reference_labels(config, RUN)
    expected = [sum(g.startswith(lab) for g in gold) / len(gold) for lab in ("sports", "business", "tech")]
    assert ref.tolist() == pytest.approx(expected) and what == f"{len(gold)} random gold labels" and not biased


def test_too_few_gold_labels_fall_back_to_the_training_labels_and_say_so(tmp_path):
    config = project(tmp_path, 0.1)
    n = len(gold_of(config))
    assert n < MIN_GOLD_REFERENCE
    ref, what, biased = reference_labels(config, RUN)
    assert ref.tolist() == [0.6, 0.3, 0.1] and biased
    assert what == ("the run's 10 training labels (chosen by the queue because they were hard: a biased reference; "
                    f"{n} of 20 random gold labels needed for an unbiased one)")


def test_multi_label_reference_counts_none_of_these_once_per_text(tmp_path):
    # a batch whose texts lose their labels must show as a shift: "None of these" is one more category
    rows = [(f"r{j}", labs) for j, labs in enumerate([["sports"]] * 10 + [["sports", "tech"]] * 5 + [[]] * 15)]
    state = tmp_path / "state"
    state.mkdir()
    pd.DataFrame({"id": [i for i, _ in rows], "text": [f"text {i}" for i, _ in rows], "label": None,
                  "labels": [labs for _, labs in rows], "status": "submitted"}).to_parquet(state / "labels.parquet")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({
        "data": {"path": "d.jsonl"}, "task": {"labels": ["sports", "business", "tech"], "multi_label": True},
        "queue": {"gold_share": 0.95}, "training": {"calib_share": 0.0}, "project": {"dir": str(state)}}))
    config = load_config(tmp_path / "p.yaml")
    gold = set(gold_of(config))
    assert len(gold) >= MIN_GOLD_REFERENCE
    labs = dict(rows)
    counts = [sum("sports" in labs[g] for g in gold), 0, sum("tech" in labs[g] for g in gold),
              sum(not labs[g] for g in gold)]
    ref, _, biased = reference_labels(config, RUN)
    assert ref.tolist() == pytest.approx([c / sum(counts) for c in counts]) and counts[3] > 0 and not biased
    # too few gold: the run's training counts, with its "None of these" where it recorded them
    few = load_config(tmp_path / "p.yaml", ["queue.gold_share=0.05"])
    with_none = SimpleNamespace(run_id="run-2", info={**RUN.info, "train_none": 10})
    assert reference_labels(few, with_none)[0].tolist() == [0.3, 0.15, 0.05, 0.5]
    assert reference_labels(few, RUN)[0].tolist() == [0.6, 0.3, 0.1]  # a run saved before train_none: K entries


def test_chance_p_is_one_for_equal_mixes_small_for_a_real_shift_and_large_for_noise_over_150_labels():
    from labeler.evaluation.drift import chance_p

    assert chance_p([10, 10], 20, [30, 30], 60) == 1.0
    assert chance_p([90, 10], 100, [50, 50], 100) == pytest.approx(1 / 2001)  # no draw reaches TVD 0.4
    rng = np.random.default_rng(0)  # 300 predictions and 1,000 reference ones, both from one mix of 150 labels
    new, ref = rng.multinomial(300, np.full(150, 1 / 150)), rng.multinomial(1000, np.full(150, 1 / 150))
    tvd, _ = label_shift(new / 300, ref / 1000)
    assert tvd > 0.3 and chance_p(new, 300, ref, 1000) > 0.05  # a large TVD that chance gives often
    assert chance_p([5, 0], 5, [0, 0], 0) == 1.0


def test_no_clear_shift_says_chance_and_sample_size_in_words():
    labels = [f"l{k:03d}" for k in range(150)]
    rep = report(labels, np.full(150, 1 / 150), np.r_[np.full(75, 2 / 150), np.zeros(75)])
    rep.label_drift, rep.chance_p, rep.n = "none", 0.4, 300
    assert words(rep)[0] == ("Labels: no shift beyond chance (TVD 0.50, PSI "
                             f"{rep.psi_total:.2f}): chance alone gives a mix this different 40% of the time with "
                             "300 predictions over 150 labels.")
    rep.chance_p = 0.08
    assert words(rep)[0] == ("Labels: no clear shift (TVD 0.50, PSI "
                             f"{rep.psi_total:.2f}): chance alone gives a mix this different 8% of the time with "
                             "300 predictions over 150 labels; a larger batch would tell.")


def test_confidence_is_compared_with_the_random_reserve_texts_nobody_labeled_or_says_its_reference_is_surer():
    from labeler.evaluation.drift import MIN_CONFIDENCE_REFERENCE, Reference

    P = np.column_stack([np.linspace(0.5, 1.0, 200), np.linspace(0.5, 0.0, 200)])
    unlabeled = np.arange(200) % 4 != 0  # 150 nobody labeled
    reserve = np.arange(200) < 80  # the first 80 in the random reserve, 60 of them nobody labeled
    top, where = Reference(P, unlabeled, "pool", reserve).confidence(P.max(axis=1))
    assert where == "60 random reserve texts nobody labeled" and MIN_CONFIDENCE_REFERENCE == 50
    np.testing.assert_array_equal(top, P[unlabeled & reserve].max(axis=1))
    top, where = Reference(P, unlabeled, "pool", np.arange(200) < 40).confidence(P.max(axis=1))  # 30: too few
    assert where == ("150 pool texts nobody labeled (without the hard ones the queue took: surer than on the pool; "
                     "30 of 50 random reserve texts nobody labeled for an unbiased reference)")
    np.testing.assert_array_equal(top, P[unlabeled].max(axis=1))
