"""Push records with suggestions into Argilla, idempotently by record id.

A record that already has any human response (submitted, draft or discarded, from anyone) is never sent
again: its suggestion, metadata and responses stay exactly as they are. Pending records are upserted, so a
re-push refreshes their suggestion, priority and metadata and never creates duplicates.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from labeler.argilla import rest
from labeler.argilla.candidates import Candidate, candidates_markdown, queue_line
from labeler.argilla.client import connect
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import answered_ids, find_dataset, workspace_name
from labeler.argilla.schema import (CANDIDATES, META_PRIORITY, META_UNCERTAINTY, META_WHY, NONE_TEXT, NONE_VALUE,
                                    QUESTION, VECTOR, DatasetSpec, build_settings, has_candidates_field,
                                    has_none_option, order_freshness)
from labeler.argilla.sync import current_min_submitted, sync_dataset
from labeler.errors import LabelerError
from labeler.words import plural

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
        before = current_min_submitted(dataset)
        notes = sync_dataset(conn, dataset, spec)
        after = current_min_submitted(dataset)
        if after != before:
            notes.append(min_submitted_note(spec.name, before, after, submitted_counts(conn, dataset.id)))
        return dataset, notes
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


def submitted_counts(conn: Connection, dataset_id) -> list[int]:
    """The number of submitted answers of each record with at least one."""
    counts = []
    for rec in rest.iter_records(conn, dataset_id, include="responses"):
        n = sum(1 for r in rec.get("responses") or [] if r["status"] == "submitted")
        if n:
            counts.append(n)
    return counts


def min_submitted_note(dataset: str, before: int, after: int, counts: list[int]) -> str:
    """One line for a push that changed ``argilla.min_submitted`` from ``before`` to ``after``: how many
    answered records the change moved (``counts``: submitted answers per answered record)."""
    head = f"argilla.min_submitted {before} -> {after} on {dataset!r}: "
    if after > before:
        moved = sum(1 for n in counts if before <= n < after)
        return (head + f"{moved} completed record{'s' if moved != 1 else ''} went back to pending, each waiting "
                f"for {after} submitted answers from different annotators (`pull` trains on a record once it has them)")
    moved = sum(1 for n in counts if after <= n < before)
    return (head + f"{moved} pending record{'s' if moved != 1 else ''} with {after}+ answers "
            f"{'are' if moved != 1 else 'is'} complete now (`pull` takes {'them' if moved != 1 else 'it'})")


def _clean_metadata(meta: dict) -> dict:
    """JSON has no NaN: drop missing numbers instead of sending invalid values."""
    out = {}
    for key, val in meta.items():
        if val is None or (isinstance(val, float) and not math.isfinite(val)):
            continue
        out[key] = val
    return out


def cut_for_annotator(text: str, max_chars: int | None, cut_to: int) -> str:
    """``text`` as an annotator sees it: whole up to ``max_chars`` (``data.max_chars``); a longer one cut to its
    first ``cut_to`` characters (at a space when one is near) and a marker that says so. The pool, the signals
    and the labels keep the whole text: only the Argilla field is cut, so a 2 MB text does not bury the top
    guesses below it."""
    if max_chars is None or len(text) <= max_chars:
        return text
    keep = min(cut_to, max_chars)
    head = text[:keep]
    space = head.rfind(" ", keep - 200)
    head = head[:space] if space > 0 else head
    return (f"{head.rstrip()} … [cut: {len(text):,} characters, the first {len(head):,} shown; "
            "the full text stays in the pool]")


def with_queue_line(markdown: str, rec: PushRecord, spec: DatasetSpec) -> str:
    """The top guesses and, below them, the small line that says why the record is next and how fresh the
    review order is (``candidates.queue_line``), from the record's metadata and the spec's queue status."""
    meta = rec.metadata
    line = queue_line(meta.get(META_PRIORITY), spec.queue_size, meta.get(META_WHY), meta.get(META_UNCERTAINTY),
                      order_freshness(spec))
    return f"{markdown}\n\n{line}" if line else markdown


def to_argilla(rec: PushRecord, spec: DatasetSpec, candidates_field: bool | None = None):
    """The ``rg.Record`` for ``rec``; the top-guesses field is filled when the spec asks for it and the dataset
    has the field (``candidates_field``; default: when the spec asks)."""
    import argilla as rg

    names = spec.field_names()
    fields = {names[col]: cut_for_annotator(text, spec.max_chars, spec.cut_to)
              for col, text in rec.fields.items() if col in names}
    show = spec.candidates > 0 if candidates_field is None else candidates_field and spec.candidates > 0
    if show and rec.candidates:
        fields[CANDIDATES] = with_queue_line(candidates_markdown(rec.candidates), rec, spec)
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
    if spec.multi_label and not has_none_option(dataset):  # made before the option: its form cannot show it
        dropped = sum(r.value == [NONE_VALUE] for r in todo)
        todo = [dataclasses.replace(r, value=[], score=[]) if r.value == [NONE_VALUE] else r for r in todo]
        if dropped:
            report.notes.append(f"{plural(dropped, 'record')} would have started with '{NONE_TEXT}' pre-selected; "
                                "this dataset has no such option, so their forms start empty")
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
