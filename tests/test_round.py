"""``labeler round`` through the real local server: pull, train (logreg), re-score with the run, push.

Afterwards the pending records carry suggestions from the rescored ensemble (agent = the run id where the
run dominates, always under ``training.mode: replace``) and the answered records are exactly as they were.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from labeler.config import load_config
from labeler.loop.join import suggestion_agent
from labeler.loop.round import push_queue, run_round, simulate_annotator
from labeler.loop.suggest import suggestion
from labeler.loop.scoring import bootstrap

REPO = Path(__file__).resolve().parents[1]


def project(tmp_path, mode):
    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:60]
    data = tmp_path / "tickets.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    demo = (REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(data))
    cfg = tmp_path / "round.yaml"
    cfg.write_text(demo)
    overrides = [f"argilla.dataset=round-{mode}-{tmp_path.name[-10:].lower()}", "queue.batch_size=60",
                 f"project.dir={tmp_path / 'state'}", "training.backend=logreg", "training.min_per_class=2",
                 f"training.mode={mode}", "training.min_gold=5"]
    if mode == "replace":  # rules only: a weak ensemble the run clearly beats on gold
        overrides.append("signals=[{type: keywords, params: {ignore_case: true, keywords: {billing: ['invoice']}}}]")
    return load_config(cfg, overrides)


def snapshot(client, config):
    ds = client.datasets(name=config.argilla.dataset)
    out = {}
    for r in ds.records(with_responses=True, with_suggestions=True):
        s = r.suggestions["label"]
        out[r.id] = {"responses": sorted((x.user_id, x.status, str(x.value)) for x in r.responses),
                     "suggestion": (s.value, s.score, s.agent)}
    return out


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize("mode", ["join", "replace"])
def test_round_trains_rescores_and_refreshes_pending_suggestions(tmp_path, argilla_client, mode, monkeypatch):
    from labeler.argilla import rest
    from labeler.data.records import Pool

    config = project(tmp_path, mode)
    bootstrap(config, progress=False)
    assert push_queue(config, progress=False).created == 60
    assert simulate_annotator(config, 45).answered == 45
    before = snapshot(argilla_client, config)
    answered = {rid for rid, v in before.items() if v["responses"]}
    assert len(answered) == 45

    lines: list[str] = []
    reads, load = [], Pool.load.__func__
    monkeypatch.setattr(Pool, "load", classmethod(lambda cls, path: reads.append(Path(path).name) or load(cls, path)))
    walks, iter_records = [], rest.iter_records
    monkeypatch.setattr(rest, "iter_records", lambda *a, **k: walks.append(k.get("include")) or iter_records(*a, **k))
    out = run_round(config, progress=False, echo=lines.append)
    assert reads == ["pool.parquet"]  # read once, and handed to the trigger, the run, its comparison, bootstrap, push
    # every record read twice: the pull (whose view the push plans on) and the push's check just before it upserts
    assert walks == [("responses", "suggestions"), "responses"]
    # the pull collects the keys `labeler watch` marks answers processed with, as submitted_keys reads them
    from labeler.argilla.datasets import submitted_keys
    from labeler.loop.round import connection

    pulled = out["pulled"]
    assert len(pulled.answer_keys) == 45 and pulled.answer_keys == submitted_keys(connection(config), pulled.dataset_id)
    run_id, scores = out["trained"], out["scores"]
    assert run_id and scores.run_id == run_id and run_id in scores.signals
    assert lines[0] == "[1/4] pull" and "[2/4] train" in lines and lines[-3] == "[4/4] push"
    assert lines[-2:] == [f"  pushed to {config.argilla.dataset!r}: 0 new, 15 refreshed, 0 left untouched (already "
                          "answered)",  # answered ones are not even sent
                          "  note: every record in the pool has been asked (60): add records to the data file "
                          "(`labeler bootstrap` reads them) to go on"]
    if mode == "replace":
        assert scores.note.startswith(f"replace: run {run_id} beats the zero-shot ensemble (")
    else:
        assert scores.note.startswith("join: weights fitted on ")

    after = snapshot(argilla_client, config)
    assert {rid: after[rid] for rid in answered} == {rid: before[rid] for rid in answered}
    pos = {rid: i for i, rid in enumerate(scores.ids)}
    pending = set(after) - answered
    assert len(pending) == 15
    for rid in pending:
        i = pos[rid]
        voted = {n: not np.isnan(m[i]).all() for n, m in scores.signals.items()}
        expected = suggestion_agent(scores.weights, voted, run_id, "ensemble")
        value, score = suggestion(scores.P[i], config.label_names, False, 0.5)
        got_value, got_score, got_agent = after[rid]["suggestion"]
        assert (got_value, got_agent) == (value, expected) and got_score == pytest.approx(score)
        if mode == "replace":
            assert got_agent == run_id
            np.testing.assert_allclose(scores.P[i], scores.signals[run_id][i])
    if mode == "join":  # fitted weights leave the zero-shot signals in: the ensemble suggests
        assert {after[rid]["suggestion"][2] for rid in pending} == {
            suggestion_agent(scores.weights, {n: not np.isnan(m[pos[rid]]).all() for n, m in scores.signals.items()},
                             run_id, "ensemble") for rid in pending}


@pytest.mark.slow
@pytest.mark.server
def test_a_first_round_with_the_simulated_annotator_pushes_instead_of_failing(tmp_path, argilla_client):
    # `labeler round --simulate-annotator N` on a project never pushed: nothing to answer or pull yet, and the
    # round pushes the first batch (it stopped with "dataset ... not found; push first")
    config = project(tmp_path, "join")
    report = simulate_annotator(config, 10)
    assert report.answered == 0 and report.summary() == (
        f"simulated annotator: nothing to answer yet (no dataset {config.argilla.dataset!r} on the server; this round "
        "pushes one)")
    lines: list[str] = []
    run_round(config, progress=False, echo=lines.append)
    assert lines[1].startswith(f"  nothing to pull: dataset {config.argilla.dataset!r} not found on ") and \
        lines[1].endswith(" (this round pushes the first batch)")
    assert any(line.startswith(f"  pushed to {config.argilla.dataset!r}: 60 new") for line in lines)
    # the random picks are gold and calibration: the note no longer calls them all gold
    assert any(re.fullmatch(r"  note: \d+ of the new records (?:was|were) drawn at random \(the random reserve: gold, and "
                            r"calibration, never trained on\)", line) for line in lines)
    assert simulate_annotator(config, 10).answered == 10
    # the 60 records are all asked: the next push says so instead of pushing nothing in silence
    report = push_queue(config, progress=False)
    assert report.created == 0 and report.notes[-1] == (
        "every record in the pool has been asked (60): add records to the data file (`labeler bootstrap` reads them) "
        "to go on")
    # the dataset deleted (in the UI, or argilla.url pointed at another server): the answers stay, and the round
    # says so instead of "this round pushes the first batch"
    lines = []
    run_round(config, progress=False, echo=lines.append)  # pulls the 10 answers
    argilla_client.datasets(name=config.argilla.dataset).delete()
    lines = []
    run_round(config, progress=False, echo=lines.append)
    assert lines[1].endswith(" (the 10 answers pulled before are kept in labels.parquet; the dataset was deleted, or "
                             "argilla.url or argilla.workspace points elsewhere; this round pushes the queue to a new one)")
    assert any(line.startswith(f"  pushed to {config.argilla.dataset!r}: 50 new") for line in lines)
