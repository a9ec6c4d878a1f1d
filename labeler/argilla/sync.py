"""Bring an existing dataset up to date with the spec, changing only what Argilla allows on a live dataset.

Allowed and done: new "top_<signal>" metadata, the label chips' order and how many are visible, the question's
description, the guidelines, the task distribution (``min_submitted``: Argilla 2.8 accepts the change on a
dataset with answers and recomputes each record's status in its worker; a server that refuses it leaves the
old value, said in one note, and the push goes on). Not allowed (Argilla 2.8 refuses new fields and other label values on a published
dataset): a different label set or kind is an error (``schema.check_compatible``); a missing top-guesses field,
or a multi-label question made without the "None of these" option, is a one-line note, and pushes go on.
"""

from __future__ import annotations

import re

from labeler.argilla import rest
from labeler.argilla.connection import Connection
from labeler.argilla.schema import (NONE_VALUE, QUESTION, DatasetSpec, build_settings, candidates_note, check_compatible,
                                    has_none_option, none_note)
from labeler.errors import LabelerError


def sync_dataset(conn: Connection, dataset, spec: DatasetSpec) -> list[str]:
    """Check ``dataset`` against ``spec`` and update what may change; the notes to tell the user."""
    check_compatible(dataset, spec)
    _add_missing_metadata(conn, dataset, spec)
    _sync_question(conn, dataset, spec)
    guidelines = spec.guidelines()
    if (dataset.settings.guidelines or "") != guidelines:
        rest.request(conn, "PATCH", f"/api/v1/datasets/{dataset.id}", json={"guidelines": guidelines})
        dataset.settings.guidelines = guidelines
    notes = [candidates_note(dataset, spec), none_note(dataset, spec), _sync_distribution(conn, dataset, spec)]
    return [note for note in notes if note]


def current_min_submitted(dataset) -> int:
    """The dataset's ``min_submitted`` as the server has it (1 when the SDK did not load a distribution)."""
    distribution = getattr(dataset.settings, "distribution", None)
    return int(getattr(distribution, "min_submitted", 1) or 1)


def _sync_distribution(conn: Connection, dataset, spec: DatasetSpec) -> str | None:
    """Set the overlap distribution to ``spec.min_submitted``; a note when the server refuses."""
    have = current_min_submitted(dataset)
    if have == spec.min_submitted:
        return None
    body = {"distribution": {"strategy": "overlap", "min_submitted": spec.min_submitted}}
    try:
        rest.request(conn, "PATCH", f"/api/v1/datasets/{dataset.id}", json=body)
    except rest.RetriesExhausted:
        raise
    except LabelerError as exc:
        reason = _reason(str(exc))
        return (f"argilla.min_submitted is {spec.min_submitted} but dataset {spec.name!r} keeps {have}: the server "
                f"refused the change ({reason}); use a new dataset name (--set argilla.dataset={spec.name}-v2) "
                f"for overlap, or set argilla.min_submitted: {have}")
    import argilla as rg

    dataset.settings.distribution = rg.TaskDistribution(min_submitted=spec.min_submitted)
    return None


def _reason(message: str) -> str:
    """"HTTP 403 Operation not allowed" from rest.request's error line (status and the server's detail)."""
    status = re.search(r"HTTP \d+", message)
    details = re.findall(r'"detail"\s*:\s*"([^"]+)"', message)
    return " ".join(x for x in (status.group(0) if status else message[:120], details[-1] if details else "") if x)


def _add_missing_metadata(conn: Connection, dataset, spec: DatasetSpec) -> None:
    """A new signal adds its "top_<signal>" property to an existing dataset."""
    have = {m.name for m in dataset.settings.metadata}
    for prop in build_settings(spec).metadata:
        if prop.name not in have:
            prop.dataset = dataset
            rest.with_retries(prop.create, f"add metadata property {prop.name!r}", conn.url)
            dataset.settings.metadata.add(prop)


def _sync_question(conn: Connection, dataset, spec: DatasetSpec) -> None:
    """Label order, visible labels and description, when they differ from the spec."""
    question = dataset.settings.questions[QUESTION]
    options = spec.question_options()
    if not has_none_option(dataset):  # a dataset made before the "None of these" option keeps its options
        options.pop(NONE_VALUE, None)
    wanted = list(options)
    settings = {"type": "multi_label_selection" if spec.multi_label else "label_selection",
                "options": [{"value": value, "text": text} for value, text in options.items()],
                "visible_options": spec.visible_options()}
    if spec.multi_label:
        settings["options_order"] = "suggestion" if spec.visible_options() else "natural"
    current = question.api_model().settings
    same = (list(question.labels) == wanted and current.visible_options == settings["visible_options"]
            and getattr(current, "options_order", None) == settings.get("options_order")
            and (question.description or "") == spec.question_description())
    if same:
        return
    body = {"description": spec.question_description(), "settings": settings}
    rest.request(conn, "PATCH", f"/api/v1/questions/{question.id}", json=body)
