"""train() end to end: threshold, stable gold never trained on, calibration, registry round trip, signal."""

import json

import numpy as np
import pytest

import training.train as train_mod
from labeler.errors import LabelerError
from training.errors import TrainingError
from training.registry import Registry, list_runs, load_run, set_current
from training.splits import GOLD, Splits
from training.train import load_gold, train

from tests.training.data import LABELS, make_labels

PROBE = ["the striker scored a goal", "the bank cut interest rates", "a new chip for phones"]


def test_threshold_blocks_training_unless_forced(tmp_path):
    path = tmp_path / "l.parquet"
    make_labels(per_class=5).to_parquet(path)
    with pytest.raises(TrainingError, match="sports needs 3 more") as e:
        train(path, LABELS, backend="logreg", project_dir=tmp_path)
    assert "\n" not in str(e.value)
    with pytest.raises(TrainingError, match="unknown logreg training parameter.*'max_stepz'"):
        train(path, LABELS, backend="logreg", params={"max_stepz": 3}, project_dir=tmp_path, force=True)
    with pytest.raises(TrainingError, match="bad logreg training parameters: max_steps must be positive"):
        train(path, LABELS, backend="logreg", params={"max_steps": 0}, project_dir=tmp_path, force=True)
    with pytest.raises(TrainingError, match="unknown backend 'sklearn'"):
        train(path, LABELS, backend="sklearn", project_dir=tmp_path)


@pytest.mark.slow
def test_logreg_run_round_trip_and_gold_never_trained(tmp_path, monkeypatch):
    from labeler.signals.finetuned import FinetunedSignal

    seen = []
    real_fit = train_mod.fit_model
    monkeypatch.setattr(train_mod, "fit_model", lambda *a, **k: seen.append(list(a[2])) or real_fit(*a, **k))
    path = tmp_path / "labels.parquet"
    make_labels(per_class=8).to_parquet(path)
    run1 = train(path, LABELS, backend="logreg", project_dir=tmp_path, min_calibration=3, n_resamples=50)
    make_labels(per_class=10).to_parquet(path)  # a later round adds labels
    run2 = train(path, LABELS, backend="logreg", project_dir=tmp_path, min_calibration=3, n_resamples=50, seed=1)

    splits = Splits.load(tmp_path / "splits.json")
    gold_texts = set(make_labels().set_index("id").loc[[i for i, s in splits.assignment.items() if s == GOLD], "text"])
    assert gold_texts and all(not (set(texts) & gold_texts) for texts in seen)
    ids, texts, y = load_gold(path, LABELS, project_dir=tmp_path)
    assert set(texts) == gold_texts and len(y) == run2.info["n_gold"] == 6

    runs = list_runs(tmp_path / "runs")
    assert [r["run_id"] for r in runs] == [run1.run_id, run2.run_id]
    assert [r["current"] for r in runs] == [False, True]
    cur = load_run("current", tmp_path / "runs")
    assert cur.run_id == run2.run_id and cur.calibrator.kind == "temperature"
    np.testing.assert_allclose(cur.predict_proba(PROBE), run2.predict_proba(PROBE), atol=1e-6)
    set_current(run1.run_id, tmp_path / "runs")
    assert load_run("current", tmp_path / "runs").run_id == run1.run_id
    with pytest.raises(TrainingError, match="no run 'nope'"):
        load_run("nope", tmp_path / "runs")

    d = run2.path
    assert {p.name for p in d.iterdir()} >= {"model", "label_map.json", "config.json", "run.json", "metrics.json", "README.md", "calibration.json"}
    assert json.loads((d / "label_map.json").read_text())["labels"] == LABELS
    assert json.loads((d / "config.json").read_text())["params"]["head_c"] == 10.0
    assert run1.data_fingerprint != run2.data_fingerprint
    card = (d / "README.md").read_text()
    assert "## Intended use" in card and "## Limitations" in card and "accuracy" in card
    metrics = json.loads((d / "metrics.json").read_text())
    assert set(metrics) >= {"gold", "gold_uncalibrated", "gold_ci"} and metrics["gold"]["n"] == 6
    history = Registry(tmp_path / "runs").history_path.read_text().splitlines()
    assert [json.loads(h)["n_labels"] for h in history] == [24, 30]

    sig = FinetunedSignal.from_run("current", tmp_path / "runs", labels=["tech", "sports", "business"])
    assert sig.name == run1.run_id and sig.labels == ["tech", "sports", "business"]
    P = sig.predict_proba(PROBE)
    np.testing.assert_allclose(P, load_run(run1.run_id, tmp_path / "runs").predict_proba(PROBE)[:, [2, 0, 1]], atol=1e-6)
    set_current(run2.run_id, tmp_path / "runs")
    assert FinetunedSignal.from_run("current", tmp_path / "runs").fingerprint() != sig.fingerprint()
    with pytest.raises(LabelerError, match="trained on labels"):
        FinetunedSignal.from_run("current", tmp_path / "runs", labels=["a", "b", "c"])


