"""Pull human answers from Argilla to a label table on disk.

Two Parquet files are written (both loadable by ``datasets``/pandas):

- ``responses.parquet``: one row per (record, annotator) response, raw, drafts included, with the record's
  suggestion (JSON) as the annotator's form started;
- ``labels.parquet``: one row per answered record, resolved: ``status`` is "submitted" (a label by majority
  of submitted answers), "discarded" (most answers discard it), "conflict" (a tie: listed, not trained
  on) or "awaiting" (fewer answers than ``argilla.min_submitted`` so far: counted, not trained on, resolved
  by a later pull once the other annotators have answered). Columns: id, text, fields (JSON), label, labels,
  status, annotator, n_annotators, agreement, submitted_at, round.

Overlap (``min_submitted`` N, Argilla's task distribution): a record is resolved once it has N submitted
answers (majority, ties are conflicts), or once N or more answers are in and discards outnumber submissions;
before that it is "awaiting", like Argilla, which keeps it pending for other annotators. With N = 1 every
answered record resolves at once.

Multi-label: the reserved "None of these" option alone is an answer, the empty label set (a submitted row
with ``labels == []``: trained on as all-negative). Chosen together with labels it is a contradiction: that
record is a "conflict" (listed, not trained on; fix the answer in Argilla and pull again), counted in
``PullReport.none_with_labels``; unless the form started with it (the record's suggestion was "None of these"):
then the labels the annotator chose are the answer (``schema.answer_labels``), counted in
``PullReport.labels_over_none``; and the option chosen beside exactly the pre-selected labels is "None of these"
(``PullReport.none_over_labels``). ``responses.parquet`` keeps each record's suggestion beside the raw answers.

Agreement between annotators: Fleiss' kappa (variable raters per record) over records with two or more
submitted answers; for multi-label, the mean of per-label binary kappas.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from labeler.argilla import rest
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import answer_key, find_dataset
from labeler.argilla.schema import (ANSWER_LABELS_OVER_NONE, ANSWER_NONE_OVER_LABELS, ANSWER_NONE_WITH_LABELS,
                                    QUESTION, DatasetSpec, answer_labels, argilla_name)
from labeler.errors import LabelerError


@dataclass
class PullReport:
    records: int = 0
    submitted: int = 0
    discarded: int = 0
    conflicts: list[str] = field(default_factory=list)
    drafts_only: int = 0
    kappa: float | None = None
    per_class: dict[str, int] = field(default_factory=dict)
    awaiting: int = 0  # records with fewer than ``min_submitted`` answers: not resolved yet
    min_submitted: int = 1
    overlapped: int = 0  # records with 2+ submitted answers (what kappa is computed on)
    none: int = 0  # multi-label: labeled records whose answer is "None of these" (the empty label set)
    none_with_labels: int = 0  # multi-label: answers choosing "None of these" and labels (their records: conflicts)
    labels_over_none: int = 0  # multi-label: answers adding labels to a pre-selected "None of these" (the labels)
    none_over_labels: int = 0  # multi-label: "None of these" added to the pre-selected labels, left as they were (none)
    kept: int = 0  # labels kept from the last pull: answered in another dataset, not answered in this one
    dataset: str = ""
    dataset_id: str = ""
    # the dataset as this pull read it: its record ids and those with any response, drafts included (as
    # ``datasets.answered_ids``); ``labeler round``'s push plans on them instead of reading every record again
    present: set[str] = field(default_factory=set, repr=False)
    answered: set[str] = field(default_factory=set, repr=False)
    answer_keys: set[str] = field(default_factory=set, repr=False)  # ``datasets.answer_key`` of each submitted answer

    def summary(self) -> str:
        kappa = "n/a (fewer than 2 answers per record)" if self.kappa is None \
            else f"{self.kappa:.3f} over {self.overlapped} records with 2+ answers"
        waiting = (f", {self.awaiting} awaiting overlap (fewer than {self.min_submitted} answers)"
                   if self.min_submitted > 1 or self.awaiting else "")
        none = f" ({self.none} 'None of these')" if self.none else ""
        contradictions = (f", of which {self.none_with_labels} answer(s) chose 'None of these' together with labels"
                          if self.none_with_labels else "")
        over = (f"; {self.labels_over_none} answer(s) chose labels and left the pre-selected 'None of these': read as "
                "those labels" if self.labels_over_none else "")
        over += (f"; {self.none_over_labels} answer(s) chose 'None of these' and left the pre-selected labels: read as "
                 "none" if self.none_over_labels else "")
        kept = (f"; {self.kept} more kept from the last pull: answered in another dataset, not in {self.dataset!r}"
                if self.kept else "")
        return (f"{self.submitted} labeled{none}, {self.discarded} discarded, {len(self.conflicts)} conflicts (ties"
                f"{contradictions}){waiting}, {self.drafts_only} drafts only; Fleiss' kappa {kappa}{over}{kept}")


def join_fields(fields: dict[str, str]) -> str:
    """The model input for several text fields: one field -> its text; several -> "name: text" lines."""
    if len(fields) == 1:
        return next(iter(fields.values()))
    return "\n".join(f"{name}: {text}" for name, text in fields.items())


def fleiss_kappa(tables: list[Counter], categories: list) -> float | None:
    """Fleiss' kappa with a variable number of raters per item; items with fewer than 2 raters are skipped."""
    rows = [t for t in tables if sum(t.values()) >= 2]
    if not rows:
        return None
    total = sum(sum(t.values()) for t in rows)
    p_j = [sum(t[c] for t in rows) / total for c in categories]
    p_i = []
    for t in rows:
        n = sum(t.values())
        p_i.append((sum(v * v for v in t.values()) - n) / (n * (n - 1)))
    p_bar, p_e = sum(p_i) / len(p_i), sum(p * p for p in p_j)
    if p_e >= 1.0:
        return 1.0 if p_bar >= 1.0 else 0.0
    return (p_bar - p_e) / (1 - p_e)


