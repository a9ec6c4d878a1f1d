"""Push three times, pull three times: the server and the label files end identical each time."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from labeler.argilla.client import Connection
from labeler.argilla.pull import pull
from labeler.argilla.push import push
from tests.reliability.faults import annotate, dataset_id, figures_of, make_records, make_spec, record_figures, snapshot

pytestmark = pytest.mark.server

N = 300


def test_push_three_times_and_pull_three_times_change_nothing(argilla_server, tmp_path):
    conn = Connection(argilla_server.url, argilla_server.api_key, "test")
    name = f"idem-{uuid.uuid4().hex[:6]}"
    spec, records = make_spec(name), make_records(N)
    first = push(conn, spec, records, batch_size=100, progress=False)
    assert (first.created, first.refreshed, first.skipped_answered) == (N, 0, 0)
    ds_id = dataset_id(conn, name)
    answered = [r.id for r in records[::10]]  # 30 answers, every 10th record
    assert annotate(conn, name, answered) == 30
    base = snapshot(conn, ds_id)
    assert base["rows"] == N and sum(bool(v) for v in base["responses"].values()) == 30

    for _ in range(3):
        again = push(conn, spec, records, batch_size=100, progress=False)
        assert (again.created, again.refreshed, again.skipped_answered) == (0, N - 30, 30)
        now = snapshot(conn, ds_id)
        assert now["rows"] == N and sorted(now["ids"]) == sorted(base["ids"])
        assert now["responses"] == base["responses"]
        assert now["suggestions"] == base["suggestions"]

    digests, reports = [], []
    for i in range(3):
        out = tmp_path / f"pull{i}"
        reports.append(pull(conn, spec, out))
        digests.append(tuple(hashlib.sha256((out / f).read_bytes()).hexdigest()
                             for f in ("labels.parquet", "responses.parquet")))
    assert digests[0] == digests[1] == digests[2]  # byte-identical files
    assert [r.submitted for r in reports] == [30, 30, 30]
    figs = figures_of(base, snapshot(conn, ds_id), {r.id for r in records})
    assert figs == {"records_lost": 0, "records_duplicated": 0, "responses_changed": 0}
    record_figures("idempotency: 4 pushes + 3 pulls of 300 records", faults=0, records=N, **figs)
