"""The whole weak-labeling loop through the real local server: bootstrap, push, annotate, pull, re-push."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labeler.config import load_config
from labeler.evaluation.gold import GoldReserve
from labeler.loop.round import pull_labels, push_queue, short_pool_note, simulate_annotator
from labeler.project import Project
from labeler.loop.pool_matrices import Scores
from labeler.loop.scoring import bootstrap
from labeler.status import status

REPO = Path(__file__).resolve().parents[1]
LABELS = ["billing", "technical_issue", "account_access", "shipping_delivery", "refund_request", "feature_request"]


@pytest.fixture
def small_project(tmp_path, argilla_server):
    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:60]
    rows.append({"id": "blank", "text": "   ", "label": "billing"})  # rejected, counted
    data = tmp_path / "tickets.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    demo = (REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(data))
    cfg = tmp_path / "loop.yaml"
    cfg.write_text(demo)
    return load_config(cfg, [f"argilla.dataset=loop-{tmp_path.name[-12:].lower()}", "queue.batch_size=12",
                             f"project.dir={tmp_path / 'state'}"])


def _pending_tab_priorities(dataset_id, key: str = "priority") -> list:
    """POST the body Argilla's UI sends for the Pending tab (status filters, no sort) as the owner."""
    import httpx

    from labeler.argilla.client import resolve

    conn = resolve()
    user = httpx.get(f"{conn.url}/api/v1/me", headers={"X-Argilla-Api-Key": conn.api_key}).json()
    body = {"query": {}, "filters": {"and": [
        {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
        {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]}]}}
    resp = httpx.post(f"{conn.url}/api/v1/me/datasets/{dataset_id}/records/search", json=body,
                      params={"offset": 0, "limit": 50}, headers={"X-Argilla-Api-Key": conn.api_key})
    assert resp.status_code == 200, resp.text
    assert user["username"] == "argilla"
    return [item["record"]["metadata"][key] for item in resp.json()["items"]]


@pytest.mark.slow
@pytest.mark.server
def test_bootstrap_push_annotate_pull_and_repush(small_project):
    config = small_project
    pool, scores = bootstrap(config, progress=False)
    assert len(pool) == 60 and pool.rejects == {"empty text": 1}
    assert scores.P.shape == (60, 6) and np.allclose(scores.P.sum(1), 1)
    # a second bootstrap reads every prediction from the cache and gives the same matrix
    _, again = bootstrap(config, progress=False)
    np.testing.assert_array_equal(again.P, scores.P)

    first = push_queue(config, progress=False)
    assert (first.created, first.refreshed, first.skipped_answered) == (12, 0, 0)
    # The UI's Pending tab (no sort chosen) shows the queue in priority order: 1, 2, 3, ...
    assert _pending_tab_priorities(first.dataset_id) == list(range(1, 13))
    # 20% of the batch is the random gold draw, marked for annotators and spread through the queue
    samples = _pending_tab_priorities(first.dataset_id, "sample")
    assert samples.count("random") == 2 and samples.count("queue") == 10
    assert samples.index("random") not in (0, 11)
    assert simulate_annotator(config, 5).answered == 5
    report = pull_labels(config)
    assert report.submitted == 5
    labels = pd.read_parquet(Project(config).labels)
    truth = {r.id: r.label for r in pool.records}
    assert all(truth[i] == lab for i, lab in zip(labels["id"], labels["label"]))

    # the queue is topped up to 12 pending: 7 refreshed + 5 new; the 5 answered are never resent
    second = push_queue(config, progress=False)
    assert (second.created, second.refreshed, second.skipped_answered) == (5, 7, 0)
    for _ in range(2):  # nobody answered since: pushing again only refreshes
        again = push_queue(config, progress=False)
        assert (again.created, again.refreshed, again.skipped_answered) == (0, 12, 0)
    assert _pending_tab_priorities(first.dataset_id) == list(range(1, 13))
    st = status(config)
    assert st["pool"] == 60 and st["labeled"] == 5 and st["pushed"] == 17 and st["round"] == 2
    assert sum(st["labeled_per_class"].values()) == 5
    assert Scores.load(Project(config).scores).ids == pool.ids


def demo_subset(tmp_path, n: int, *overrides: str):
    """The first ``n`` demo tickets as a project under ``tmp_path`` with the demo config: (rows, config)."""
    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:n]
    data = tmp_path / "t.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text((REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(data)))
    return rows, load_config(cfg, [f"project.dir={tmp_path / 'state'}", *overrides])


