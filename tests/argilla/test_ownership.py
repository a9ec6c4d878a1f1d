"""Two projects, one dataset name: a project pulls and pushes only the Argilla dataset that is its own
(``labeler.argilla.ownership``). Before, a second project whose config was named like the first (the default
dataset name is the config file's name) pulled the first one's answers into its labels."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from labeler.argilla.datasets import delete_dataset
from labeler.argilla.ownership import STATE_KEY, foreign, owned, record
from labeler.config import load_config
from labeler.errors import LabelerError
from labeler.loop.round import connection, pull_labels, push_queue, simulate_annotator
from labeler.loop.scoring import bootstrap
from labeler.project import Project

REPO = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:6900"
FIX = ("set argilla.dataset to a name of its own (the default is the config file's name, which other projects may "
       "share)")


def test_whose_dataset_by_the_recorded_id_else_by_the_pool():
    state: dict = {}
    assert owned(state, URL, None, "tickets") is None
    assert record(state, URL + "/", None, "tickets", "id-1") and not record(state, URL, None, "tickets", "id-1")
    assert state == {STATE_KEY: {f"{URL}||tickets": "id-1"}} and owned(state, URL, None, "tickets") == "id-1"
    assert owned(state, URL, "team", "tickets") is None  # another workspace: another dataset
    pool = ["a", "b", "c", "d"]
    assert foreign("id-1", "tickets", URL, None, set(), pool) is None  # none on the server: a push creates it
    assert foreign("id-1", "tickets", URL, "id-1", {"x", "y"}, pool) is None  # the recorded one, whatever it holds
    assert foreign("id-1", "tickets", URL, "id-2", {"a"}, pool) == (
        f"dataset 'tickets' on {URL} is not the one this project pushed to (that one was deleted and this one made "
        f"since, by another project or by hand); {FIX}, or delete it in Argilla to push again")
    # nothing recorded (never pushed there, or the state was lost): the records say
    assert foreign(None, "tickets", URL, "id-2", set(), pool) is None  # empty: nobody's yet
    assert foreign(None, "tickets", URL, "id-2", {"a", "b", "z"}, pool) is None  # mostly the pool's: adopted
    assert foreign(None, "tickets", URL, "id-2", {"a", "y", "z"}, pool) == (
        f"dataset 'tickets' on {URL} already holds 3 records, 1 of them from this project's pool: another project's "
        f"dataset; {FIX}")
    assert foreign(None, "tickets", URL, "id-2", {"a"}, None) == (
        f"dataset 'tickets' on {URL} already holds 1 records and this project has pushed none there; run `labeler "
        f"bootstrap` first, so its pool can tell whether they are its own, or {FIX}")


def _project(tmp_path: Path, rows: slice, name: str):
    tmp_path.mkdir(parents=True, exist_ok=True)
    lines = (REPO / "labeler/demo/tickets.jsonl").read_text().splitlines()[rows]
    data = tmp_path / "tickets.jsonl"
    data.write_text("\n".join(lines) + "\n")
    cfg = tmp_path / "project.yaml"
    cfg.write_text((REPO / "configs/demo.yaml").read_text().replace("../labeler/demo/tickets.jsonl", str(data)))
    return load_config(cfg, [f"argilla.dataset={name}", "queue.batch_size=20", f"project.dir={tmp_path / 'state'}"])


@pytest.mark.server
def test_a_second_project_under_the_same_name_neither_pulls_nor_pushes_the_first_ones(tmp_path, argilla_server):
    name = f"own-{uuid.uuid4().hex[:6]}"
    first = _project(tmp_path / "a", slice(0, 40), name)
    second = _project(tmp_path / "b", slice(60, 100), name)  # other tickets, other ids
    bootstrap(first, progress=False)
    assert push_queue(first, progress=False).created == 20
    assert simulate_annotator(first, 5).answered == 5 and pull_labels(first).submitted == 5
    url = connection(first).url
    # before its bootstrap the second cannot tell; after it, the records are not its pool's: refused, nothing written
    with pytest.raises(LabelerError, match=r"already holds 20 records and this project has pushed none there; run "
                                           r"`labeler bootstrap` first"):
        pull_labels(second)
    bootstrap(second, progress=False)
    for step in (pull_labels, lambda c: push_queue(c, progress=False)):
        with pytest.raises(LabelerError) as err:
            step(second)
        assert str(err.value) == f"dataset {name!r} on {url} already holds 20 records, 0 of them from this " \
                                 f"project's pool: another project's dataset; {FIX}"
    assert not Project(second).labels.exists()
    # a project whose state was lost finds its own dataset again by its records
    dataset_id = owned(Project(first).read_state(), url, None, name)
    Project(first).state.unlink()
    assert pull_labels(first).submitted == 5
    assert json.loads(Project(first).state.read_text())[STATE_KEY] == {f"{url}||{name}": dataset_id}
    # the dataset deleted and made again by the other project: the first one's pull refuses it
    assert delete_dataset(connection(first), name)
    assert push_queue(second, progress=False).created == 20
    with pytest.raises(LabelerError, match=r"is not the one this project pushed to \(that one was deleted"):
        pull_labels(first)
    assert pull_labels(second).submitted == 0
