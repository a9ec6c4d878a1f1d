"""Simulation bookkeeping on hand-made data, summaries on hand-made curves, and the real loop through Argilla."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from labeler import simulate as sim
from labeler.config import validate_config
from labeler.loop.engine import Policy, WeakLabels
from labeler.simulate.driver import each_round
from labeler.evaluation.gold import GoldReserve
from labeler.errors import LabelerError

from .conftest import shared_dataset

REPO = Path(__file__).resolve().parents[1]
LABELS = ["a", "b", "c"]


# -- synthetic pool: three Gaussian blobs, a noisy "zero-shot" signal, no model needed ----------------
def synthetic(tmp_path: Path, n_pool: int = 150, n_eval: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, 8)) * 0.9

    def draw(n):
        y = rng.integers(0, 3, size=n)
        return centers[y] + rng.normal(size=(n, 8)), y

    X, y = draw(n_pool)
    X_eval, y_eval = draw(n_eval)
    logits = -((X[:, None, :] - centers[None]) ** 2).sum(-1) / 8.0 + rng.normal(scale=1.5, size=(n_pool, 3))
    P0 = np.exp(logits - logits.max(1, keepdims=True))
    P0 /= P0.sum(1, keepdims=True)
    config = validate_config({"data": {"path": "pool.jsonl", "label_field": "label"},
                              "task": {"labels": LABELS}, "project": {"dir": str(tmp_path / "proj")}},
                             tmp_path / "sim.yaml")
    data = sim.SimData(name="blobs", config=config, labels=LABELS, multi_label=False,
                       ids=[f"p{i}" for i in range(n_pool)], texts=[f"pool text {i}" for i in range(n_pool)], y=y,
                       eval_ids=[f"e{i}" for i in range(n_eval)], eval_texts=[f"eval text {i}" for i in range(n_eval)],
                       eval_y=y_eval)
    feats = sim.Features(X=X, X_eval=X_eval, signals={"zero-shot": P0}, P0=P0, P0_eval=np.full((n_eval, 3), 1 / 3))
    return data, feats


def policy(**kw) -> Policy:
    return Policy(**{"batch_size": 7, "gold_share": 0.0, "coverage": 0.0, "weak": WeakLabels(0.0), **kw})


@pytest.mark.parametrize("strategy", ["random", "margin", "least_confidence", "entropy", "disagreement"])
def test_oracle_answers_only_what_was_queued(tmp_path, strategy):
    data, feats = synthetic(tmp_path)
    curve = sim.run_curve(data, feats, policy(strategy=strategy), rounds=4, seed=0)
    asked = [i for b in curve.selected for i in b]
    assert len(asked) == len(set(asked)) == 28  # never twice
    assert [len(b) for b in curve.selected] == [7, 7, 7, 7]
    assert [p["n_labels"] for p in curve.points] == [7, 14, 21, 28]
    assert curve.trained[-1] == sorted(asked, key=data.ids.index)  # no gold: every answer is trained on


def test_gold_picks_are_answered_but_never_trained_on(tmp_path):
    data, feats = synthetic(tmp_path, n_pool=200)
    curve = sim.run_curve(data, feats, policy(batch_size=10, gold_share=0.2), rounds=3, seed=0)
    reserve, order = GoldReserve(0.2).draw(data.ids)
    gold = [data.ids[i] for i in order[:6]]  # 2 per round, in draw order
    asked = [i for b in curve.selected for i in b]
    assert [b[-2:] for b in curve.selected] == [gold[0:2], gold[2:4], gold[4:6]]
    assert not set(gold) & set(curve.trained[-1]) and len(curve.trained[-1]) == 24
    assert not any(reserve[data.ids.index(i)] for i in asked if i not in gold)
    assert [p["n_train"] for p in curve.points] == [8, 16, 24] and curve.points[-1]["n_labels"] == 30


def test_each_round_draws_gold_from_the_reserve_it_is_given(tmp_path):
    # what bench_interval_coverage relies on: another reserve seed, another gold sample, the same loop
    data, feats = synthetic(tmp_path, n_pool=200)
    other = GoldReserve(0.2, seed=5)
    reserve, order = other.draw(data.ids)
    states = list(each_round(data, feats, policy(batch_size=10, gold_share=0.2), 3, reserve=other))
    assert [s.round_no for s in states] == [0, 1, 2] and (states[-1].reserve == reserve).all()
    assert [list(s.batch.indices[-2:]) for s in states] == [list(order[0:2]), list(order[2:4]), list(order[4:6])]
    assert int(states[-1].labeled.sum()) == 30 and not (states[-1].reserve[states[-1].train]).any()
    assert not (GoldReserve(0.2).mask(data.ids) == reserve).all()  # a different sample than the default's


def test_what_ships_trains_on_every_answer_gold_included(tmp_path):
    from labeler.loop.engine import fit_queue_model

    data, feats = synthetic(tmp_path, n_pool=200)
    pol = policy(batch_size=10, gold_share=0.2)
    curve = sim.run_curve(data, feats, pol, rounds=3, seed=0)
    asked = np.array(sorted(data.ids.index(i) for b in curve.selected for i in b))
    labeled = np.zeros(len(data.ids), dtype=bool)
    labeled[asked] = True
    reserve, _ = pol.reserve.draw(data.ids)
    model, _ = fit_queue_model(feats.X, asked, data.y[asked], feats.P0, labeled | reserve, pol, False, 0.5)
    expected = sim.score_metrics(model.predict_proba(feats.X_eval), data.eval_y, data)
    assert curve.points[-1]["ships_accuracy"] == expected["accuracy"]  # 30 answers, 6 of them gold
    # no gold share: what ships is the queue model itself
    plain = sim.run_curve(data, feats, policy(batch_size=10), rounds=2, seed=0)
    assert [p["ships_accuracy"] for p in plain.points] == [p["accuracy"] for p in plain.points]
    report = sim.simulate(data, [pol], [0], 3, progress=False, feats=feats)
    summary = report["variants"][0]["summary"]
    assert summary["ships_accuracy"]["mean"][-1] == expected["accuracy"]
    assert "ships accuracy:L95" in sim.format_table(report)


def test_held_out_split_is_never_queried(tmp_path):
    data, feats = synthetic(tmp_path, n_pool=40, n_eval=30)
    eval_ids = set(data.eval_ids)
    for strategy in ("random", "margin", "entropy"):
        # 5 rounds of 10 > the 40 pool records: the loop stops when the pool is used up
        curve = sim.run_curve(data, feats, policy(strategy=strategy, batch_size=10), rounds=5, seed=1)
        picked = [i for batch in curve.selected for i in batch]
        assert not eval_ids & set(picked)
        assert sorted(picked) == sorted(data.ids) and len(curve.points) == 4


def test_same_seed_same_curve_and_different_seeds_differ(tmp_path):
    data, feats = synthetic(tmp_path)
    s = policy(strategy="random", batch_size=6)
    a, b, c = (sim.run_curve(data, feats, s, 4, seed) for seed in (3, 3, 4))
    assert a.points and [p | {"seconds": 0} for p in a.points] == [p | {"seconds": 0} for p in b.points]
    assert a.selected == b.selected
    assert a.selected != c.selected
    # exploration uses the seed, so a margin policy with exploration differs by seed too
    m1, m2 = (sim.run_curve(data, feats, policy(exploration=0.5, batch_size=6), 2, s_) for s_ in (0, 1))
    assert m1.selected[0] != m2.selected[0]
    assert sim.deterministic(policy()) and not sim.deterministic(policy(exploration=0.5))


def test_random_baseline_learns_and_cold_start_covers_classes(tmp_path):
    data, feats = synthetic(tmp_path)
    curve = sim.run_curve(data, feats, policy(strategy="random", batch_size=10), 5, seed=0)
    acc = curve.values("accuracy")
    assert acc[-1] > 0.6 and acc[-1] >= acc[0] - 0.05
    cold = sim.run_curve(data, feats, policy(batch_size=3), 1, seed=0)
    first = [data.ids.index(i) for i in cold.selected[0]]
    assert sorted(feats.P0[first].argmax(1).tolist()) == [0, 1, 2]  # one per zero-shot-predicted class


def test_weak_labels_run_and_the_strategy_must_fit(tmp_path):
    data, feats = synthetic(tmp_path)
    curve = sim.run_curve(data, feats, policy(weak=WeakLabels(0.3, 0.3)), 3, seed=0)
    assert len(curve.points) == 3 and all(0 <= p["accuracy"] <= 1 for p in curve.points)
    assert curve.points[0]["n_weak"] > 0
    with pytest.raises(LabelerError, match="does not fit"):
        sim.run_curve(data, feats, policy(strategy="threshold_distance"), 1, seed=0)


def test_subsample_keeps_rows_aligned_and_order(tmp_path):
    data, feats = synthetic(tmp_path)
    sub, sf = sim.subsample(data, feats, pool_size=40, eval_size=25, seed=3)
    assert len(sub.ids) == len(sub.texts) == len(sub.y) == len(sf.X) == len(sf.P0) == len(sf.signals["zero-shot"]) == 40
    assert len(sub.eval_ids) == len(sub.eval_y) == len(sf.X_eval) == len(sf.P0_eval) == 25
    pos = [data.ids.index(i) for i in sub.ids]
    assert pos == sorted(pos) and len(set(pos)) == 40  # original order, no repeats
    np.testing.assert_array_equal(sf.X, feats.X[pos])
    np.testing.assert_array_equal(sub.y, data.y[pos])
    epos = [data.eval_ids.index(i) for i in sub.eval_ids]
    np.testing.assert_array_equal(sf.X_eval, feats.X_eval[epos])
    assert sim.subsample(data, feats, 40, 25, seed=3)[0].ids == sub.ids  # seeded
    whole, _ = sim.subsample(data, feats, None, 10_000)
    assert whole.ids == data.ids and whole.eval_ids == data.eval_ids


# -- summaries on hand-made curves -----------------------------------------------------------------
def test_labels_to_95_on_a_hand_made_curve():
    n = [16, 32, 48, 64, 80]
    acc = [0.70, 0.80, 0.84, 0.83, 0.86]
    ref = 0.88  # 95% = 0.836
    assert sim.labels_to_target(n, acc, 0.95 * ref) == 48
    assert sim.labels_to_target(n, acc, 0.9) is None
    assert sim.labels_to_target(n, [0.836, 0.5], 0.95 * 0.88) == 16  # reaching the target exactly counts


def test_auc_on_a_hand_made_curve():
    # trapezoids: (0.5+0.7)/2*10 + (0.7+0.9)/2*20 = 6 + 16 = 22 over a 30-label range
    assert sim.auc([10, 20, 40], [0.5, 0.7, 0.9]) == pytest.approx(22 / 30)
    assert sim.auc([10, 20], [0.6, 0.6]) == pytest.approx(0.6)
    assert sim.auc([16], [0.42]) == pytest.approx(0.42)


def test_summary_and_outputs(tmp_path):
    data, feats = synthetic(tmp_path)
    base = policy(batch_size=6, weak=WeakLabels(0.0))
    variants = sim.variants_from(base, ["random", "margin"], [True], [0.0, 0.2])
    assert [v.name for v in variants] == ["random", "margin+cold", "margin+cold+weak0.2x0.3"]
    report = sim.simulate(data, variants, [0, 1], 3, tmp_path / "out", progress=False, feats=feats)
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"curves.csv", "curves.json", "summary.json", "curves.png"}
    rows = (out / "curves.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + (2 + 1 + 1) * 3  # the cold-started variants are deterministic: one seed each
    saved = json.loads((out / "curves.json").read_text())
    assert [v["summary"]["seeds"] for v in saved["variants"]] == [[0, 1], [0], [0]]
    rnd = saved["variants"][0]["summary"]["accuracy"]
    runs = [np.array([p["accuracy"] for p in r["curve"]]) for r in saved["variants"][0]["runs"]]
    np.testing.assert_allclose(rnd["mean"], np.mean(runs, axis=0))
    np.testing.assert_allclose(rnd["std"], np.std(runs, axis=0))
    ref = report["reference"]["accuracy"]
    assert rnd["target_95"] == pytest.approx(0.95 * ref)
    assert rnd["labels_to_95"] == sim.labels_to_target(saved["variants"][0]["summary"]["n_labels"], rnd["mean"], 0.95 * ref)
    assert saved["variants"][1]["vs_random"]["accuracy"]["auc_minus_random"] == pytest.approx(
        saved["variants"][1]["summary"]["accuracy"]["auc"] - rnd["auc"])
    assert "margin+cold" in sim.format_table(report)


# -- shared data sets: the fixed eval split ----------------------------------------------------------
def test_fixed_eval_splits_of_the_shared_data_sets():
    root = shared_dataset("ag_news").parent
    rows = [json.loads(line) for line in (root / "ag_news" / "test_all.jsonl").read_text().splitlines()]
    from labeler.simulate.datasets import get_dataset

    pool, held = get_dataset("ag_news").load(root)
    assert len(pool) == 6080 and len(held) == 1520
    assert {r.id for r in held} == {str(r["id"]) for r in rows if r["split"] == "eval"}
    assert not {r.id for r in pool} & {r.id for r in held}
    b_pool, b_held = get_dataset("banking77").load(root)
    assert (len(b_pool), len(b_held)) == (10003, 3080)
    n_pool, n_held = get_dataset("nlupp_banking").load(root)
    assert len(n_pool) + len(n_held) == 2071 and all(isinstance(r.label, list) for r in n_held)


# -- the real loop through Argilla -------------------------------------------------------------------
@pytest.fixture(scope="module")
def tickets(tmp_path_factory):
    """60 demo tickets as a labeled project (module-scoped: the tests share its embedding cache)."""
    tmp_path = tmp_path_factory.mktemp("tickets")
    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:60]
    path = tmp_path / "tickets.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    demo = (REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(path))
    cfg = tmp_path / "tickets.yaml"
    cfg.write_text(demo)
    from labeler.config import load_config

    return load_config(cfg, [f"project.dir={tmp_path / 'state'}", f"argilla.dataset=sim-{tmp_path.name[-10:].lower()}"])


@pytest.mark.slow
@pytest.mark.server
def test_labeler_round_and_simulate_choose_the_same_records(tickets, argilla_server):
    """One loop: the product's push / annotate / pull through the real server and the in-process simulation
    ask for the same records, train on the same labels and score the same, round after round."""
    data = sim.config_data(tickets, eval_fraction=0.2)
    assert (len(data.ids), len(data.eval_ids)) == (48, 12)
    feats = sim.compute_features(data, progress=False)
    base = dataclasses.replace(Policy.from_config(data.config), batch_size=6, gold_share=0.2)
    variants = [base, dataclasses.replace(base, strategy="random", weak=WeakLabels(0.0))]
    local = sim.simulate(data, variants, [7], 3, progress=False, feats=feats)
    remote = sim.simulate(data, variants, [7], 3, progress=False, feats=feats, via_argilla=True)
    for a, b in zip(local["variants"], remote["variants"]):
        ra, rb = a["runs"][0], b["runs"][0]
        assert [sorted(x) for x in ra["selected"]] == [sorted(x) for x in rb["selected"]]
        assert [p | {"seconds": 0, "n_weak": 0} for p in ra["curve"]] == \
            [p | {"seconds": 0, "n_weak": 0} for p in rb["curve"]]
        assert not set(data.eval_ids) & {i for batch in rb["selected"] for i in batch}
    # what Argilla holds for the margin run: 18 records, all answered with the truth
    import pandas as pd

    tag = "".join(ch if ch.isalnum() else "-" for ch in f"{base.name}-s7").lower()
    labels = pd.read_parquet(Path(data.config.project.dir) / "argilla" / tag / "labels.parquet")
    truth = dict(zip(data.ids, (data.labels[k] for k in data.y)))
    assert len(labels) == 18 and all(truth[i] == lab for i, lab in zip(labels["id"], labels["label"]))


NLUPP_LABELS = ["transfer_payment_deposit", "request_info", "wrong_notworking_notshowing", "card", "account",
                "make_open_apply_setup_get_activate"]


@pytest.fixture(scope="module")
def nlupp_small(tmp_path_factory):
    """60 NLU++ banking rows as a multi-label project with its 6 most frequent intents: 19 rows carry none of
    them and 5 carry no label at all, so their answer is "None of these" (issue 23)."""
    tmp_path = tmp_path_factory.mktemp("nlupp")
    rows = [json.loads(line) for line in (shared_dataset("nlupp") / "banking.jsonl").read_text().splitlines()]
    pool = [dict(r, id=f"nlupp-{i}") for i, r in enumerate(rows) if r["fold"] >= 2]
    picked = pool[:55] + [r for r in pool[55:] if not r["labels"]][:5]
    path = tmp_path / "nlupp.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"], "labels": r["labels"]}) + "\n" for r in picked))
    import yaml

    cfg = tmp_path / "nlupp.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"path": str(path), "text_fields": ["text"], "id_field": "id", "label_field": "labels"},
        "task": {"multi_label": True, "labels": [{"name": n, "description": n.replace("_", " ")} for n in NLUPP_LABELS]},
        "signals": [{"type": "embedding", "params": {}}]}))
    from labeler.config import load_config

    return load_config(cfg, [f"project.dir={tmp_path / 'state'}", f"argilla.dataset=sim-ml-{tmp_path.name[-8:].lower()}"])


@pytest.mark.slow
@pytest.mark.server
def test_multi_label_round_with_none_answers_equals_simulate(nlupp_small, argilla_server):
    """Multi-label with empty label sets: the simulated annotator answers "None of these", pull reads it back as
    an empty set, training uses it as all-negative, so the product path equals the simulation to every digit."""
    data = sim.config_data(nlupp_small, eval_fraction=0.2)
    assert (len(data.ids), len(data.eval_ids)) == (48, 12)
    assert int((data.y.sum(axis=1) == 0).sum()) == 18  # pool rows whose answer is "None of these"
    feats = sim.compute_features(data, progress=False)
    base = dataclasses.replace(Policy.from_config(data.config), batch_size=8, gold_share=0.2)
    variants = [base, dataclasses.replace(base, strategy="random", weak=WeakLabels(0.0))]
    local = sim.simulate(data, variants, [7], 3, progress=False, feats=feats)
    remote = sim.simulate(data, variants, [7], 3, progress=False, feats=feats, via_argilla=True)
    none_asked = []
    for a, b in zip(local["variants"], remote["variants"]):
        ra, rb = a["runs"][0], b["runs"][0]
        assert [sorted(x) for x in ra["selected"]] == [sorted(x) for x in rb["selected"]]
        # every learning metric to the digit; the clicks columns are simulate's model of the suggestion, measured
        # in process only (the Argilla path shows the suggestion itself)
        learned = ("round", "n_labels", "n_train", "accuracy", "macro_f1", "micro_f1")
        assert [{k: p[k] for k in learned} for p in ra["curve"]] == [{k: p[k] for k in learned} for p in rb["curve"]]
        assert all("clicks" in p for p in ra["curve"])
        empty = {i for i, row in zip(data.ids, data.y) if not row.any()}
        none_asked.append(len(empty & {i for batch in rb["selected"] for i in batch}))
    assert min(none_asked) > 0  # both runs asked records whose answer is "None of these"
    import pandas as pd

    tag = "".join(ch if ch.isalnum() else "-" for ch in f"{base.name}-s7").lower()
    labels = pd.read_parquet(Path(data.config.project.dir) / "argilla" / tag / "labels.parquet")
    truth = {i: [data.labels[k] for k in np.flatnonzero(row)] for i, row in zip(data.ids, data.y)}
    assert len(labels) == 24 and (labels["status"] == "submitted").all()
    assert all(truth[i] == list(labs) for i, labs in zip(labels["id"], labels["labels"]))
    assert sum(len(labs) == 0 for labs in labels["labels"]) == none_asked[0]


@pytest.mark.slow
@pytest.mark.server
def test_multi_label_round_with_the_lexical_block_equals_simulate(nlupp_small, argilla_server):
    """The fast model reading the pool's words (``queue.lexical``, switched on from the first round here): the round's
    own queue model (``scoring.queue_model``, through the server) fits the same vocabulary on the same texts as the
    simulation, so the curves and the records asked are the same to every digit."""
    import joblib

    data = sim.config_data(nlupp_small, eval_fraction=0.2)
    feats = sim.compute_features(data, progress=False)
    policy = dataclasses.replace(Policy.from_config(data.config), batch_size=8, gold_share=0.2, lexical=0.5,
                                 lexical_from=0.1, lexical_min=0)  # a 48-text pool: no floor of 100 labels
    assert policy.lexical == 0.5 and "+lex0.5from0.1min0+" in policy.name
    local = sim.simulate(data, [policy], [7], 3, progress=False, feats=feats)
    remote = sim.simulate(data, [policy], [7], 3, progress=False, feats=feats, via_argilla=True)
    ra, rb = local["variants"][0]["runs"][0], remote["variants"][0]["runs"][0]
    assert [sorted(x) for x in ra["selected"]] == [sorted(x) for x in rb["selected"]]
    learned = ("round", "n_labels", "n_train", "accuracy", "macro_f1", "micro_f1")
    assert [{k: p[k] for k in learned} for p in ra["curve"]] == [{k: p[k] for k in learned} for p in rb["curve"]]
    tag = "".join(ch if ch.isalnum() else "-" for ch in f"{policy.name}-s7").lower()
    model = joblib.load(Path(data.config.project.dir) / "argilla" / tag / "queue_model.joblib")
    assert model.lexical == 0.5  # the product's queue model read the words (a vocabulary of the 48 pool texts)


@pytest.mark.slow
def test_cli_on_a_labeled_config(tickets, tmp_path):
    from click.testing import CliRunner

    from labeler.cli.simulate import command

    cfg = Path(tickets.data.path).parent / "tickets.yaml"
    result = CliRunner().invoke(command, ["-c", str(cfg), "--set", f"project.dir={tickets.project.dir}",
                                          "--strategy", "random,margin", "-b", "6", "-r", "2", "--seeds", "2",
                                          "--weak", "0,0.2", "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert "margin+cold+cover0.5+weak0.2x0.3+gold0.2" in result.output
    assert (tmp_path / "out" / "curves.png").stat().st_size > 0
    refused = CliRunner().invoke(command, ["-c", str(cfg), "--pool-size", "30", "--via-argilla"])
    assert refused.exit_code == 2 and "not with --via-argilla" in refused.output


def test_a_single_label_table_reports_macro_f1_beside_accuracy(tmp_path):
    # accuracy alone rewards a model that predicts the most frequent class; the table shows macro-F1 too
    data, feats = synthetic(tmp_path, n_pool=200)
    pols = [policy(batch_size=10, strategy="random"), policy(batch_size=10, strategy="margin")]
    report = sim.simulate(data, pols, [0, 1], 3, progress=False, feats=feats)
    head, cols, _, row = sim.format_table(report).splitlines()
    assert "macro_f1 " in head and cols.split(" | ")[6:11] == ["macro_f1:L95", "macro_f1:AUC", "macro_f1:final",
                                                               "macro_f1:AUC-rand", "macro_f1:worst-rand@n"]
    vs = report["variants"][1]["vs_random"]["macro_f1"]
    s, r = report["variants"][1]["summary"]["macro_f1"], report["variants"][0]["summary"]["macro_f1"]
    assert vs["auc_minus_random"] == pytest.approx(s["auc"] - r["auc"])
    assert row.split(" | ")[9] == f"{vs['auc_minus_random']:+.3f}"


def test_a_multi_label_table_names_accuracy_exact_match(tmp_path):
    # multi-label "accuracy" is exact match: the printed table says so (the JSON and CSV keep the key)
    data, feats = synthetic(tmp_path, n_pool=200)
    report = sim.simulate(data, [policy(batch_size=10, strategy="random")], [0], 2, progress=False, feats=feats)
    report["multi_label"] = True
    head, cols, row = sim.format_table(report).splitlines()
    assert "exact_match " in head and "accuracy" not in head
    assert cols.split(" | ")[1:3] == ["exact_match:L95", "exact_match:AUC"] and "accuracy" not in cols
    assert sim.shown_name("accuracy", False) == "accuracy" and sim.shown_name("micro_f1", True) == "micro_f1"
