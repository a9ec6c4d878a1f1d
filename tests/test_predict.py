"""``labeler predict``: the prediction log's exact contents, and drift against the run's predictions on random pool
texts nobody labeled, or (without enough of them) the gold labels or the run's training labels."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from labeler.config import load_config
from labeler.evaluation.drift import drift, label_shift
from labeler.evaluation.predict import LOG_FILE, predict_file, prediction_columns
from tests.test_train_cli import make_project
from tests.training.data import LABELS, make_labels


def test_label_shift_values():
    tvd, psi = label_shift([0.5, 0.5, 0.0], [0.25, 0.25, 0.5])
    assert tvd == pytest.approx(0.5)
    assert psi == pytest.approx([0.25 * np.log(2), 0.25 * np.log(2), (1e-4 - 0.5) * np.log(1e-4 / 0.5)])
    assert label_shift([0.2, 0.8], [0.2, 0.8])[0] == 0.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from labeler.loop.runs import train_project

    tmp = tmp_path_factory.mktemp("predict")
    config = load_config(make_project(tmp, min_per_class=8))
    run = train_project(config, n_resamples=50)
    return tmp, config, run


def write_csv(path, texts):
    pd.DataFrame({"id": [f"x{i}" for i in range(len(texts))], "text": texts}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_prediction_log_contents(trained, capsys):
    from labeler.cli import main

    tmp, config, run = trained
    texts = ["the striker scored a late goal", "shares rallied on the earnings", "", "a faster chip for laptops"]
    src = write_csv(tmp / "new.csv", texts)
    res = predict_file(config, src, out=tmp / "out.jsonl")
    df = pd.read_parquet(res.path)
    assert list(df.columns) == prediction_columns(["text"], LABELS) == [
        "id", "text", "label", "score", "p_sports", "p_business", "p_tech", "model_id", "input_fingerprint", "input_path"]
    assert df["id"].tolist() == ["x0", "x1", "x3"] and res.rejected == 1  # the empty text is rejected
    P = run.predict_proba([texts[0], texts[1], texts[3]])
    np.testing.assert_allclose(df[["p_sports", "p_business", "p_tech"]].to_numpy(), P)
    assert df["label"].tolist() == [LABELS[k] for k in P.argmax(1)]
    np.testing.assert_allclose(df["score"], P.max(1))
    fp = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    assert set(df["model_id"]) == {run.run_id} and set(df["input_fingerprint"]) == {fp}
    assert set(df["input_path"]) == {str(src.resolve())}
    log = [json.loads(line) for line in (res.path.parent / LOG_FILE).read_text().splitlines()]
    assert log[-1]["file"] == res.path.name and log[-1]["model_id"] == run.run_id
    assert (log[-1]["input_fingerprint"], log[-1]["n"], log[-1]["rejected"]) == (fp, 3, 1)
    assert sum(log[-1]["label_counts"].values()) == 3
    assert pd.read_json(tmp / "out.jsonl", lines=True)["id"].tolist() == ["x0", "x1", "x3"]
    # the CLI: a second call appends to the log
    main(["predict", "-c", str(tmp / "news.yaml"), "--input", str(src), "--run", run.run_id])
    out, err = capsys.readouterr()
    assert out.startswith(f"predicted 3 rows (1 row rejected: 1 empty text) with {run.run_id}: ")
    # what is about to be scored, before it is (a SetFit run takes minutes on a large file), on standard error
    assert f"predicting 3 rows of {src.name} with run {run.run_id} ({run.backend})" in err.splitlines()
    assert len((res.path.parent / LOG_FILE).read_text().splitlines()) == len(log) + 1
    # --input with --drift: the batch is predicted, logged, then checked (it used to check the latest log instead,
    # or fail before any was written)
    main(["predict", "-c", str(tmp / "news.yaml"), "--input", str(src), "--run", run.run_id, "--drift"])
    out = capsys.readouterr().out.splitlines()
    newest = (res.path.parent / json.loads((res.path.parent / LOG_FILE).read_text().splitlines()[-1])["file"])
    assert out[0].startswith("predicted 3 rows ") and out[1] == f"logged to {newest}"
    assert out[2].startswith(f"drift of {newest} (3 predictions by {run.run_id}) against ")
    assert len((res.path.parent / LOG_FILE).read_text().splitlines()) == len(log) + 2
    with pytest.raises(SystemExit) as stop:
        main(["predict", "-c", str(tmp / "news.yaml"), "--input", str(src), "--drift", "old.parquet"])
    assert stop.value.code == 1 and capsys.readouterr().err == (
        "Error: --input predicts a new batch and --drift checks it; --drift old.parquet names another log: give one "
        "of them\n")


@pytest.mark.slow
def test_drift_flags_a_shift_and_not_its_absence(trained):
    tmp, config, run = trained
    same = predict_file(config, write_csv(tmp / "same.csv", make_labels()["text"].tolist()), run=run)
    rep = drift(config, same.path.name, run=run)
    assert rep.label_drift == "none" and not rep.confidence_drift and rep.ks == 0.0
    assert rep.words[0].startswith("Labels: no shift") and rep.words[1].startswith("Confidence: no shift")
    assert rep.reference_biased and rep.label_reference.startswith(f"the run's {run.info['n_train']} training labels")
    assert rep.words[2].startswith("Reference: the run's") and "biased" in rep.words[2]  # too few gold labels

    sports = [t for t in make_labels()["text"] if t in " ".join(make_labels().query("label == 'sports'")["text"])]
    shifted = predict_file(config, write_csv(tmp / "sports.csv", sports * 3), run=run)
    rep = drift(config, run=run)  # the latest log
    assert rep.log == str(shifted.path) and rep.label_drift == "major"
    assert rep.words[0].startswith("Labels: major shift") and "most moved: sports 3" in rep.words[0]

    odd = ["my grandmother knits blue socks", "the river floods every spring", "bake the bread for an hour",
           "a poem about the moon", "paint the fence white", "the cat sleeps all day"] * 4
    rep = drift(config, predict_file(config, write_csv(tmp / "odd.csv", odd), run=run).path, run=run)
    assert rep.confidence_drift and rep.conf_new_median < rep.conf_ref_median
    assert rep.words[1].startswith("Confidence: shifted lower")


@pytest.mark.slow
def test_drift_against_enough_gold_labels_uses_them(trained, tmp_path):
    """With enough random gold labels the reference is their mix, not the (queue-chosen) training labels'."""
    from labeler.evaluation.gold import GOLD
    from labeler.loop.policy import project_reserve

    tmp, config, run = trained
    state = tmp_path / "state"
    shutil.copytree(config.project.dir, state)
    # nearly every record in the gold reserve, none for calibration: ~28 of the 30 labels are gold
    config = load_config(tmp / "news.yaml", [f"project.dir={state}", "queue.gold_share=0.95", "training.calib_share=0"])
    labels = make_labels()
    split = project_reserve(config).splits(labels["id"].tolist())
    gold = labels[[split[i] == GOLD for i in labels["id"]]]
    assert len(gold) >= 20
    expected = [float((gold["label"] == lab).mean()) for lab in config.label_names]
    batch = predict_file(config, write_csv(tmp_path / "same.csv", labels["text"].tolist()), run=run)
    rep = drift(config, batch.path, run=run)
    assert rep.ref_dist == pytest.approx(expected) and rep.label_reference == f"{len(gold)} random gold labels"
    assert not rep.reference_biased and not any(w.startswith("Reference") for w in rep.words)
    assert rep.conf_reference == f"{len(gold)} gold texts"


