"""Bring an existing dataset up to date with the spec, changing only what Argilla allows on a live dataset.

Allowed and done: new "top_<signal>" metadata, the label chips' order and how many are visible, the question's
description, the guidelines. Not allowed (Argilla 2.8 refuses new fields and other label values on a published
dataset): a different label set or kind is an error (``schema.check_compatible``); a missing top-guesses field
is a one-line note, and pushes go on without it.
"""

from __future__ import annotations

from labeler.argilla import rest
from labeler.argilla.connection import Connection
from labeler.argilla.schema import QUESTION, DatasetSpec, build_settings, candidates_note, check_compatible


def sync_dataset(conn: Connection, dataset, spec: DatasetSpec) -> list[str]:
    """Check ``dataset`` against ``spec`` and update what may change; the notes to tell the user."""
    check_compatible(dataset, spec)
    _add_missing_metadata(conn, dataset, spec)
    _sync_question(conn, dataset, spec)
    guidelines = spec.guidelines()
    if (dataset.settings.guidelines or "") != guidelines:
        rest.request(conn, "PATCH", f"/api/v1/datasets/{dataset.id}", json={"guidelines": guidelines})
        dataset.settings.guidelines = guidelines
    note = candidates_note(dataset, spec)
    return [note] if note else []


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
    wanted = spec.question_labels()
    settings = {"type": "multi_label_selection" if spec.multi_label else "label_selection",
                "options": [{"value": lab, "text": lab} for lab in wanted],
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
