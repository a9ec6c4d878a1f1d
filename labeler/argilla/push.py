"""Push records with suggestions into Argilla, idempotently by record id.

A record that already has any human response (submitted, draft or discarded, from anyone) is never sent
again: its suggestion, metadata and responses stay exactly as they are. Pending records are upserted, so a
re-push refreshes their suggestion, priority and metadata and never creates duplicates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from labeler.argilla import rest
from labeler.argilla.candidates import Candidate, candidates_markdown
from labeler.argilla.client import connect
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import answered_ids, find_dataset, workspace_name
from labeler.argilla.schema import CANDIDATES, QUESTION, VECTOR, DatasetSpec, build_settings, has_candidates_field
from labeler.argilla.sync import sync_dataset
from labeler.errors import LabelerError

__all__ = ["PushRecord", "PushReport", "push", "ensure_dataset", "to_argilla", "answered_ids"]


@dataclass
class PushRecord:
    """One record as it goes to Argilla. ``fields`` is keyed by data column; ``score`` matches ``value``.

    ``candidates``: the model's top guesses, (label, probability, source) best first (``top_candidates``),
    shown in the top-guesses field when the spec asks for it (``DatasetSpec.candidates > 0``).
    """

    id: str
    fields: dict[str, str]
    value: str | list[str]
    score: float | list[float]
    agent: str
    metadata: dict = field(default_factory=dict)
    vector: list[float] | None = None
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class PushReport:
    dataset: str
    dataset_id: str
    created: int = 0
    refreshed: int = 0
    skipped_answered: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = (f"pushed to {self.dataset!r}: {self.created} new, {self.refreshed} refreshed, "
                f"{self.skipped_answered} left untouched (already answered)")
        return "\n".join([line] + [f"note: {n}" for n in self.notes])


def ensure_dataset(conn: Connection, client, spec: DatasetSpec) -> tuple[object, list[str]]:
    """(the project's dataset, notes for the user): created on first push; an existing one is checked and
    brought up to date (``sync.sync_dataset``), an incompatible one is an error."""
    import argilla as rg

    url = conn.url
    workspace = workspace_name(client, spec.workspace, url)
    dataset = find_dataset(conn, spec.name, workspace, client=client)
    if dataset is not None:
        return dataset, sync_dataset(conn, dataset, spec)
    def create():  # the SDK deletes a half-created dataset before raising, so a retry starts clean
        return rg.Dataset(name=spec.name, workspace=workspace, settings=build_settings(spec), client=client).create()

    try:
        return rest.with_retries(create, f"create dataset {spec.name!r}", url), []
    except LabelerError:
        raise
    except Exception as exc:  # the SDK's own exception types for HTTP errors
        cause = exc.__cause__ or exc
        raise LabelerError(f"creating dataset {spec.name!r} in workspace {workspace!r} failed: "
                           f"{type(cause).__name__}: {' '.join(str(cause).split())[:300]}") from None


def _clean_metadata(meta: dict) -> dict:
    """JSON has no NaN: drop missing numbers instead of sending invalid values."""
    out = {}
    for key, val in meta.items():
        if val is None or (isinstance(val, float) and not math.isfinite(val)):
            continue
        out[key] = val
    return out


def to_argilla(rec: PushRecord, spec: DatasetSpec, candidates_field: bool | None = None):
    """The ``rg.Record`` for ``rec``; the top-guesses field is filled when the spec asks for it and the dataset
    has the field (``candidates_field``; default: when the spec asks)."""
    import argilla as rg

    names = spec.field_names()
    fields = {names[col]: text for col, text in rec.fields.items() if col in names}
    show = spec.candidates > 0 if candidates_field is None else candidates_field and spec.candidates > 0
    if show and rec.candidates:
        fields[CANDIDATES] = candidates_markdown(rec.candidates)
    suggestion = rg.Suggestion(question_name=QUESTION, value=rec.value, score=rec.score, agent=rec.agent)
    vectors = {VECTOR: [float(x) for x in rec.vector]} if rec.vector is not None and spec.vector_dim else {}
    return rg.Record(
        id=rec.id,
        fields=fields,
        metadata=_clean_metadata(rec.metadata),
        suggestions=[suggestion] if rec.value not in ("", []) else [],  # multi-label: nothing likely enough
        vectors=vectors,
    )


def push(conn: Connection, spec: DatasetSpec, records: list[PushRecord], batch_size: int = 500,
         progress: bool = True) -> PushReport:
    """Create or update the dataset and upsert ``records`` in the given (priority) order."""
    client = connect(conn)
    dataset, notes = ensure_dataset(conn, client, spec)
    present, answered = answered_ids(conn, dataset.id)
    report = PushReport(dataset=spec.name, dataset_id=str(dataset.id), notes=notes)
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
    with_field = has_candidates_field(dataset)
    _log(dataset, [to_argilla(r, spec, with_field) for r in todo], batch_size, progress, conn.url)
    return report


MAX_PER_REQUEST = 500  # the SDK's RecordsAPI.MAX_RECORDS_PER_UPSERT_BULK; above it the SDK logs a warning


def _log(dataset, records: list, batch_size: int, progress: bool, url: str = "") -> None:
    batch_size = max(1, min(batch_size, MAX_PER_REQUEST))
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