class _StubRun:
    """A registered single-label run as ``predict_file`` reads it (its model's probabilities given)."""

    run_id, multi_label, cuts, info = "20260101-000000-logreg", False, None, {}

    def __init__(self, labels):
        self.labels = list(labels)

    def predict_proba(self, texts):
        return np.array([[0.7, 0.2, 0.1] if "goal" in t else [0.1, 0.2, 0.7] for t in texts])


def test_predict_keeps_every_row_duplicates_included_and_numbers_a_file_without_ids(tmp_path, monkeypatch):
    """One prediction per usable input row: two identical texts are two rows (the pool collapses them, a batch
    prediction must not), and a file without the config's id column is read with rows named by position."""
    from labeler.evaluation import predict

    config = load_config(make_project(tmp_path))
    monkeypatch.setattr(predict, "load_run", lambda config, run_id: _StubRun(LABELS))
    (tmp_path / "new.csv").write_text('text\na late goal\na new chip\na late goal\n" "\na late goal\n')
    res = predict.predict_file(config, tmp_path / "new.csv")
    df = pd.read_parquet(res.path)
    assert df["id"].tolist() == ["row-1", "row-2", "row-3", "row-5"] and res.rejected == 1  # the blank text
    assert df["label"].tolist() == ["sports", "tech", "sports", "sports"]
    assert res.summary().splitlines()[0] == "no 'id' column in new.csv: rows are named row-<n>, their row in the file"
    assert res.summary().splitlines()[1] == f"predicted 4 rows (1 row rejected: 1 empty text) with {_StubRun.run_id}: sports 3, tech 1"
    (tmp_path / "ids.csv").write_text("id,text\na,a late goal\nb,a late goal\n")
    res = predict.predict_file(config, tmp_path / "ids.csv")
    assert pd.read_parquet(res.path)["id"].tolist() == ["a", "b"] and res.id_note is None


