"""A run's head reads the pool's words too (``queue.lexical``): the vocabulary fitted on the pool's texts is handed
to the backend (``training.train``'s ``lexical``), kept in the run folder (``lexical.pkl``), and read back by every
path that scores with the run (``predict_proba`` on texts, ``predict_proba_from_embeddings`` with the texts)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from training.errors import TrainingError
from training.head import ChainModel, LinearModel
from training.lexical import FILE, Lexical
from training.registry import load_run
from training.train import train

from tests.training.test_multilabel_run_cuts import LABELS
from tests.training.test_multilabel_run_cuts import _project as answers

WORDS = {"billing": "invoice charged twice", "shipping": "parcel courier late", "refund": "money back please"}


def _project(n=150, seed=0):
    """Multi-label answers whose texts carry their labels' words and whose vectors carry them faintly; splits
    given: n/3 gold, n/3 calibration, n/3 training."""
    return answers(n, seed, rate=0.4, signal=0.4, noise=1.0,
                   text=lambda i, labels: " ".join([f"case {i} of the words test"] + [WORDS[lab] for lab in labels]))


def test_a_logreg_run_with_the_words_is_the_head_on_the_features_by_hand_and_loads_the_same(tmp_path):
    df, Y, splits, embed = _project()
    texts = df["text"].tolist()
    lex = Lexical(0.5).fit(texts)
    run = train(df, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path, splits=splits, embed=embed,
                force=True, threshold=0.5, n_resamples=20, lexical=lex)
    assert run.info["lexical"] == {"weight": 0.5, "terms": lex.terms} and lex.terms >= 10
    assert (run.model_dir / FILE).exists()
    assert (f"Its head reads the texts' words beside their embeddings: TF-IDF over {lex.terms:,} word unigrams and "
            "bigrams of the pool, weight 0.5 (`model/lexical.pkl`).") in (run.path / "README.md").read_text()

    tr = [texts[i] for i in range(len(df)) if i % 3 == 2]
    gold = [texts[i] for i in range(len(df)) if i % 3 == 0]
    f32 = lambda batch: embed(batch).astype(np.float32)  # noqa: E731  (a body's vectors are float32)
    by_hand = LinearModel(3, True, C=10.0, seed=0).fit(lex.features(f32(tr), tr), Y[2::3])
    P = run.model.predict_proba(gold)
    np.testing.assert_allclose(P, by_hand.predict_proba(lex.features(f32(gold), gold)), rtol=0, atol=1e-12)

    again = load_run(run.run_id, tmp_path / "runs")  # a fresh Run: the head and the vocabulary from the folder
    assert again.model.lexical.terms == lex.terms
    np.testing.assert_array_equal(again.model.predict_proba(gold), P)
    np.testing.assert_array_equal(again.predict_proba_from_embeddings(f32(gold), gold), again.predict_proba(gold))
    with pytest.raises(TrainingError, match="reads the texts' words beside their embeddings: it needs the texts"):
        again.predict_proba_from_embeddings(embed(gold))

    # the words are what it reads: without them, another model (and here a worse one on gold)
    plain = train(df, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path / "b", splits=splits,
                  embed=embed, force=True, threshold=0.5, n_resamples=20)
    assert "lexical" not in plain.info and not (plain.model_dir / FILE).exists()
    assert "words" not in (plain.path / "README.md").read_text()
    assert run.metrics["gold"]["micro_f1"] > plain.metrics["gold"]["micro_f1"]

    from labeler.loop.run_lines import describe_run

    assert (f"  its head reads the pool's words beside the embeddings: {lex.terms:,} terms, weight 0.5 "
            "(queue.lexical)") in describe_run(run)


def test_a_final_fit_reads_the_words_in_every_fold(tmp_path):
    df, Y, splits, embed = _project()
    lex = Lexical(0.5).fit(df["text"].tolist())
    seen = []
    import training.train as train_mod

    real = train_mod.fit_model
    try:
        train_mod.fit_model = lambda *a, **k: seen.append(k.get("lexical")) or real(*a, **k)
        run = train(df, LABELS, multi_label=True, backend="logreg", project_dir=tmp_path, splits=splits, embed=embed,
                    force=True, threshold=0.5, n_resamples=20, final_fit=3, make_current=False, lexical=lex)
    finally:
        train_mod.fit_model = real
    assert seen == [lex] * 4 and run.info["lexical"]["terms"] == lex.terms and (run.model_dir / FILE).exists()


def test_the_chain_head_takes_the_words_as_it_takes_a_dense_matrix():
    df, Y, _, embed = _project(60)
    texts = df["text"].tolist()
    H = Lexical(0.5).fit(texts).features(embed(texts), texts)
    sparse_chain = ChainModel(3).fit(H, Y).predict_proba(H)
    np.testing.assert_allclose(sparse_chain, ChainModel(3).fit(H.toarray(), Y).predict_proba(H.toarray()),
                               rtol=0, atol=1e-6)


def test_a_projects_run_reads_the_words_where_the_queue_model_would(tmp_path):
    """``runs.run_lexical``: the config's ``queue.lexical`` (0 single-label by default), the queue model's switch
    (``Policy.lexical_weight``) on the labels the run trains on, the vocabulary of the pool's texts; a backend
    without a linear head (transformers) gets none."""
    from labeler.config import load_config
    from labeler.data import load_pool
    from labeler.loop.engine import Policy
    from labeler.loop.runs import run_lexical, train_project
    from labeler.project import Project
    from tests.test_train_cli import make_project

    cfg = make_project(tmp_path, per_class=12, min_per_class=2)
    config = load_config(cfg, ["queue.lexical=0.5"])
    pool = load_pool(config)
    labels = Project(config).load_labels()
    assert run_lexical(config, Policy.from_config(config), "logreg", labels, final_fit=True) is None  # 36 < 100
    policy = dataclasses.replace(Policy.from_config(config), lexical_min=0)  # the per-label rule alone
    lex = run_lexical(config, policy, "logreg", labels, final_fit=False)
    assert lex.weight == 0.5 and lex.terms == Lexical(0.5).fit(pool.texts).terms > 0
    assert run_lexical(config, policy, "setfit", labels, final_fit=False).terms == lex.terms
    assert run_lexical(config, policy, "transformers", labels, final_fit=False) is None
    assert run_lexical(load_config(cfg), Policy.from_config(load_config(cfg)), "logreg", labels, False) is None
    few = labels.iloc[:11]  # 11 labels, fewer than 4 per label of the 3 even before the reserve is taken out
    assert run_lexical(config, policy, "logreg", few, final_fit=True) is None

    run = train_project(config, force=True, n_resamples=20, policy=policy)
    assert run.info["lexical"] == {"weight": 0.5, "terms": lex.terms} and (run.model_dir / FILE).exists()

    # the round scores the pool with it from the embedding cache (``FinetunedSignal.predict_shared``): the texts go
    # with the vectors, so the matrix is the run's own on the texts
    from labeler.loop.scoring import bootstrap

    _, scores = bootstrap(config, progress=False, policy=policy)
    assert scores.run_id == run.run_id
    np.testing.assert_allclose(scores.signals[run.run_id], run.predict_proba(pool.texts), rtol=0, atol=1e-6)


def test_an_unreadable_vocabulary_is_one_training_error(tmp_path):
    from training import lexical

    assert lexical.load(tmp_path) is None  # no file: a run that reads the embeddings alone
    (tmp_path / FILE).write_bytes(b"not a pickle")
    with pytest.raises(TrainingError, match=f"its vocabulary {FILE} is unreadable .*; train the run again$"):
        lexical.load(tmp_path)