def resolve_record(answers: list[dict], multi_label: bool, labels: list[str],
                   min_submitted: int = 1) -> tuple[str, object]:
    """(status, value) for one record's non-draft answers: majority vote, ties are conflicts; "awaiting"
    while fewer than ``min_submitted`` answers are in (see the module docstring). Multi-label values are label
    lists (``[]``: "None of these"); ``None`` marks a contradictory answer, which makes the record a conflict."""
    submitted = [a["value"] for a in answers if a["status"] == "submitted"]
    discarded = sum(1 for a in answers if a["status"] == "discarded")
    if not submitted and not discarded:
        return "pending", None
    if len(submitted) < min_submitted and (discarded + len(submitted) < min_submitted or discarded <= len(submitted)):
        return "awaiting", None
    if discarded > len(submitted):
        return "discarded", None
    if multi_label:
        if any(value is None for value in submitted):
            return "conflict", None
        n = len(submitted)
        counts = Counter(lab for value in submitted for lab in set(value))
        ties = [lab for lab in labels if counts[lab] * 2 == n]
        if ties:
            return "conflict", None
        return "submitted", [lab for lab in labels if counts[lab] * 2 > n]
    counts = Counter(submitted).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return "conflict", None
    return "submitted", counts[0][0]


def pull(conn: Connection, spec: DatasetSpec, out_dir: Path, check=None) -> PullReport:
    """Write responses.parquet and labels.parquet for the project's dataset; return the counts. ``check(dataset_id,
    present)``: called with the dataset's id and record ids before anything is written (it raises to refuse a
    dataset that is not the project's: ``labeler.argilla.ownership``)."""
    import pandas as pd

    dataset = find_dataset(conn, spec.name, spec.workspace or None)
    report = PullReport(min_submitted=spec.min_submitted)
    if dataset is None:
        raise LabelerError(f"dataset {spec.name!r} not found on {conn.url}; run `labeler push` first")
    users = rest.usernames(conn)
    field_names = spec.field_names()
    raw_rows, label_rows, tables = [], [], []
    per_label_tables: dict[str, list[Counter]] = {lab: [] for lab in spec.labels}
    present: set[str] = set()
    for rec in rest.iter_records(conn, dataset.id, include=("responses", "suggestions")):
        rid = rec.get("external_id") or rec["id"]
        present.add(str(rid))
        if rec.get("responses"):
            report.answered.add(str(rid))
        fields = {col: rec["fields"].get(name, "") for col, name in field_names.items()}
        suggested = next((s.get("value") for s in rec.get("suggestions") or []), None)  # the one question's
        answers = []
        for resp in rec.get("responses") or []:
            value = (resp.get("values") or {}).get(QUESTION, {}).get("value")
            answer = {"id": rid, "annotator": users.get(resp["user_id"], resp["user_id"]),
                      "status": resp["status"], "value": value, "updated_at": resp.get("updated_at")}
            raw_rows.append({**answer, "value": json.dumps(value, ensure_ascii=False), "dataset": spec.name,
                             "suggestion": json.dumps(suggested, ensure_ascii=False)})
            if resp["status"] == "submitted":
                report.answer_keys.add(answer_key(rid, resp))
            if resp["status"] != "draft":
                if spec.multi_label and resp["status"] == "submitted":
                    answer["value"], kind = answer_labels(value, spec.labels, suggested)
                    report.none_with_labels += kind == ANSWER_NONE_WITH_LABELS
                    report.labels_over_none += kind == ANSWER_LABELS_OVER_NONE
                    report.none_over_labels += kind == ANSWER_NONE_OVER_LABELS
                answers.append(answer)
        if not answers:
            report.drafts_only += bool(rec.get("responses"))
            continue
        status, value = resolve_record(answers, spec.multi_label, spec.labels, spec.min_submitted)
        submitted = [a for a in answers if a["status"] == "submitted"]
        if len(submitted) >= 2:
            report.overlapped += 1
            if spec.multi_label:
                consistent = [a for a in submitted if a["value"] is not None]
                for lab in spec.labels:
                    if len(consistent) >= 2:
                        per_label_tables[lab].append(Counter(lab in a["value"] for a in consistent))
            else:
                tables.append(Counter(a["value"] for a in submitted))
        agree = None
        if status == "submitted" and submitted:
            agree = sum(1 for a in submitted if a["value"] == value or
                        (spec.multi_label and a["value"] is not None and set(a["value"]) == set(value))) / len(submitted)
        meta = rec.get("metadata") or {}
        label_rows.append({
            "id": rid,
            "text": join_fields(fields),
            "fields": json.dumps(fields, ensure_ascii=False),
            "label": None if spec.multi_label or status != "submitted" else value,
            "labels": list(value) if spec.multi_label and status == "submitted" else [],
            "status": status,
            "annotator": ",".join(sorted({a["annotator"] for a in answers})),
            "n_annotators": len({a["annotator"] for a in answers}),
            "agreement": agree,
            "submitted_at": max(str(a["updated_at"] or "") for a in answers) or None,
            "round": int(meta.get("round", 0) or 0),
            "dataset": spec.name,
        })
        report.records += 1
        if status == "submitted":
            report.submitted += 1
            report.none += bool(spec.multi_label and not value)
            for lab in ([value] if not spec.multi_label else value):
                report.per_class[lab] = report.per_class.get(lab, 0) + 1
        elif status == "discarded":
            report.discarded += 1
        elif status == "conflict":
            report.conflicts.append(rid)
        elif status == "awaiting":
            report.awaiting += 1
    if check is not None:
        check(str(dataset.id), present)
    if spec.multi_label:
        kappas = [k for lab in spec.labels if (k := fleiss_kappa(per_label_tables[lab], [True, False])) is not None]
        report.kappa = sum(kappas) / len(kappas) if kappas else None
    else:
        report.kappa = fleiss_kappa(tables, spec.labels)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels_df = pd.DataFrame(label_rows, columns=["id", "text", "fields", "label", "labels", "status", "annotator",
                                                  "n_annotators", "agreement", "submitted_at", "round", "dataset"])
    labels_df["submitted_at"] = pd.to_datetime(labels_df["submitted_at"], errors="coerce", utc=True)
    responses_df = pd.DataFrame(raw_rows, columns=["id", "annotator", "status", "value", "updated_at", "dataset",
                                                   "suggestion"])
    # a record answered in another dataset (a new one after the labels changed, or for the "None of these"
    # option) keeps its label unless this dataset answers it; this dataset's own answers are read from it alone
    report.dataset, report.dataset_id, report.present = spec.name, str(dataset.id), present
    labels_df, report.kept = _keep_elsewhere(labels_df, out_dir / "labels.parquet", present, spec.name)
    responses_df, _ = _keep_elsewhere(responses_df, out_dir / "responses.parquet", present, spec.name)
    _write_atomic(labels_df, out_dir / "labels.parquet")
    _write_atomic(responses_df, out_dir / "responses.parquet")
    return report