def test_summary_of_a_multi_label_file_where_nothing_passed_a_cut_reads_well(tmp_path):
    from labeler.evaluation.predict import PredictionResult

    r = PredictionResult(path=tmp_path / "p.parquet", model_id="run-1", input_fingerprint="f", n=5, rejected=0,
                         label_counts={"anger": 0, "gratitude": 0}, cut_note="fitted", n_none=5)
    assert r.summary().splitlines()[0] == "predicted 5 rows with run-1: none of these 5 (cut fitted)"
    r.label_counts["anger"] = 2
    assert r.summary().splitlines()[0] == "predicted 5 rows with run-1: anger 2; none of these 5 (cut fitted)"


@pytest.mark.slow
def test_drift_reference_is_the_runs_predictions_on_random_pool_texts_nobody_labeled(tmp_path):
    """With a pool of 100 texts or more the reference is the run's own predictions on it (predicted mix against
    predicted mix; confidence on the random reserve's texts nobody labeled), and a same-source batch reads as no
    shift."""
    from labeler.evaluation.drift import MIN_REFERENCE_TEXTS
    from labeler.data import load_pool
    from labeler.loop.runs import train_project
    from tests.training.data import TEXTS

    cfg = make_project(tmp_path, min_per_class=8)
    # 300 texts nobody labeled: the labeled ones in other cases and punctuation (the body lowercases)
    variants = (str.upper, str.title, str.capitalize, lambda t: t + "!", lambda t: t + "?", lambda t: t.upper() + ".",
                lambda t: t + ".", lambda t: t.title() + "!", lambda t: t.capitalize() + "?", lambda t: t + "...")
    extra = [{"id": f"u{lab}-{j}-{v}", "text": f(t), "label": lab}
             for lab in LABELS for j, t in enumerate(TEXTS[lab]) for v, f in enumerate(variants)]
    data = tmp_path / "news.jsonl"
    data.write_text(data.read_text() + "\n".join(json.dumps(r) for r in extra) + "\n")
    config = load_config(cfg)
    run = train_project(config, n_resamples=50, force=True)
    pool = load_pool(config)
    assert len(pool.ids) == 330 >= MIN_REFERENCE_TEXTS
    P = run.predict_proba(pool.texts)
    unlabeled = ~np.isin(pool.ids, config_labels(config)["id"].tolist())
    assert unlabeled.sum() == 300

    same = predict_file(config, write_csv(tmp_path / "same.csv", [r["text"] for r in extra[::2]]), run=run)
    rep = drift(config, same.path, run=run)
    assert rep.label_reference == "the run's predictions on the pool (330 texts)"
    expected = np.bincount(P.argmax(1), minlength=3) / 330
    assert rep.ref_dist == pytest.approx(expected.tolist(), abs=1e-12) and not rep.reference_biased
    # confidence: the random reserve's texts nobody labeled (a uniform draw the run never trained on), not all
    # the texts nobody labeled (which lack the queue's hard picks)
    from labeler.loop.policy import project_reserve

    unseen = unlabeled & project_reserve(config).mask(pool.ids)
    assert unseen.sum() >= 50
    assert rep.conf_reference == f"{int(unseen.sum())} random reserve texts nobody labeled"
    assert rep.conf_ref_median == pytest.approx(float(np.median(P[unseen].max(1))), abs=1e-6)
    assert rep.label_drift == "none" and rep.chance_p >= 0.05
    sports = predict_file(config, write_csv(tmp_path / "sports.csv", [r["text"] for r in extra if r["label"] == "sports"]),
                          run=run)
    rep = drift(config, sports.path, run=run)
    assert rep.label_drift == "major" and rep.chance_p < 0.001 and "most moved: sports" in rep.words[0]


