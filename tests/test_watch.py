"""``labeler watch``: the continuous loop against the real local server (webhook and polling paths, kill -9
mid-refresh and restart, one watcher per project, Ctrl-C), and its parts in isolation (state, lock, the
signed-webhook receiver, the swap rule)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np
import pytest

from labeler.errors import LabelerError
from labeler.watch.listener import Inbox, Listener
from labeler.watch.state import WatchLock, WatchState, running, status_line

REPO = Path(__file__).resolve().parents[1]


# -- parts -----------------------------------------------------------------------------------------------
def test_state_round_trip_and_status_line(tmp_path):
    assert status_line(tmp_path) is None  # no watcher ever ran
    st = WatchState(processed=["a|u|t1", "b|u|t2"], refreshes=3, last_refresh=1000.0, backlog=4, mode="webhook",
                    pid=123)
    st.save(tmp_path)
    back = WatchState.load(tmp_path)
    assert back == st
    assert status_line(tmp_path, now=1090.0) == ("watcher: not running; 3 refreshes, last 90s ago; backlog 4 answers "
                                                 "(2 processed)")
    WatchState(processed=["a|u|t1"], refreshes=1, last_refresh=1000.0, backlog=1, mode="webhook", pid=123).save(tmp_path)
    assert status_line(tmp_path, now=1090.0) == ("watcher: not running; 1 refresh, last 90s ago; backlog 1 answer "
                                                 "(1 processed)")


def test_second_watcher_on_a_project_refuses_in_one_line(tmp_path):
    with WatchLock(tmp_path):
        assert running(tmp_path)
        with pytest.raises(LabelerError) as err:
            with WatchLock(tmp_path):
                pass
        assert str(err.value) == (f"a watcher is already running on {tmp_path} (pid {os.getpid()}); "
                                  "stop it first (Ctrl-C, or kill its pid)")
    assert not running(tmp_path)


def _event(dataset_id: str, status: str = "submitted", kind: str = "response.created") -> dict:
    return {"type": kind, "version": 1, "timestamp": "2026-11-30T00:00:00.000000Z",
            "data": {"status": status, "record": {"dataset": {"id": dataset_id}}}}


def _signed(secret: str, payload: dict) -> tuple[bytes, dict]:
    from standardwebhooks.webhooks import Webhook

    body = json.dumps(payload)
    now = datetime.now(timezone.utc)
    signature = Webhook(secret).sign("msg_1", now, body)
    return body.encode(), {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
                           "webhook-signature": signature, "content-type": "application/json"}


def test_listener_acts_only_on_signed_answers_to_its_dataset():
    secret = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    inbox = Inbox("ds-1")
    with Listener("127.0.0.1", 0, inbox) as lst:
        lst.secret = secret
        body, headers = _signed(secret, _event("ds-1"))
        assert httpx.post(lst.url, content=body, headers=headers).status_code == 204
        assert httpx.post(lst.url, content=body, headers={**headers, "webhook-signature": "v1,AAAA"}).status_code == 401
        assert httpx.post(lst.url, content=body, headers={"content-type": "application/json"}).status_code == 401
        wrong, h2 = _signed("whsec_" + "b3RoZXItc2VjcmV0LW90aGVy", _event("ds-1"))
        assert httpx.post(lst.url, content=wrong, headers=h2).status_code == 401
        for payload in (_event("ds-2"), _event("ds-1", status="draft"), _event("ds-1", kind="record.updated")):
            b, h = _signed(secret, payload)
            assert httpx.post(lst.url, content=b, headers=h).status_code == 204
    assert (inbox.take(), inbox.rejected, inbox.other) == (1, 3, 2)  # the draft wakes, but is not an answer
    assert inbox.wake.is_set()


def _swap_project(tmp_path, task: str):
    """A config (``task: {labels: ...}``, min_gold 20), 400 record ids and the project's random reserve."""
    from labeler.config import load_config
    from labeler.loop.policy import project_reserve

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {{path: {tmp_path / 'x.csv'}}}\ntask: {{labels: {task}}}\n"
                   f"project: {{dir: {tmp_path / 'state'}}}\ntraining: {{min_gold: 20}}\n")
    config = load_config(cfg)
    return config, [f"r{i}" for i in range(400)], project_reserve(config)


