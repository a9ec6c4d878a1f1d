"""The Argilla mapping, in one place: label set -> question, text fields -> fields, loop state -> metadata.

Argilla names (fields, questions, metadata, vectors) must be lowercase ``[a-z0-9_-]``; label *values* may be
any string of 1-200 characters, so label names with spaces, commas or unicode pass through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from labeler.errors import LabelerError

QUESTION = "label"
VECTOR = "embedding"
# Metadata every record carries; "top_<signal>" columns are added per signal.
META_UNCERTAINTY = "uncertainty"
META_PRIORITY = "priority"
META_ROUND = "round"
META_AGREEMENT = "agreement"
MAX_LABEL_CHARS = 200


def argilla_name(name: str) -> str:
    """A valid Argilla property name for ``name`` ("Ticket Body" -> "ticket_body")."""
    out = re.sub(r"[^a-z0-9_-]+", "_", name.strip().lower()).strip("_")
    if not re.search(r"[a-z0-9]", out):
        out = "f_" + str(abs(hash(name)) % 10**8)
    return out


def signal_meta(signal_name: str) -> str:
    return "top_" + argilla_name(signal_name)


@dataclass(frozen=True)
class DatasetSpec:
    """What the Argilla dataset must look like for one labeler project."""

    name: str
    labels: list[str]
    multi_label: bool = False
    text_fields: list[str] = field(default_factory=lambda: ["text"])
    descriptions: dict[str, str] = field(default_factory=dict)
    signal_names: list[str] = field(default_factory=list)
    vector_dim: int | None = None
    workspace: str | None = None

    def field_names(self) -> dict[str, str]:
        """Data column -> Argilla field name; two columns mapping to one name is an error."""
        names = {col: argilla_name(col) for col in self.text_fields}
        if len(set(names.values())) != len(names):
            raise LabelerError(f"text fields {self.text_fields} collide once made Argilla-safe: {names}")
        return names

    def validate(self) -> None:
        if len(self.labels) < 2:
            raise LabelerError(
                f"Argilla needs at least 2 labels for a label question; got {len(self.labels)}: {self.labels}"
            )
        long = [lab for lab in self.labels if not 1 <= len(lab) <= MAX_LABEL_CHARS]
        if long:
            raise LabelerError(f"label names must be 1-{MAX_LABEL_CHARS} characters; offending: {long[0][:40]!r}")
        if len(set(self.labels)) != len(self.labels):
            raise LabelerError("label names must be unique")

    def guidelines(self) -> str:
        lines = ["# Guidelines", "", "Choose the label that best describes the text." if not self.multi_label
                 else "Choose every label that applies to the text.", ""]
        for lab in self.labels:
            desc = self.descriptions.get(lab)
            lines.append(f"- **{lab}**" + (f": {desc}" if desc else ""))
        lines += ["", "The suggestion comes from labeler's weak-label ensemble (or the current fine-tuned model);",
                  "records are ordered by uncertainty (`priority` 1 first)."]
        return "\n".join(lines)


def build_settings(spec: DatasetSpec):
    """``rg.Settings`` for the spec: text fields, one label question, loop metadata, the embedding vector."""
    import argilla as rg

    spec.validate()
    fields = [rg.TextField(name=name, title=col, use_markdown=False) for col, name in spec.field_names().items()]
    labels = {lab: lab for lab in spec.labels}
    question_cls = rg.MultiLabelQuestion if spec.multi_label else rg.LabelQuestion
    questions = [question_cls(name=QUESTION, labels=labels, title="Label", required=True)]
    metadata = [
        rg.FloatMetadataProperty(name=META_UNCERTAINTY, title="Uncertainty"),
        rg.IntegerMetadataProperty(name=META_PRIORITY, title="Priority (1 = review first)"),
        rg.IntegerMetadataProperty(name=META_ROUND, title="Round"),
        rg.FloatMetadataProperty(name=META_AGREEMENT, title="Signal agreement"),
    ] + [
        rg.TermsMetadataProperty(name=signal_meta(s), title=f"Top label: {s}") for s in spec.signal_names
    ]
    vectors = [rg.VectorField(name=VECTOR, dimensions=spec.vector_dim, title="Embedding")] if spec.vector_dim else []
    return rg.Settings(
        fields=fields,
        questions=questions,
        metadata=metadata,
        vectors=vectors,
        guidelines=spec.guidelines(),
        allow_extra_metadata=True,
    )


def existing_labels(dataset) -> tuple[list[str], bool]:
    """The label values and multi-label flag of an existing dataset's question."""
    question = dataset.settings.questions[QUESTION]
    if question is None:
        raise LabelerError(f"dataset {dataset.name!r} has no question named {QUESTION!r}; use another dataset name")
    return list(question.labels), type(question).__name__ == "MultiLabelQuestion"


def check_compatible(dataset, spec: DatasetSpec) -> None:
    """The existing dataset must have the same label set and kind; say exactly what differs."""
    labels, multi = existing_labels(dataset)
    if multi != spec.multi_label:
        kind = "multi-label" if multi else "single-label"
        raise LabelerError(f"dataset {spec.name!r} exists as {kind}; set argilla.dataset to a new name")
    missing, extra = [x for x in spec.labels if x not in labels], [x for x in labels if x not in spec.labels]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"config adds {missing}")
        if extra:
            parts.append(f"dataset has {extra} not in the config")
        raise LabelerError(
            f"label set differs from existing dataset {spec.name!r}: {'; '.join(parts)}; "
            f"use a new dataset name (e.g. --set argilla.dataset={spec.name}-v2)"
        )