@pytest.mark.slow
def test_setfit_run_loads_with_setfit(tmp_path, labels_path):
    from setfit import SetFitModel

    run = train(labels_path, LABELS, backend="setfit", params={"max_steps": 2, "batch_size": 8}, project_dir=tmp_path, n_resamples=50)
    assert run.calibrator.kind == "none"  # 3 calibration labels < min_calibration: uncalibrated, still held out
    assert (run.info["n_train"], run.info["n_gold"], run.info["n_calib"], run.info["calibrated"]) == (21, 6, 3, False)
    model = SetFitModel.from_pretrained(str(run.model_dir))
    np.testing.assert_allclose(model.predict_proba(PROBE, as_numpy=True), load_run("current", tmp_path / "runs").predict_proba(PROBE), atol=1e-6)


@pytest.mark.slow
def test_transformers_run_loads_with_pipeline(tmp_path, labels_path):
    from transformers import pipeline

    run = train(labels_path, LABELS, backend="transformers", params={"max_steps": 2, "batch_size": 8, "eval_steps": 1},
                project_dir=tmp_path, min_calibration=3, n_resamples=50)
    assert run.info["n_calib"] == 3 and run.calibrator.kind == "temperature"
    clf = pipeline("text-classification", model=str(run.model_dir), top_k=None)
    out = clf(PROBE)
    assert {d["label"] for d in out[0]} == set(LABELS)
    raw = load_run(run.run_id, tmp_path / "runs").predict_proba_raw(PROBE)
    by_label = np.array([[next(d["score"] for d in row if d["label"] == lab) for lab in LABELS] for row in out])
    np.testing.assert_allclose(by_label, raw, atol=1e-5)


def test_a_logreg_run_scores_from_the_embedding_signals_cached_vectors(tmp_path):
    """Issue 26.4: a logreg run's body is the packaged MiniLM untouched, so the embedding signal's cached vectors
    stand in for its own encoding (a round after a run costs no second pass over the pool); a text past either
    model's token limit still goes through the run's own encoder; a fine-tuned body never shares."""
    from labeler.signals.embedding import EmbeddingSignal
    from labeler.signals.finetuned import FinetunedSignal

    path = tmp_path / "labels.parquet"
    make_labels(per_class=8).to_parquet(path)
    run = train(path, LABELS, backend="logreg", project_dir=tmp_path, min_calibration=3, n_resamples=50)
    assert run.frozen_body == ("sentence-transformers/all-MiniLM-L6-v2", 128)
    emb = EmbeddingSignal("embedding", LABELS, False, {}, cache_dir=tmp_path / "cache")
    long_text = "the match went to extra time and then to penalties " * 40  # > 128 tokens
    texts = [*PROBE, long_text]
    own = FinetunedSignal.from_run(run.run_id, tmp_path / "runs", labels=LABELS)
    shared = FinetunedSignal.from_run(run.run_id, tmp_path / "runs", labels=LABELS)
    assert shared.share_encoder(emb) and shared.shares_encoder
    np.testing.assert_allclose(shared.predict_proba(texts), own.predict_proba(texts), atol=1e-5)
    assert emb.count_tokens([long_text])[0] > 128 and len(emb._mem) == len(PROBE)  # the long text was not embedded
    counted = []  # a text that cannot reach 128 WordPiece tokens is not tokenised to check; the long one was, once
    count_tokens = emb.count_tokens
    emb.count_tokens = lambda batch: counted.extend(batch) or count_tokens(batch)
    assert emb.fits(texts, 128).tolist() == [True] * len(PROBE) + [False] and counted == []  # its count is kept
    templated = EmbeddingSignal("e2", LABELS, False, {"text_template": "query: {text}"}, cache_dir=tmp_path / "cache")
    assert not FinetunedSignal.from_run(run.run_id, tmp_path / "runs", labels=LABELS).share_encoder(templated)
    run.backend = "setfit"  # a fine-tuned body: its vectors are its own
    with pytest.raises(TrainingError, match="fine-tuned its body"):
        run.predict_proba_from_embeddings(np.zeros((1, 384)))


def test_too_few_calibration_labels_stay_held_out(tmp_path):
    """Below ``min_calibration`` the run is uncalibrated, but the calibration labels still never train it, so
    a single-label verdict may count them (``labeler.evaluation.gold.calibration_untouched``)."""
    from labeler.evaluation.gold import calibration_untouched

    path = tmp_path / "labels.parquet"
    make_labels().to_parquet(path)
    run = train(path, LABELS, backend="logreg", project_dir=tmp_path, n_resamples=20)  # 3 calib < 20
    assert (run.info["n_train"], run.info["n_gold"], run.info["n_calib"], run.info["calibrated"]) == (21, 6, 3, False)
    assert run.calibrator.kind == "none" and calibration_untouched(run) is None