def test_swap_rule_on_random_gold(tmp_path):
    """No current run: swap; too little gold: swap with "no verdict"; a run clearly worse on gold: keep."""
    import pandas as pd

    from labeler.evaluation.gold import gold_rows
    from labeler.watch.finetune import decide

    config, ids, reserve = _swap_project(tmp_path, "[a, b]")
    gold = [i for i, rid in enumerate(ids) if reserve.contains(rid)]
    y = np.array([i % 2 for i in range(len(ids))])
    good, bad = np.eye(2)[y], np.eye(2)[1 - y]
    assert decide(config, reserve, "run-2", ids, good, None, None) == (True, "first run: run-2 joins the ensemble per "
                                                                  "training.mode (join)")
    Path(config.project.dir).mkdir(parents=True)
    few = gold[:5]
    pd.DataFrame({"id": [ids[i] for i in few], "label": [["a", "b"][y[i]] for i in few], "labels": [[]] * len(few),
                  "status": "submitted"}).to_parquet(Path(config.project.dir) / "labels.parquet")
    swap, why = decide(config, reserve, "run-2", ids, bad, good, "run-1")
    assert swap and why.startswith("no verdict against run-1 (not enough")
    pd.DataFrame({"id": [ids[i] for i in gold], "label": [["a", "b"][y[i]] for i in gold],
                  "labels": [[]] * len(gold), "status": "submitted"}).to_parquet(Path(config.project.dir) / "labels.parquet")
    swap, why = decide(config, reserve, "run-2", ids, bad, good, "run-1")
    n_gold = len(gold_rows(config, reserve, ids, pd.read_parquet(Path(config.project.dir) / "labels.parquet"))[0])  # the reserve's answered records split gold / calibration
    assert 20 <= n_gold < len(gold)
    z2 = 1.959964 ** 2  # Newcombe's paired score interval for 0 of n right against n of n: -1 .. -1 + sqrt(2) z^2/(n + z^2)
    assert not swap and why == (f"kept run-1: run-2 is worse (-1.000 accuracy vs run-1, 95% CI -1.000.."
                                f"{-1 + 2 ** 0.5 * z2 / (n_gold + z2):+.3f}, {n_gold} gold labels)")
    assert decide(config, reserve, "run-2", ids, good, bad, "run-1")[0]
    # both runs held the calibration labels out: the verdict counts them with gold, as compare's does
    from types import SimpleNamespace

    runs = tuple(SimpleNamespace(run_id=r, backend="logreg", info={"n_calib": 5, "calibrated": True})
                 for r in ("run-2", "run-1"))
    n_all = len(gold)  # every answered reserve record: gold + calibration
    swap, why = decide(config, reserve, "run-2", ids, bad, good, "run-1", runs)
    assert not swap and why == (f"kept run-1: run-2 is worse (-1.000 accuracy vs run-1, 95% CI -1.000.."
                                f"{-1 + 2 ** 0.5 * z2 / (n_all + z2):+.3f}, {n_all} random labels "
                                f"(gold {n_gold} + calibration {n_all - n_gold}))")
    old = (runs[0], SimpleNamespace(run_id="run-1", backend="logreg", info={"n_calib": 0}))  # trained on them
    assert decide(config, reserve, "run-2", ids, bad, good, "run-1", old)[1].endswith(f"{n_gold} gold labels)")
    final = (runs[0], SimpleNamespace(run_id="run-1", backend="logreg", info={"final_fit": {"folds": 5}}))
    assert decide(config, reserve, "run-2", ids, bad, good, "run-1", final) == (True, (  # gold cannot judge a final fit
        "no verdict against run-1 (a final fit: it trained on the gold labels, which cannot judge it); run-2 saw the "
        "new labels"))


