"""The simulated annotator: answers pending records through the API with held-back labels.

Records are taken in review order (``priority`` metadata, 1 first; then record id) among those nobody has
answered, until ``n`` are answered. Held-back labels are mapped to the config's label set first: for
multi-label, labels outside it are dropped (and counted), and a record whose held-back set is empty, or left
empty, is answered "None of these" (``schema.NONE_VALUE``: the empty label set, as ``labeler simulate``'s
oracle answers it). A single-label record whose label is outside the set is skipped and counted, and so is a
pending record with no held-back label at all (a missing value, not an empty list), and a "None of these" answer
on a dataset created before that option existed (Argilla would reject it). Skipped records stay
pending and do not count towards ``n``. Answers are the API user's, status "submitted", sent with the bulk responses
endpoint (an upsert per record and user, so a retried batch changes nothing twice). Before the first push there
is no dataset and nothing to answer: the report says so (``not_pushed``) instead of failing the round that pushes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from labeler.argilla import rest
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import find_dataset
from labeler.argilla.schema import META_PRIORITY, NONE_TEXT, NONE_VALUE, QUESTION, has_none_option
from labeler.errors import LabelerError

BULK = 100  # the server's maximum items per POST /api/v1/me/responses/bulk
NO_TRUTH = "no held-back label"
OUTSIDE = "held-back label outside the config's labels"
REJECTED = "rejected by Argilla"
NO_NONE_OPTION = (f"no label, and dataset {{name!r}} was created without the {NONE_TEXT!r} option; a new dataset "
                  "name has it: --set argilla.dataset={name}-v2")


@dataclass
class AnswerReport:
    answered: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> records passed over
    labels_dropped: int = 0  # multi-label: held-back label values outside the config's set, dropped
    first_rejection: str | None = None
    not_pushed: str | None = None  # the dataset, when nothing was pushed to it yet (nothing to answer)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def summary(self) -> str:
        if self.not_pushed:
            return (f"simulated annotator: nothing to answer yet (no dataset {self.not_pushed!r} on the server; "
                    "this round pushes one)")
        parts = [f"answered {self.answered}"]
        parts += [f"skipped {count} ({reason})" for reason, count in sorted(self.skipped.items())]
        if self.labels_dropped:
            parts.append(f"dropped {self.labels_dropped} held-back label(s) outside the config's labels")
        if self.first_rejection:
            parts.append(f"first rejection: {self.first_rejection}")
        return "simulated annotator: " + ", ".join(parts)


def map_truth(value, labels: Sequence[str], multi_label: bool) -> tuple[str | list[str] | None, int]:
    """(the answer for the question or None when there is none, how many label values were dropped).
    Multi-label: an empty set (given, or left after dropping) is ``[NONE_VALUE]``, "None of these"."""
    if multi_label:
        if value is None:
            return None, 0
        values = [value] if isinstance(value, str) else list(value)
        given = {str(v) for v in values if v is not None and str(v) != ""}
        kept = [lab for lab in labels if lab in given]
        return (kept or [NONE_VALUE]), len(given) - len(kept)
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None
    if value is None or value == "":
        return None, 0
    return (value if value in set(labels) else None), 0


def _has_truth(value, multi_label: bool) -> bool:
    """Multi-label: any list (an empty one means "None of these"); single-label: a non-empty value."""
    if multi_label:
        return value is not None
    if isinstance(value, (list, tuple, set)):
        return any(v is not None and v != "" for v in value)
    return value is not None and value != ""


def answer_pending(conn: Connection, dataset_name: str, workspace: str | None, truth: Mapping[str, object], n: int,
                   labels: Sequence[str], multi_label: bool) -> AnswerReport:
    """Answer the ``n`` highest-priority answerable pending records with ``truth`` (record id -> label, or
    list of labels for multi-label); see the module docstring for what is skipped."""
    report = AnswerReport()
    if not any(_has_truth(v, multi_label) for v in truth.values()):
        raise LabelerError("the simulated annotator needs held-back labels: set data.label_field in the config")
    if n <= 0:
        return report
    dataset = find_dataset(conn, dataset_name, workspace)
    if dataset is None:  # nothing pushed yet, so nothing to answer (`labeler round` pushes the first batch next)
        return AnswerReport(not_pushed=dataset_name)
    none_answerable = not multi_label or has_none_option(dataset)
    pending = [rec for rec in rest.iter_records(conn, dataset.id, include="responses") if not rec.get("responses")]
    pending.sort(key=lambda rec: (_priority(rec), rec.get("external_id") or rec["id"]))
    items = []
    for rec in pending:
        if len(items) >= n:
            break
        value = truth.get(rec.get("external_id") or rec["id"])
        if not _has_truth(value, multi_label):
            report.skip(NO_TRUTH)
            continue
        answer, dropped = map_truth(value, labels, multi_label)
        report.labels_dropped += dropped
        if answer is None:
            report.skip(OUTSIDE)
            continue
        if answer == [NONE_VALUE] and not none_answerable:
            report.skip(NO_NONE_OPTION.format(name=dataset_name))
            continue
        items.append({"record_id": rec["id"], "status": "submitted", "values": {QUESTION: {"value": answer}}})
    for start in range(0, len(items), BULK):
        chunk = items[start:start + BULK]
        resp = rest.request(conn, "POST", "/api/v1/me/responses/bulk", json={"items": chunk})
        for item in resp.json().get("items", []):
            if item.get("error"):
                report.skip(REJECTED)
                report.first_rejection = report.first_rejection or " ".join(str(item["error"].get("detail")).split())[:200]
            else:
                report.answered += 1
    return report


def _priority(rec: dict) -> int:
    value = (rec.get("metadata") or {}).get(META_PRIORITY)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 10**9