def config_labels(config):
    from labeler.project import Project

    return Project(config).load_labels()


def test_predict_says_why_rows_were_rejected_and_refuses_an_out_file_it_cannot_write(tmp_path):
    from labeler.errors import LabelerError

    cfg = make_project(tmp_path)
    config = load_config(cfg)
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "the team won"}\n{bad json\n{"text": null}\n{"text": "shares fell"}\n')
    with pytest.raises(LabelerError, match=r"^--out .*x\.txt: write a \.csv, \.jsonl, \.parquet or \.xlsx file$"):
        predict_file(config, src, out=tmp_path / "x.txt", run=_StubRun(LABELS))
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "state" / "predictions").exists()
    res = predict_file(config, src, run=_StubRun(LABELS))
    assert (res.n, res.rejected, res.rejects) == (2, 2, {"invalid JSON": 1, "null text": 1})
    assert "predicted 2 rows (2 rows rejected: 1 invalid JSON, 1 null text) with 20260101-000000-logreg: " in res.summary()


def test_the_out_file_keeps_the_inputs_id_name_and_other_columns(tmp_path, monkeypatch):
    """A user joins predictions back to their data: the --out file names the id column as the input does and
    carries the input's other columns (a truth column named like a prediction column becomes input_<name>); the
    log keeps its own schema."""
    from labeler.evaluation import predict

    config = load_config(make_project(tmp_path)).model_copy(deep=True)
    config.data.id_field = "ticket_id"
    monkeypatch.setattr(predict, "load_run", lambda config, run_id: _StubRun(LABELS))
    rows = [{"ticket_id": "t1", "text": "a late goal", "customer": "ACME", "label": "sports"},
            {"ticket_id": "t2", "text": "", "customer": "Initech", "label": "tech"},
            {"ticket_id": "t3", "text": "a new chip", "customer": "Umbrella", "label": "tech"}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for suffix in (".csv", ".jsonl", ".parquet", ".xlsx"):
        res = predict.predict_file(config, src, out=tmp_path / f"out{suffix}")
        out = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".xlsx": pd.read_excel,
               ".jsonl": lambda p: pd.read_json(p, lines=True)}[suffix](tmp_path / f"out{suffix}")
        assert list(out.columns[:6]) == ["ticket_id", "text", "customer", "input_label", "label", "score"]
        assert out["ticket_id"].tolist() == ["t1", "t3"] and out["customer"].tolist() == ["ACME", "Umbrella"]
        assert out["input_label"].tolist() == ["sports", "tech"] and out["label"].tolist() == ["sports", "tech"]
        assert res.summary().endswith(f"written to {tmp_path / f'out{suffix}'} (with the input's 'customer', 'label' "
                                      "as 'input_label')")
        assert list(pd.read_parquet(res.path).columns) == prediction_columns(["text"], LABELS)
    # a nested object is carried as it is, not also as its dotted fields
    nested = tmp_path / "nested.jsonl"
    nested.write_text(json.dumps({"ticket_id": "t9", "text": "a late goal", "meta": {"customer": "ACME"}}) + "\n")
    predict.predict_file(config, nested, out=tmp_path / "nested_out.jsonl")
    written = pd.read_json(tmp_path / "nested_out.jsonl", lines=True)
    assert "meta" in written.columns and "meta.customer" not in written.columns
    assert written["meta"].tolist() == [{"customer": "ACME"}]
    predict.predict_file(config, nested, out=tmp_path / "nested_out.xlsx")  # a cell holds the object as JSON text
    assert pd.read_excel(tmp_path / "nested_out.xlsx")["meta"].tolist() == ['{"customer": "ACME"}']
    listed = tmp_path / "listed.jsonl"  # a label list (a multi-label export) is JSON in a CSV too, not Python's repr
    listed.write_text(json.dumps({"ticket_id": "t8", "text": "a late goal", "tags": ["sad", "café"]}) + "\n")
    predict.predict_file(config, listed, out=tmp_path / "listed_out.csv")
    assert pd.read_csv(tmp_path / "listed_out.csv")["tags"].tolist() == ['["sad", "café"]']
    parquet = tmp_path / "in.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    out = predict.predict_file(config, parquet, out=tmp_path / "p.csv")
    assert pd.read_csv(tmp_path / "p.csv")["customer"].tolist() == ["ACME", "Umbrella"] and out.rejected == 1


