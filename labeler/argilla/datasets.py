"""Looking up, deleting and reading the state of a dataset by name: the one place that does it.

Every call is under labeler's retry policy (``rest.with_retries``); a workspace that does not exist is a
one-line ``LabelerError``. ``workspace=None`` means the user's first workspace, where labeler creates the
dataset on first push.
"""

from __future__ import annotations

from labeler.argilla import rest
from labeler.argilla.client import connect
from labeler.argilla.connection import Connection
from labeler.errors import LabelerError


def workspace_name(client, workspace: str | None, url: str = "") -> str:
    """``workspace`` when it exists on the server, the user's first workspace when None."""
    names = rest.with_retries(lambda: [w.name for w in client.workspaces], "list workspaces", url)
    if workspace is None:
        if not names:
            raise LabelerError("the Argilla user has no workspace; set argilla.workspace or create one")
        return names[0]
    if workspace not in names:
        raise LabelerError(f"workspace {workspace!r} not found on {url or 'the Argilla server'} "
                           f"(this user sees: {', '.join(names) or 'none'}); check argilla.workspace")
    return workspace


def find_dataset(conn: Connection, name: str, workspace: str | None = None, client=None):
    """The ``argilla.Dataset`` called ``name`` in ``workspace``, or None when there is none.

    ``client`` reuses a connected SDK client (``client.connect``); without it one is made.
    """
    client = client if client is not None else connect(conn)
    ws = workspace_name(client, workspace, conn.url)
    return rest.with_retries(lambda: client.datasets(name=name, workspace=ws), f"find dataset {name!r}", conn.url)


def delete_dataset(conn: Connection, name: str, workspace: str | None = None, client=None) -> bool:
    """Delete the dataset (records and answers with it); False when there was none."""
    dataset = find_dataset(conn, name, workspace, client)
    if dataset is None:
        return False
    rest.request(conn, "DELETE", f"/api/v1/datasets/{dataset.id}")
    return True


def answered_ids(conn: Connection, dataset_id) -> tuple[set[str], set[str]]:
    """(all record ids in the dataset, ids of records with at least one response, drafts included)."""
    present, answered = set(), set()
    for rec in rest.iter_records(conn, dataset_id, include="responses"):
        rid = rec.get("external_id") or rec["id"]
        present.add(rid)
        if rec.get("responses"):
            answered.add(rid)
    return present, answered


def server_view(conn: Connection, name: str, workspace: str | None = None, client=None) -> tuple[set[str], set[str]]:
    """(ids present in the dataset, ids answered there); two empty sets before the dataset exists."""
    return dataset_view(conn, name, workspace, client)[1:]


def dataset_view(conn: Connection, name: str, workspace: str | None = None, client=None
                 ) -> tuple[str | None, set[str], set[str]]:
    """(the dataset's id, ids present in it, ids answered there); None and two empty sets before it exists."""
    dataset = find_dataset(conn, name, workspace, client)
    if dataset is None:
        return None, set(), set()
    return (str(dataset.id), *answered_ids(conn, dataset.id))


def answer_key(rid, resp: dict) -> str:
    """A submitted answer's key, ``<record id>|<user id>|<updated_at>``: a changed answer is a new key, the same
    answer read twice is the same key (``labeler watch`` counts answers with these)."""
    return f"{rid}|{resp['user_id']}|{resp.get('updated_at')}"


def submitted_keys(conn: Connection, dataset_id) -> set[str]:
    """The ``answer_key`` of every submitted answer in the dataset (a ``pull`` collects the same as it reads)."""
    keys = set()
    for rec in rest.iter_records(conn, dataset_id, include="responses"):
        rid = rec.get("external_id") or rec["id"]
        keys.update(answer_key(rid, resp) for resp in rec.get("responses") or [] if resp["status"] == "submitted")
    return keys
