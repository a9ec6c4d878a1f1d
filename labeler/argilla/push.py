"""Push records with suggestions into Argilla, idempotently by record id.

A record that already has any human response (submitted, draft or discarded, from anyone) is never sent
again: its suggestion, metadata and responses stay exactly as they are. Pending records are upserted, so a
re-push refreshes their suggestion, priority and metadata and never creates duplicates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from labeler.argilla import rest
from labeler.argilla.client import Connection, connect
from labeler.argilla.schema import QUESTION, VECTOR, DatasetSpec, build_settings, check_compatible
from labeler.errors import LabelerError


@dataclass
class PushRecord:
    """One record as it goes to Argilla. ``fields`` is keyed by data column; ``score`` matches ``value``."""

    id: str
    fields: dict[str, str]
    value: str | list[str]
    score: float | list[float]
    agent: str
    metadata: dict = field(default_factory=dict)
    vector: list[float] | None = None


@dataclass
class PushReport:
    dataset: str
    dataset_id: str
    created: int = 0
    refreshed: int = 0
    skipped_answered: int = 0

    def summary(self) -> str:
        return (f"pushed to {self.dataset!r}: {self.created} new, {self.refreshed} refreshed, "
                f"{self.skipped_answered} left untouched (already answered)")


def ensure_dataset(client, spec: DatasetSpec, url: str = ""):
    """Return the project's dataset, creating it on first push; an incompatible existing one is an error."""
    import argilla as rg

    workspace = spec.workspace or rest.with_retries(lambda: _default_workspace(client), "list workspaces", url)
    dataset = rest.with_retries(lambda: client.datasets(name=spec.name, workspace=workspace), "find dataset", url)
    if dataset is not None:
        check_compatible(dataset, spec)
        _add_missing_metadata(dataset, spec)
        return dataset
    dataset = rg.Dataset(name=spec.name, workspace=workspace, settings=build_settings(spec), client=client)
    return dataset.create()


def _default_workspace(client) -> str:
    workspaces = list(client.workspaces)
    if not workspaces:
        raise LabelerError("the Argilla user has no workspace; set argilla.workspace or create one")
    return workspaces[0].name


def _add_missing_metadata(dataset, spec: DatasetSpec) -> None:
    """A new signal adds its "top_<signal>" property to an existing dataset."""
    wanted = build_settings(spec).metadata
    have = {m.name for m in dataset.settings.metadata}
    for prop in wanted:
        if prop.name not in have:
            dataset.settings.metadata.add(prop)
            prop.dataset = dataset
            prop.create()


def answered_ids(conn: Connection, dataset_id) -> tuple[set[str], set[str]]:
    """(all record ids in the dataset, ids of records with at least one response)."""
    present, answered = set(), set()
    for rec in rest.iter_records(conn, dataset_id, include="responses"):
        rid = rec.get("external_id") or rec["id"]
        present.add(rid)
        if rec.get("responses"):
            answered.add(rid)
    return present, answered


def _clean_metadata(meta: dict) -> dict:
    """JSON has no NaN: drop missing numbers instead of sending invalid values."""
    out = {}
    for key, val in meta.items():
        if val is None or (isinstance(val, float) and not math.isfinite(val)):
            continue
        out[key] = val
    return out


def to_argilla(rec: PushRecord, spec: DatasetSpec):
    import argilla as rg

    names = spec.field_names()
    suggestion = rg.Suggestion(question_name=QUESTION, value=rec.value, score=rec.score, agent=rec.agent)
    vectors = {VECTOR: [float(x) for x in rec.vector]} if rec.vector is not None and spec.vector_dim else {}
    return rg.Record(
        id=rec.id,
        fields={names[col]: text for col, text in rec.fields.items() if col in names},
        metadata=_clean_metadata(rec.metadata),
        suggestions=[suggestion],
        vectors=vectors,
    )


def push(conn: Connection, spec: DatasetSpec, records: list[PushRecord], batch_size: int = 500,
         progress: bool = True) -> PushReport:
    """Create or update the dataset and upsert ``records`` in the given (priority) order."""
    client = connect(conn)
    dataset = ensure_dataset(client, spec, conn.url)
    present, answered = answered_ids(conn, dataset.id)
    report = PushReport(dataset=spec.name, dataset_id=str(dataset.id))
    todo = []
    for rec in records:
        if rec.id in answered:
            report.skipped_answered += 1
            continue
        todo.append(rec)
        if rec.id in present:
            report.refreshed += 1
        else:
            report.created += 1
    _log(dataset, [to_argilla(r, spec) for r in todo], batch_size, progress, conn.url)
    return report


def _log(dataset, records: list, batch_size: int, progress: bool, url: str = "") -> None:
    """Upsert in batches; a batch that fails transiently (5xx, timeout, dropped connection) is sent again
    (safe: an upsert by record id), a batch that keeps failing or fails otherwise ends the push with one line.
    Batches already sent stay on the server: a re-run of the push skips nothing and duplicates nothing."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(records), desc="push", unit="rec", disable=not progress or len(records) < batch_size)
    for start in range(0, len(records), batch_size):
        chunk = records[start:start + batch_size]
        try:
            rest.with_retries(lambda: dataset.records.log(chunk, batch_size=len(chunk)),
                              f"upsert records {start + 1}-{start + len(chunk)}", url)
        except rest.RetriesExhausted as exc:
            raise LabelerError(f"pushing records failed after {start} of {len(records)} were sent: {exc}") from None
        except Exception as exc:  # the SDK raises its own exception types for HTTP errors
            raise LabelerError(f"pushing records failed after {start} of {len(records)}: "
                               f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
        bar.update(len(chunk))
    bar.close()