def test_predict_reads_a_folder_of_text_files_and_a_saved_dataset_from_the_cli(tmp_path, monkeypatch, capsys):
    """``--input`` takes what ``data.path`` takes: a folder of text files (one text per file; the click option
    refused folders) and a saved Hugging Face dataset; the log's fingerprint covers the folder's files."""
    from labeler.cli import main
    from labeler.evaluation import predict

    datasets = pytest.importorskip("datasets")
    cfg = make_project(tmp_path)
    monkeypatch.setattr(predict, "load_run", lambda config, run_id: _StubRun(LABELS))
    folder = tmp_path / "inbox"
    (folder / "sport").mkdir(parents=True)
    (folder / "sport" / "a.txt").write_text("a late goal", encoding="utf-8")
    (folder / "b.txt").write_text("a new chip", encoding="utf-8")
    main(["predict", "-c", str(cfg), "--input", str(folder), "--out", str(tmp_path / "out.csv")])
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out[["path", "text", "folder", "label"]].values.tolist() == [
        ["b.txt", "a new chip", "", "tech"], ["sport/a.txt", "a late goal", "sport", "sports"]]
    first = out["input_fingerprint"][0]
    (folder / "b.txt").write_text("a newer chip", encoding="utf-8")
    main(["predict", "-c", str(cfg), "--input", str(folder), "--out", str(tmp_path / "out.csv")])
    assert pd.read_csv(tmp_path / "out.csv")["input_fingerprint"][0] != first  # an edited file is another batch
    datasets.Dataset.from_list([{"text": "a late goal"}, {"text": "a new chip"}]).save_to_disk(str(tmp_path / "ds"))
    main(["predict", "-c", str(cfg), "--input", str(tmp_path / "ds"), "--out", str(tmp_path / "ds.csv")])
    assert pd.read_csv(tmp_path / "ds.csv")["label"].tolist() == ["sports", "tech"]
    assert "Traceback" not in capsys.readouterr().err