# -- against the real server ---------------------------------------------------------------------------------
def _project(tmp_path, name: str, extra: list[str] = ()):
    from labeler.config import load_config

    rows = [json.loads(line) for line in (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()][:80]
    data = tmp_path / "tickets.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cfg = tmp_path / "watch.yaml"
    cfg.write_text((REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(data)))
    sets = [f"argilla.dataset=watch-{name}-{tmp_path.name[-8:].lower()}", "queue.batch_size=20",
            f"project.dir={tmp_path / 'state'}", "training.backend=logreg", "watch.refresh_every=5",
            "watch.poll_seconds=1", *extra]
    return load_config(cfg, sets), cfg, sets


def _watch(cfg, sets, *args, env=None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "labeler.cli", "watch", "-c", str(cfg), *[a for s in sets for a in ("--set", s)], *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})


def _state(config) -> dict:
    path = Path(config.project.dir) / "watch.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _wait(pred, timeout: float, what: str, proc: subprocess.Popen | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"watcher exited ({proc.returncode}) before {what}: {proc.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _records(client, config) -> dict:
    ds = client.datasets(name=config.argilla.dataset)
    out = {}
    for r in ds.records(with_responses=True, with_suggestions=True):
        s = r.suggestions["label"]
        out[r.id] = {"responses": sorted((x.user_id, x.status, str(x.value)) for x in r.responses),
                     "agent": s.agent, "suggestion": (s.value, s.score)}
    return out


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


@pytest.mark.slow
@pytest.mark.server
def test_watch_webhooks_refresh_pending_survive_kill9_and_stop_cleanly(tmp_path, argilla_server, argilla_client):
    from labeler.argilla.datasets import find_dataset, submitted_keys
    from labeler.argilla.webhooks import list_hooks
    from labeler.evaluation.gold import TRAIN
    from labeler.loop.policy import project_reserve
    from labeler.loop.round import connection, push_queue, simulate_annotator
    from labeler.project import Project
    from labeler.loop.scoring import bootstrap

    config, cfg, sets = _project(tmp_path, "hook", ["watch.fine_tune=false"])
    bootstrap(config, progress=False)
    assert push_queue(config, progress=False).created == 20
    conn = connection(config)
    marker = f"labeler watch: {Path(config.project.dir).resolve()}"

    w1 = _watch(cfg, sets)
    _wait(lambda: _state(config).get("mode") == "webhook", 90, "the watcher to start", w1)
    assert [h.description.startswith(marker) for h in list_hooks(conn)].count(True) == 1
    second = subprocess.run([sys.executable, "-m", "labeler.cli", "watch", "-c", str(cfg),
                             *[a for s in sets for a in ("--set", s)]], capture_output=True, text=True, timeout=120)
    assert second.returncode != 0
    assert second.stderr.strip().splitlines() == [f"Error: a watcher is already running on {config.project.dir} "
                                                  f"(pid {w1.pid}); stop it first (Ctrl-C, or kill its pid)"]

    before = _records(argilla_client, config)
    assert simulate_annotator(config, 5).answered == 5
    _wait(lambda: _state(config).get("refreshes") == 1, 90, "the first refresh", w1)
    after = _records(argilla_client, config)
    labels = Project(config).load_labels()
    n_train = sum(1 for s in project_reserve(config).splits(labels["id"].tolist()).values() if s == TRAIN)
    answered = {rid for rid, v in after.items() if v["responses"]}
    assert len(answered) == 5 and len(after) == 25  # 15 pending + 5 new: the queue is topped up to 20
    assert {rid: after[rid]["agent"] for rid in answered} == {rid: before[rid]["agent"] for rid in answered}
    pending_agents = {v["agent"] for rid, v in after.items() if rid not in answered}
    assert pending_agents <= {f"ensemble/fast-model-n{n_train}", f"fast-model-n{n_train}"}, pending_agents
    guidelines = find_dataset(conn, config.argilla.dataset).settings.guidelines
    assert (f" by labeler watch after 5 answers. Suggestions: the ensemble with the fast model fast-model-n{n_train}. "
            "Current fine-tuned run: none yet.") in guidelines
    out = _stop(w1)
    assert out.rstrip().endswith("watcher stopped: 1 refresh in all, backlog 0 answers")
    assert not any(h.description.startswith(marker) for h in list_hooks(conn))  # Ctrl-C removed its webhook
    assert status_line(config.project.dir).startswith("watcher: not running; 1 refresh, last ")

    # kill -9 in the middle of a refresh (stalled between re-scoring and pushing), then restart
    w2 = _watch(cfg, sets, env={"LABELER_WATCH_FAULT_PAUSE": "60"})
    _wait(lambda: _state(config).get("pid") == w2.pid, 90, "the second watcher to start", w2)
    assert simulate_annotator(config, 5).answered == 5
    lock = Path(config.project.dir) / ".labeler.lock"
    _wait(lambda: lock.exists() and lock.read_text().startswith("watch refresh"), 90, "the refresh to begin", w2)
    time.sleep(1.0)
    w2.kill()
    w2.wait(timeout=30)
    assert _state(config)["refreshes"] == 1 and len(_state(config)["processed"]) == 5  # nothing half-recorded

    w3 = _watch(cfg, sets)
    _wait(lambda: _state(config).get("refreshes") == 2, 90, "the catch-up refresh", w3)
    dataset = find_dataset(conn, config.argilla.dataset)
    st = _state(config)
    assert set(st["processed"]) == submitted_keys(conn, dataset.id) and len(st["processed"]) == 10
    final = _records(argilla_client, config)
    assert len(final) == 30 and sum(bool(v["responses"]) for v in final.values()) == 10  # no duplicate, none lost
    assert len(Project(config).load_labels()) == 10
    out = _stop(w3)
    assert "1 stale webhook of an earlier watcher removed" in out
    assert not any(h.description.startswith(marker) for h in list_hooks(conn))


@pytest.mark.slow
@pytest.mark.server
def test_watch_polling_fine_tunes_in_the_background_and_swaps_the_run_in(tmp_path, argilla_server, argilla_client):
    from labeler.loop.round import push_queue, simulate_annotator
    from labeler.loop.runs import current_run
    from labeler.loop.scoring import bootstrap

    config, cfg, sets = _project(tmp_path, "poll", ["training.min_per_class=1", "watch.refresh_every=10"])
    bootstrap(config, progress=False)
    push_queue(config, progress=False)
    w = _watch(cfg, sets, "--mode", "polling")
    _wait(lambda: _state(config).get("mode") == "polling", 90, "the watcher to start", w)
    assert simulate_annotator(config, 20).answered == 20
    st = _wait(lambda: (s := _state(config)).get("swaps") and s, 240, "a background fine-tune", w)
    assert st["swaps"][0]["swapped"] is True and st["swaps"][0]["why"].startswith("first run: ")
    run_id = st["swaps"][0]["run_id"]
    assert current_run(config).run_id == run_id
    _wait(lambda: _state(config)["refreshes"] >= 2, 120, "the refresh after the swap", w)
    pending = {v["agent"] for v in _records(argilla_client, config).values() if not v["responses"]}
    assert pending <= {"ensemble", run_id}, pending  # the run joined: the fast model left the suggestions
    out = _stop(w)
    assert "fine-tune done in " in out and "fine-tune started in the background" in out


# -- answers logged in bulk through the SDK (issue 24) ---------------------------------------------------
def _record_event(dataset_id: str, record_id: str, status: str, kind: str = "record.updated") -> dict:
    """A record event as Argilla 2.8 sends it (``RecordEventSchema``: the dataset at ``data.dataset``)."""
    return {"type": kind, "version": 1, "timestamp": "2026-11-30T00:00:00.000000Z",
            "data": {"id": record_id, "status": status, "fields": {"text": "t"}, "external_id": "x",
                     "dataset": {"id": dataset_id}}}


def test_a_completed_record_event_is_an_answer_unless_a_response_event_announced_it():
    inbox = Inbox("ds-1")
    inbox.accept(_record_event("ds-1", "rec-a", "completed"))  # an SDK bulk log: no response event
    inbox.accept(_record_event("ds-1", "rec-b", "completed", kind="record.created"))  # an import with answers
    assert (inbox.take(), inbox.bulk) == (2, 2) and inbox.wake.is_set()
    inbox.wake.clear()
    for event in (_record_event("ds-1", "rec-c", "pending"), _record_event("ds-2", "rec-d", "completed"),
                  _record_event("ds-1", "rec-e", "completed", kind="record.deleted")):
        inbox.accept(event)  # labeler's own pushes (pending), another dataset, a deletion: nothing
    assert (inbox.take(), inbox.other, inbox.wake.is_set()) == (0, 3, False)
    ui = _event("ds-1")
    ui["data"]["record"]["id"] = "rec-f"
    inbox.accept(ui)  # the UI path: the response event, then the worker's record event for the same record
    inbox.accept(_record_event("ds-1", "rec-f", "completed"))
    assert (inbox.take(), inbox.bulk) == (1, 2)


def _bulk_answers(client, config, n: int) -> None:
    """Answer ``n`` pending records the way a script does: ``records.log`` with submitted responses."""
    import argilla as rg

    ds = client.datasets(name=config.argilla.dataset)
    me = client.me
    pending = [r for r in ds.records(with_responses=True) if not r.responses][:n]
    assert len(pending) == n
    ds.records.log([rg.Record(id=r.id, fields=dict(r.fields),
                              responses=[rg.Response("label", "billing", user_id=me.id, status="submitted")])
                    for r in pending])


def _push_twelve(config):
    """Twelve pending records in the project's dataset, as a push leaves them; the connection."""
    from labeler.argilla.push import PushRecord, push
    from labeler.loop.round import connection, dataset_spec

    conn = connection(config)
    push(conn, dataset_spec(config, [], None), [PushRecord(id=f"r{i}", fields={"text": f"ticket {i}"}, value="billing",
                                                           score=0.5, agent="a") for i in range(12)], progress=False)
    return conn


@pytest.mark.server
def test_answers_logged_in_bulk_through_the_sdk_reach_the_listener(tmp_path, argilla_server, argilla_client):
    from labeler.argilla import webhooks
    from labeler.argilla.datasets import find_dataset
    from labeler.watch.listener import WATCH_EVENTS

    config, _, _ = _project(tmp_path, "bulk")
    conn = _push_twelve(config)
    inbox = Inbox(str(find_dataset(conn, config.argilla.dataset).id))
    with Listener("127.0.0.1", 0, inbox) as lst:
        hook = webhooks.create(conn, lst.url, "labeler test: bulk answers", events=WATCH_EVENTS)
        lst.secret = hook.secret
        try:
            t0 = time.monotonic()
            _bulk_answers(argilla_client, config, 10)
            _wait(lambda: inbox.answers >= 10, 15, "10 bulk answers announced")
            seconds = time.monotonic() - t0
        finally:
            webhooks.delete(conn, hook.id)
    assert inbox.bulk == 10 and seconds < 15  # the 30 s safety look would have been the first to see them


@pytest.mark.server
def test_a_stopping_watcher_counts_its_backlog_on_the_server(tmp_path, argilla_server, argilla_client):
    from labeler.watch.runner import Watcher

    config, cfg, sets = _project(tmp_path, "backlog")
    conn = _push_twelve(config)
    watcher = Watcher(config, str(cfg), sets, echo=lambda m: None)
    watcher.conn, watcher.dataset_id, watcher.state = conn, watcher_dataset(conn, config), WatchState(backlog=0)
    _bulk_answers(argilla_client, config, 10)  # after the watcher's last look: it has not counted them
    watcher.close()
    assert watcher.state.backlog == 10


@pytest.mark.server
def test_a_watcher_waits_for_a_server_that_stops_answering(tmp_path, argilla_server, argilla_client, monkeypatch):
    """The server restarted under a running watcher (walk-through): it exited with "kept failing (ConnectError)
    after 5 tries". Now it says so once, keeps looking, and counts the answers given meanwhile once it is back."""
    import dataclasses

    from labeler.argilla import rest
    from labeler.watch.runner import Watcher

    monkeypatch.setattr(rest, "BACKOFF", 0.01)  # the retries themselves: not what is tested
    config, cfg, sets = _project(tmp_path, "down")
    conn = _push_twelve(config)
    said: list[str] = []
    watcher = Watcher(config, str(cfg), sets, echo=said.append, mode="polling")
    dead = dataclasses.replace(conn, url="http://127.0.0.1:9")  # nothing listens there: ConnectError
    watcher.conn, watcher.dataset_id, watcher.state = dead, watcher_dataset(conn, config), WatchState(backlog=0)
    waits: list[float] = []

    def wait(timeout: float) -> int:
        waits.append(timeout)
        if len(waits) == 2:  # the server is back, with 3 answers given while it was away
            watcher.conn = conn
            _bulk_answers(argilla_client, config, 3)
        if len(waits) == 3:
            watcher.stopping = True
        return 0

    watcher._loop(wait)
    assert said[0] == ("server unreachable (ConnectError after 5 tries): waiting for it, looking again every 10s "
                       "(Ctrl-C stops the watcher)")
    assert len(said) == 2 and said[1].startswith("server back after ") and said[1].endswith(
        "s; answers given meanwhile were counted")
    assert waits == [1.0, 1.0, 1.0] and watcher.state.backlog == 3  # polling every second; 3 < refresh_every 5


@pytest.mark.server
def test_a_watcher_whose_dataset_is_deleted_stops_in_one_line(tmp_path, argilla_server, argilla_client):
    """The dataset deleted in the UI under a running watcher: it exited with the raw "GET /api/v1/datasets/<id>/records
    failed: HTTP 404 ..."; it says the dataset is gone, that the answers are kept, and what pushes a new one."""
    from labeler.errors import LabelerError
    from labeler.watch.runner import Watcher

    config, cfg, sets = _project(tmp_path, "gone")
    conn = _push_twelve(config)
    watcher = Watcher(config, str(cfg), sets, echo=lambda line: None, mode="polling")
    watcher.conn, watcher.dataset_id, watcher.state = conn, watcher_dataset(conn, config), WatchState(backlog=0)
    assert watcher._look() == 0
    argilla_client.datasets(name=config.argilla.dataset).delete()
    with pytest.raises(LabelerError) as err:
        watcher._look()
    assert str(err.value) == (f"dataset {config.argilla.dataset!r} is gone from the server: the watcher stops (`labeler "
                              "round` or `labeler watch` again pushes the first batch)")


def test_a_server_gone_mid_refresh_is_waited_for_too(tmp_path, monkeypatch):
    """A refresh whose every retry failed used to end in "refresh skipped: ... Re-run the command"; it is the same
    wait as a failed look, and the refresh it owes runs once the server is back."""
    from labeler.argilla.rest import RetriesExhausted
    from labeler.watch import runner

    config, cfg, sets = _project(tmp_path, "midway")
    said: list[str] = []
    watcher = runner.Watcher(config, str(cfg), sets, echo=said.append, mode="polling")
    watcher.conn, watcher.dataset_id, watcher.state = None, None, WatchState(backlog=0)  # no dataset: refresh at once

    def gone(*args):
        raise RetriesExhausted("Argilla at http://x kept failing", "ConnectError", 5)

    monkeypatch.setattr(runner, "refresh", gone)
    monkeypatch.setattr(runner.finetune, "due", lambda config: None)
    watcher._loop(lambda timeout: setattr(watcher, "stopping", True) or 0)
    assert said == ["server unreachable (ConnectError after 5 tries): waiting for it, looking again every 10s "
                    "(Ctrl-C stops the watcher)"]


def watcher_dataset(conn, config) -> str:
    from labeler.argilla.datasets import find_dataset

    return str(find_dataset(conn, config.argilla.dataset).id)


def test_swap_rule_judges_multi_label_runs_at_their_own_cuts_on_the_verdict_metric(tmp_path):
    """A multi-label run whose probabilities are right only at its own low cuts is not "worse" than the current
    one: each run is cut where it was saved to be cut, and the verdict is on micro-F1, as compare's is."""
    from types import SimpleNamespace

    import pandas as pd

    from labeler.watch.finetune import decide

    config, ids, reserve = _swap_project(tmp_path, "[a, b], multi_label: true")
    Y = np.array([[i % 2, (i // 2) % 2] for i in range(len(ids))])
    answered = [i for i, rid in enumerate(ids) if reserve.contains(rid)]
    Path(config.project.dir).mkdir(parents=True)
    pd.DataFrame({"id": [ids[i] for i in answered], "label": None,
                  "labels": [[lab for lab, v in zip("ab", Y[i]) if v] for i in answered],
                  "status": "submitted"}).to_parquet(Path(config.project.dir) / "labels.parquet")
    low = np.where(Y == 1, 0.3, 0.1)  # right at a 0.2 cut, predicts nothing at 0.5
    sure = Y.astype(float)
    runs = (SimpleNamespace(run_id="run-2", backend="logreg", labels=["b", "a"], cuts=np.array([0.2, 0.2]), info={}),
            SimpleNamespace(run_id="run-1", backend="logreg", labels=["a", "b"], cuts=None, info={}))
    swap, why = decide(config, reserve, "run-2", ids, low, sure, "run-1", runs)
    # both perfect: no difference, with the Wilson-joined interval of two perfect F1s (not +0.000..+0.000)
    assert swap and why == "run-2 swapped in (+0.000 micro-F1 vs run-1, 95% CI -0.090..+0.090, 54 gold labels)"
    uncut = (SimpleNamespace(**{**vars(runs[0]), "cuts": None}), runs[1])  # saved without cuts: task.threshold
    swap, why = decide(config, reserve, "run-2", ids, low, sure, "run-1", uncut)
    assert not swap and why.startswith("kept run-1: run-2 is worse (-1.000 micro-F1 vs run-1")


def test_a_multi_label_project_retrains_on_new_records_not_on_label_positives(tmp_path, monkeypatch):
    """watch's fine-tune is due when the training *records* grew by ``training.retrain_after``; it counted each record
    once per label, so a multi-label project (2-3 labels a record) retrained at once with nothing new."""
    from types import SimpleNamespace

    import pandas as pd

    from labeler.evaluation.gold import TRAIN
    from labeler.loop.runs import train_counts, train_records
    from labeler.watch import finetune

    config, ids, reserve = _swap_project(tmp_path, "[a, b, c], multi_label: true")
    train = [rid for rid in ids if reserve.splits([rid])[rid] == TRAIN][:100]
    Path(config.project.dir).mkdir(parents=True)
    labels = [["a", "b"], ["a", "b", "c"], []]  # "None of these" is a training record too
    pd.DataFrame({"id": train, "label": None, "labels": [labels[i % 3] for i in range(100)],
                  "status": "submitted"}).to_parquet(Path(config.project.dir) / "labels.parquet")
    assert train_records(config, reserve) == 100 and sum(train_counts(config, reserve).values()) == 167
    monkeypatch.setattr(finetune, "trigger", lambda config, policy: SimpleNamespace(due=True, reason="due"))
    run = SimpleNamespace(run_id="run-1", info={"n_train": 100})
    monkeypatch.setattr(finetune, "current_run", lambda config: run)
    assert finetune.due(config) is None  # the run saw every record there is
    run.info["n_train"] = 80  # 25% more records since: past training.retrain_after
    assert config.training.retrain_after <= 0.25
    assert finetune.due(config) == "100 human training labels, 20 more than run run-1 saw"