def _keep_elsewhere(df, path: Path, present: set[str], dataset: str):
    """``df`` with the rows of the last pull's ``path`` answered elsewhere, and how many records they hold: those
    whose records are not in ``present`` (this dataset's record ids), and those ``df`` has no row for that another
    dataset answered (a record sent to a new dataset and back; a row pulled before the ``dataset`` column was
    written counts as this dataset's: an answer withdrawn here is gone)."""
    import pandas as pd

    if not path.exists():
        return df, 0
    old = pd.read_parquet(path)
    ids = old["id"].astype(str)
    source = old["dataset"] if "dataset" in old else pd.Series(None, index=old.index, dtype=object)
    elsewhere = source.notna() & (source != dataset) & ~ids.isin(set(df["id"].astype(str)))
    old = old[~ids.isin(present) | elsewhere]
    if old.empty:
        return df, 0
    old = old.reindex(columns=df.columns)
    if "submitted_at" in df:
        old["submitted_at"] = pd.to_datetime(old["submitted_at"], errors="coerce", utc=True)
    kept = int(old["id"].nunique())
    return (old.reset_index(drop=True) if df.empty else pd.concat([df, old], ignore_index=True)), kept


def _write_atomic(df, path: Path) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


__all__ = ["pull", "PullReport", "fleiss_kappa", "resolve_record", "join_fields", "argilla_name"]