def test_embedding_temperature_is_fitted_on_human_labels(tmp_path):
    """With 12 human labels the embedding signal's temperature is fitted (NLL) and its fingerprint moves."""
    from labeler.data import load_pool
    from labeler.loop.scoring import build_signals, fit_embedding_temperatures
    from labeler.signals.cosine_calibration import fit_temperature

    rows, config = demo_subset(tmp_path, 24)
    pool = load_pool(config)
    signals = build_signals(config)
    labeled = pool.records[:12]
    texts, y = [r.text for r in labeled], [config.label_names.index(r.label) for r in labeled]
    assert fit_embedding_temperatures(config, signals, texts[:9], y[:9]) == {}  # fewer than 10 labels
    before = signals[0].fingerprint()
    fitted = fit_embedding_temperatures(config, signals, texts, y)
    expected = fit_temperature(signals[0].cosines(texts), y)
    assert fitted == {"embedding": pytest.approx(expected)}
    assert signals[0].params.temperature == pytest.approx(expected) and signals[0].fingerprint() != before


def test_a_refitted_temperature_writes_no_prediction_cache_of_its_own(tmp_path):
    """Each round's labels refit the embedding signal's temperature; ``bootstrap`` computes that signal from the
    cached embeddings instead of writing a prediction cache per temperature, which nothing would read again (one
    per round: 6.8 MB a round on BANKING77). Same matrix as through the cache."""
    from labeler.data import load_pool
    from labeler.loop.scoring import build_signals, fit_embedding_temperatures
    from labeler.signals.cache import score_cached

    rows, config = demo_subset(tmp_path, 40, "queue.gold_share=0")
    project = Project(config)
    bootstrap(config, progress=False)  # no labels yet: the configured temperature, through the cache
    caches = {p.name for p in project.cache.iterdir() if (p / "predictions.sqlite").exists()}
    for n in (12, 16):  # two rounds' labels: two temperatures
        pd.DataFrame([{"id": r["id"], "text": r["text"], "fields": json.dumps({"text": r["text"]}), "label": r["label"],
                       "labels": [], "status": "submitted", "annotator": "a", "n_annotators": 1, "agreement": None,
                       "submitted_at": None, "round": 0} for r in rows[:n]]).to_parquet(project.labels, index=False)
        _, scores = bootstrap(config, progress=False)
        assert {p.name for p in project.cache.iterdir() if (p / "predictions.sqlite").exists()} == caches
    pool, signals = load_pool(config), build_signals(config)
    fit_embedding_temperatures(config, signals, [r["text"] for r in rows[:16]],
                               [config.label_names.index(r["label"]) for r in rows[:16]])
    emb = next(s for s in signals if s.type_name == "embedding")
    np.testing.assert_allclose(scores.signals[emb.name],
                               score_cached(emb, pool.ids, pool.texts, tmp_path / "other", progress=False), rtol=1e-12)


def test_the_caches_earlier_rounds_wrote_per_refitted_temperature_are_removed(tmp_path):
    """Earlier versions wrote a prediction cache at every round's refitted temperature; ``prune_refitted_caches``
    removes those (the configured signal's own cache and every other signal's stay) and says so in one line."""
    from labeler.data import load_pool
    from labeler.loop.scoring import build_signals, prune_refitted_caches
    from labeler.signals.cache import score_cached

    rows, config = demo_subset(tmp_path, 20)
    bootstrap(config, progress=False)  # every configured signal's cache, the embedding one at its configured temperature
    cache = Project(config).cache
    kept = sorted(p.parent.name for p in cache.glob("*/signal.json"))
    pool = load_pool(config)
    for t in (0.031, 0.047):  # two earlier rounds' temperatures, as bootstrap used to write them
        sig = next(s for s in build_signals(config) if s.type_name == "embedding")
        sig.params = sig.params.model_copy(update={"temperature": t})
        score_cached(sig, pool.ids, pool.texts, cache, progress=False)
    assert len(list(cache.glob("*/signal.json"))) == len(kept) + 2
    line = prune_refitted_caches(config)
    assert line.startswith("removed 2 prediction caches of temperatures refitted in earlier rounds (")
    assert sorted(p.parent.name for p in cache.glob("*/signal.json")) == kept
    assert prune_refitted_caches(config) is None


def test_a_push_short_of_its_batch_says_why():
    reserve = GoldReserve(0.2)
    ids = [f"r{i}" for i in range(40)]
    inside = [i for i in ids if reserve.contains(i)]
    outside = [i for i in ids if not reserve.contains(i)]
    assert len(inside) == 11
    assert short_pool_note(ids, set(ids[:10]), 10, 10, reserve) is None  # a full batch
    assert short_pool_note(ids, set(ids), 0, 10, reserve) == (
        "every record in the pool has been asked (40): add records to the data file (`labeler bootstrap` reads them) "
        "to go on")
    # the queue ran dry, the reserve did not: its records come in at the gold share
    assert short_pool_note(ids, set(outside) | set(inside[:2]), 2, 10, reserve) == (
        "2 new of the 10 the batch asks for: every record outside the random reserve has been asked; its 9 unasked "
        "records come in at queue.gold_share of each batch")
    # records the queue could still ask: no claim
    assert short_pool_note(ids, set(inside), 0, 10, reserve) is None