def test_the_model_card_reads_the_same_at_150_labels_and_names_a_final_fit():
    from training.calibration import Calibrator
    from training.registry import model_card

    labels = [f"intent_{i}" for i in range(150)]
    info = {"n_train": 1200, "n_calib": 100, "n_gold": 200, "train_counts": {lab: i % 9 for i, lab in enumerate(labels)},
            "cuts": {"values": [0.3 + i / 1000 for i in range(150)], "note": "fitted on 100 calibration labels",
                     "at_least_one": True}}
    gold = {"gold": {"accuracy": 0.5, "micro_f1": 0.7}, "gold_ci": {"accuracy": {"lo": 0.43, "hi": 0.57}}}
    card = model_card("r1", labels, True, "logreg", {}, info, gold, Calibrator()).splitlines()
    assert "into 150 labels (the per-label table below)" in card[6]
    assert "- training labels per class: min 0, median 4, max 8; 17 labels with none (every label in the table below)" in card
    assert "## Metrics (held-out gold labels, n = 200)" in card and "- exact match 0.500 (95% CI 0.430–0.570)" in card
    at = card.index("## Per label")
    assert card[at + 2:at + 5] == ["| label | training labels | cut |", "|---|---:|---:|", "| intent_0 | 0 | 0.300 |"]
    assert sum(line.startswith("| intent_") for line in card) == 150
    assert max(len(line) for line in card if not line.startswith("  ")) < 300  # no line lists 150 labels
    # a final fit: no held-out labels, cross-fitted metrics, no calibration; two labels are named inline
    info = {"n_train": 30, "n_gold": 4, "train_counts": {"a": 20, "b": 10}, "final_fit": {"folds": 10, "n_reserve": 4}}
    card = model_card("r2", ["a", "b"], False, "logreg", {}, info, gold, Calibrator()).splitlines()
    assert "the training data into a, b. It is" in card[6]
    assert card[10] == ("- trained on 30 human labels, gold and calibration included (a final fit: every human label); "
                        "no held-out labels, so the metrics are cross-fitted over the 4 random reserve labels")
    assert "- training labels per class: a 20, b 10" in card and "- accuracy 0.500 (95% CI 0.430–0.570)" in card
    assert card[14] == ("## Metrics (cross-fitted: 10 folds; each random reserve record scored by a model that never "
                        "saw it; n = 4)")
    assert "- calibration: none (a final fit holds no labels out to calibrate on)" in card


class _FileModel:
    """A model whose saved folder is one file of known size."""

    def save(self, path):
        path.mkdir(parents=True, exist_ok=True)
        (path / "weights.bin").write_bytes(b"x" * 1000)


def test_prune_deletes_old_models_and_keeps_their_records(tmp_path):
    reg = Registry(tmp_path / "runs")
    ids = [reg.save(_FileModel(), labels=LABELS, multi_label=False, backend="logreg", config={}, data_fingerprint=str(i),
                    metrics={"gold": {"accuracy": 0.5 + i / 10, "n": 10}},
                    info={"final_fit": {"folds": 5}} if i == 1 else None).run_id for i in range(5)]
    reg.set_current(ids[2])
    # kept: the newest (keep=1), the current run, the final fit, and a run predictions were logged with
    assert reg.prune(1, protect={ids[0]}) == [(ids[3], 1000)]
    assert [(p / "model").exists() for p in map(reg.root.joinpath, ids)] == [True, True, True, False, True]
    assert [r["run_id"] for r in reg.list()] == ids  # every record stays
    pruned = reg.load(ids[3])
    assert pruned.info["model_deleted_at"] and pruned.metrics["gold"]["accuracy"] == 0.8
    with pytest.raises(TrainingError, match=rf"^run {ids[3]}'s model was deleted \(`labeler runs --prune`, "):
        pruned.predict_proba(PROBE)
    with pytest.raises(TrainingError, match=r"model was deleted \(`labeler runs --prune`\): it cannot be current"):
        reg.set_current(ids[3])
    assert reg.prune(1, protect={ids[0]}) == []  # nothing left to delete
    assert reg.prune(0) == [(ids[0], 1000), (ids[4], 1000)]  # the current run and the final fit stay


def test_runs_prune_from_the_cli_keeps_runs_with_logged_predictions(tmp_path):
    from click.testing import CliRunner

    from labeler.cli.runs import command
    from labeler.config import load_config
    from labeler.project import Project

    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"data: {{path: d.csv}}\ntask: {{labels: {LABELS}}}\nproject: {{dir: {tmp_path / 'state'}}}\n")
    config = load_config(cfg)
    reg = Registry(Project(config).runs)
    ids = [reg.save(_FileModel(), labels=LABELS, multi_label=False, backend="logreg", config={}, data_fingerprint=str(i),
                    metrics={}).run_id for i in range(4)]
    log = Project(config).predictions / "log.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(json.dumps({"model_id": ids[1], "n": 3}) + "\n")
    result = CliRunner().invoke(command, ["-c", str(cfg), "--prune", "--keep", "1"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"deleted the models of 2 runs (2 KB): {ids[0]}, {ids[2]}; their metrics stay in "
                             "`labeler runs`\n")
    table = CliRunner().invoke(command, ["-c", str(cfg)]).output.splitlines()
    assert [line.endswith("(model deleted)") for line in table[1:]] == [True, False, True, False]
