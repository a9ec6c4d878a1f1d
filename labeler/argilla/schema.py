"""The Argilla mapping, in one place: label set -> question, text fields -> fields, loop state -> metadata.

Argilla names (fields, questions, metadata, vectors) must be lowercase ``[a-z0-9_-]``; label *values* may be
any string of 1-200 characters, so label names with spaces, commas or unicode pass through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from labeler.errors import LabelerError
from labeler.words import plural

QUESTION = "label"
VECTOR = "embedding"
# Metadata every record carries; "top_<signal>" columns are added per signal.
META_UNCERTAINTY = "uncertainty"
META_PRIORITY = "priority"
META_ROUND = "round"
META_AGREEMENT = "agreement"
META_SAMPLE = "sample"  # "random" (the unbiased gold draw: evaluation only) or "queue" (training data)
META_WHY = "why"  # the queue's reason for the pick (no metadata property: hidden, read by the queue line)
SAMPLE_RANDOM, SAMPLE_QUEUE = "random", "queue"
CANDIDATES = "candidates"  # the optional Markdown field with the model's top guesses
CANDIDATES_TITLE = "Model's top guesses (not the text to label)"
MAX_LABEL_CHARS = 200
# Multi-label: "none of these labels apply" is an answer. Argilla's multi-label question needs one selected
# option, so it is a reserved option, listed first (always on the first screen, keyboard shortcut 1). Its value
# is not a label name a config may use (``DatasetSpec.validate``); ``answer_labels`` reads it back as [].
NONE_VALUE = "__none__"
NONE_TEXT = "None of these"


def argilla_name(name: str) -> str:
    """A valid Argilla property name for ``name`` ("Ticket Body" -> "ticket_body")."""
    out = re.sub(r"[^a-z0-9_-]+", "_", name.strip().lower()).strip("_")
    if not re.search(r"[a-z0-9]", out):
        out = "f_" + str(abs(hash(name)) % 10**8)
    return out


def signal_meta(signal_name: str) -> str:
    return "top_" + argilla_name(signal_name)


LABEL_ORDERS = ("config", "alphabetical", "frequency")
MIN_VISIBLE_LABELS = 3  # Argilla's minimum for visible_options
GUIDELINES_MAX_CHARS = 10_000  # Argilla's limit on a dataset's guidelines
SEARCH_FROM = 15  # Argilla's UI shows a label search box from this many labels (or when some are collapsed)


def default_visible_labels(n_labels: int) -> int | None:
    """A sensible ``visible_labels`` when the config leaves it unset: every chip up to 20 labels, else 12
    (plus the pre-selected suggestion, plus the search box): the first screen stays compact."""
    return None if n_labels <= 20 else 12


@dataclass(frozen=True)
class DatasetSpec:
    """What the Argilla dataset must look like for one labeler project.

    ``candidates``: how many top guesses the "Model's top guesses" Markdown field shows (0: no such field).
    ``label_order``: order of the label chips: "config" (as written), "alphabetical", or "frequency" (most
    labeled first, by ``label_counts``, ties in config order). ``visible_labels``: chips shown before
    "+ N more" (None: all); the suggested label is always shown, selected, wherever it sits in the order.
    ``min_submitted``: submitted answers a record needs to be complete (Argilla's overlap task distribution;
    2 or more: each record goes to that many annotators, and ``pull`` resolves it only then).
    ``queue_status``: shown first in the guidelines (which model suggests, which run is current, when the
    review order was last refreshed); every push writes it.
    """

    name: str
    labels: list[str]
    multi_label: bool = False
    text_fields: list[str] = field(default_factory=lambda: ["text"])
    descriptions: dict[str, str] = field(default_factory=dict)
    signal_names: list[str] = field(default_factory=list)
    vector_dim: int | None = None
    workspace: str | None = None
    candidates: int = 0
    label_order: str = "config"
    visible_labels: int | None = None
    label_counts: dict[str, int] = field(default_factory=dict)
    min_submitted: int = 1
    queue_status: str = ""  # one line on top of the guidelines: when the queue was refreshed, by what model
    queue_size: int | None = None  # records in the review order this push (the "#3 of 20" of the queue line)
    max_chars: int | None = None  # a text field longer than this reaches annotators cut (``push.cut_for_annotator``)
    cut_to: int = 2000  # ... to this many characters, with a marker

    def field_names(self) -> dict[str, str]:
        """Data column -> Argilla field name; two columns mapping to one name is an error."""
        names = {col: argilla_name(col) for col in self.text_fields}
        if len(set(names.values())) != len(names):
            raise LabelerError(f"text fields {self.text_fields} collide once made Argilla-safe: {names}")
        if self.candidates and CANDIDATES in names.values():
            raise LabelerError(f"a text field is named {CANDIDATES!r}, the name of the top-guesses field; "
                               "rename the column or set argilla.candidates: 0")
        return names

    def validate(self) -> None:
        if len(self.labels) < (1 if self.multi_label else 2):  # multi-label: "None of these" is the second option
            raise LabelerError(
                f"Argilla needs at least 2 options for a label question; got {len(self.labels)}: {self.labels}"
            )
        long = [lab for lab in self.labels if not 1 <= len(lab) <= MAX_LABEL_CHARS]
        if long:
            raise LabelerError(f"label names must be 1-{MAX_LABEL_CHARS} characters; offending: {long[0][:40]!r}")
        if len(set(self.labels)) != len(self.labels):
            raise LabelerError("label names must be unique")
        if self.multi_label:
            reserved = [lab for lab in self.labels if lab == NONE_VALUE or lab.strip().casefold() == NONE_TEXT.casefold()]
            if reserved:
                raise LabelerError(f"label {reserved[0]!r} is reserved: a multi-label project has the built-in answer "
                                   f"{NONE_TEXT!r} (an empty label set); remove the label from task.labels")
        if self.label_order not in LABEL_ORDERS:
            raise LabelerError(f"argilla.label_order must be one of {', '.join(LABEL_ORDERS)}; got {self.label_order!r}")
        if self.visible_labels is not None and not (isinstance(self.visible_labels, int)
                                                    and self.visible_labels >= MIN_VISIBLE_LABELS):
            raise LabelerError(f"argilla.visible_labels must be a whole number >= {MIN_VISIBLE_LABELS} (Argilla's "
                               f"minimum) or empty for all; got {self.visible_labels!r}")
        if not isinstance(self.candidates, int) or self.candidates < 0:
            raise LabelerError(f"argilla.candidates must be a whole number >= 0 (0: off); got {self.candidates!r}")
        if not isinstance(self.min_submitted, int) or self.min_submitted < 1:
            raise LabelerError(f"argilla.min_submitted must be a whole number >= 1; got {self.min_submitted!r}")

    def question_labels(self) -> list[str]:
        """The labels in the order the annotator sees them."""
        if self.label_order == "alphabetical":
            return sorted(self.labels, key=lambda lab: (lab.casefold(), lab))
        if self.label_order == "frequency":
            rank = {lab: i for i, lab in enumerate(self.labels)}
            return sorted(self.labels, key=lambda lab: (-int(self.label_counts.get(lab, 0) or 0), rank[lab]))
        return list(self.labels)

    def visible_options(self) -> int | None:
        """Argilla's ``visible_options``: None shows every label."""
        if self.visible_labels is None or self.visible_labels >= len(self.labels):
            return None
        return self.visible_labels

    def has_search(self) -> bool:
        return len(self.labels) >= SEARCH_FROM or self.visible_options() is not None

    def question_description(self) -> str:
        search = " Type in the search box to find a label." if self.has_search() else ""
        none = f" If no label applies, choose only \"{NONE_TEXT}\"." if self.multi_label else ""
        return (f"{plural(len(self.labels), 'label')}; the suggestion is pre-selected.{search}{none} "
                "The guidelines say what each label means.")

    def question_options(self) -> dict[str, str]:
        """Argilla's options, value -> text shown: the labels in chip order; multi-label questions start with
        the reserved "None of these" option."""
        labels = {lab: lab for lab in self.question_labels()}
        return {NONE_VALUE: NONE_TEXT, **labels} if self.multi_label else labels

    def guidelines(self) -> str:
        return render_guidelines(self)


def md_escape(text: str) -> str:
    """``text`` on one line with Markdown's special characters escaped (an underscore inside a word, as in
    ``current_location``, is left alone: it never starts emphasis)."""
    text = re.sub(r"([\\`*{}\[\]<>#|~])", r"\\\1", " ".join(str(text).split()))
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def render_guidelines(spec: DatasetSpec, limit: int = GUIDELINES_MAX_CHARS) -> str:
    """The dataset guidelines: how to read a record, then every label with its description.

    More than 20 labels are listed alphabetically (easier to look one up). Argilla stores at most ``limit``
    characters, so long descriptions are shortened (the same cap for every label) until the text fits.
    """
    head = ["# Guidelines", "",
            "Choose every label that applies to the text." if spec.multi_label
            else "Choose the one label that best describes the text.", "",
            "The text to label comes first. " + (
                ("Below it, *Model's top guesses* lists every label the model puts over its threshold, with its "
                 "probability (or says none is above threshold): a hint, not part of the text. " if spec.multi_label
                 else "Below it, *Model's top guesses* lists the labels the model ranks highest, with its "
                 "probabilities (and which signal proposed each when they disagree): a hint, not part of the text. ")
                if spec.candidates else "")
            + "The suggested label" + ("s are" if spec.multi_label else " is") + " already selected in the form; "
            "change the selection when it is wrong. "
            + ("Type in the label search box to find a label quickly. " if spec.has_search() else "")
            + (f"When no label applies, choose **{NONE_TEXT}** (first in the list): it is an answer, an empty label "
               "set; suggested labels left selected beside it are set aside. Where the suggestion is "
               f"{NONE_TEXT} and a label applies, choose the label (the suggestion is then set aside). Any other "
               f"mix of {NONE_TEXT} and labels is a contradiction: the record is listed as a conflict and not "
               "trained on until the answer is fixed. " if spec.multi_label else "")
            + "Records are ordered by uncertainty (`priority` 1 first).", ""]
    if spec.queue_status:
        head[2:2] = [f"> {md_escape(spec.queue_status)}", ""]
    many = len(spec.labels) > 20
    labels = sorted(spec.labels, key=lambda lab: (lab.casefold(), lab)) if many else spec.question_labels()
    descs = {lab: " ".join(str(spec.descriptions.get(lab) or "").split()) for lab in labels}
    title = f"## Labels ({len(labels)}{', alphabetical' if many else ''})"

    def render(cap: int | None, rows: int) -> str:
        body = [title, ""]
        if any(descs.values()):
            for lab in labels[:rows]:
                d = descs[lab]
                if cap is not None and len(d) > cap:
                    d = d[:max(0, cap - 1)].rstrip() + "…"
                body.append(f"- **{md_escape(lab)}**" + (f": {md_escape(d)}" if d else ""))
        else:
            body.append(" · ".join(f"**{md_escape(lab)}**" for lab in labels[:rows]))
        if rows < len(labels):
            body += ["", f"({len(labels) - rows} more labels are not listed: Argilla keeps at most {limit} "
                         "characters of guidelines.)"]
        return "\n".join(head + body)

    text = render(None, len(labels))
    if len(text) <= limit:
        return text
    longest = max((len(d) for d in descs.values()), default=0)
    lo, hi = 0, longest  # the largest description cap that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if len(render(mid, len(labels))) <= limit else (lo, mid - 1)
    if len(render(lo, len(labels))) <= limit and lo >= 20:
        return render(lo, len(labels))
    rows = len(labels)
    while rows > 0 and len(render(20, rows)) > limit:
        rows -= 1
    return render(20, rows)


def order_freshness(spec: DatasetSpec) -> str:
    """"order refreshed <when> by <who>": the first sentence of ``spec.queue_status``, for the queue line."""
    first = spec.queue_status.split(". ", 1)[0].rstrip(".")
    return first.replace("Review order refreshed", "order refreshed", 1) if first.startswith("Review order") else ""


def build_settings(spec: DatasetSpec):
    """``rg.Settings`` for the spec: text fields (and the top-guesses field), one label question, loop
    metadata, the embedding vector, the task distribution (``min_submitted`` answers per record)."""
    import argilla as rg

    spec.validate()
    fields = [rg.TextField(name=name, title=col, use_markdown=False) for col, name in spec.field_names().items()]
    if spec.candidates:
        fields.append(rg.TextField(name=CANDIDATES, title=CANDIDATES_TITLE, use_markdown=True, required=False))
    common = dict(name=QUESTION, labels=spec.question_options(), title="Label", description=spec.question_description(),
                  required=True, visible_labels=spec.visible_options())
    if spec.multi_label:  # suggested labels first among the chips when the list is long
        question = rg.MultiLabelQuestion(**common, labels_order="suggestion" if spec.visible_options() else "natural")
    else:
        question = rg.LabelQuestion(**common)
    metadata = [
        rg.FloatMetadataProperty(name=META_UNCERTAINTY, title="Uncertainty"),
        rg.IntegerMetadataProperty(name=META_PRIORITY, title="Priority (1 = review first)"),
        rg.IntegerMetadataProperty(name=META_ROUND, title="Round"),
        rg.FloatMetadataProperty(name=META_AGREEMENT, title="Signal agreement"),
        rg.TermsMetadataProperty(name=META_SAMPLE, options=[SAMPLE_QUEUE, SAMPLE_RANDOM],
                                 title="Sample (random = gold, evaluation only)"),
    ] + [
        rg.TermsMetadataProperty(name=signal_meta(s), title=f"Top label: {s}") for s in spec.signal_names
    ]
    vectors = [rg.VectorField(name=VECTOR, dimensions=spec.vector_dim, title="Embedding")] if spec.vector_dim else []
    return rg.Settings(
        fields=fields,
        questions=[question],
        metadata=metadata,
        vectors=vectors,
        guidelines=spec.guidelines(),
        allow_extra_metadata=True,
        distribution=rg.TaskDistribution(min_submitted=spec.min_submitted),
    )


def has_candidates_field(dataset) -> bool:
    return any(f.name == CANDIDATES for f in dataset.settings.fields)


def candidates_note(dataset, spec: DatasetSpec) -> str | None:
    """One line when the config asks for top guesses that an existing dataset cannot show."""
    if not spec.candidates or has_candidates_field(dataset):
        return None
    return (f"dataset {spec.name!r} was created without the top-guesses field and Argilla cannot add a field to "
            f"a published dataset; top guesses are not shown (use a new dataset name, e.g. "
            f"--set argilla.dataset={spec.name}-v2, to get them)")


def existing_labels(dataset) -> tuple[list[str], bool]:
    """The label values (the reserved "None of these" option left out) and multi-label flag of an existing
    dataset's question."""
    question = dataset.settings.questions[QUESTION]
    if question is None:
        raise LabelerError(f"dataset {dataset.name!r} has no question named {QUESTION!r}; use another dataset name")
    return [lab for lab in question.labels if lab != NONE_VALUE], type(question).__name__ == "MultiLabelQuestion"


def has_none_option(dataset) -> bool:
    question = dataset.settings.questions[QUESTION]
    return question is not None and NONE_VALUE in list(question.labels)


def none_note(dataset, spec: DatasetSpec) -> str | None:
    """One line when a multi-label dataset was created without the "None of these" option (before it
    existed): Argilla cannot add an option to a published question."""
    if not spec.multi_label or has_none_option(dataset):
        return None
    return (f"dataset {spec.name!r} was created without the {NONE_TEXT!r} option and Argilla cannot add options to "
            f"a published question; records with no label cannot be answered there (use a new dataset name, e.g. "
            f"--set argilla.dataset={spec.name}-v2)")


# What one submitted multi-label answer means (``answer_labels``):
ANSWER_LABELS, ANSWER_NONE, ANSWER_NONE_WITH_LABELS = "labels", "none", "none with labels"
ANSWER_LABELS_OVER_NONE = "labels over a pre-selected none"
ANSWER_NONE_OVER_LABELS = "none over pre-selected labels"


def answer_labels(value, labels, suggested=None) -> tuple[list[str] | None, str]:
    """One multi-label answer as Argilla stores it -> (its label set in ``labels`` order, kind).

    ``[NONE_VALUE]`` (the "None of these" option alone) is ``[]``, kind "none". The option together with
    labels is a contradiction: (None, "none with labels"); the caller does not train on it and counts it. Unless
    the form started with one of the two selected (``suggested``, the record's suggestion) and the annotator added
    the other, leaving the pre-selection as it was: labels chosen beside a pre-selected option are those labels
    (kind "labels over a pre-selected none"), the option chosen beside exactly the pre-selected labels is ``[]``
    (kind "none over pre-selected labels"); both counted apart. Values outside ``labels`` are dropped
    (``labels=None``: every value is kept, in the answer's order)."""
    values = [value] if isinstance(value, str) else list(value or [])
    chosen = {str(v) for v in values}
    kept = [lab for lab in labels if lab in chosen] if labels is not None else \
        [str(v) for v in values if str(v) != NONE_VALUE]
    if NONE_VALUE in chosen:
        pre = [str(v) for v in suggested] if isinstance(suggested, (list, tuple)) else None
        if kept and pre == [NONE_VALUE]:
            return kept, ANSWER_LABELS_OVER_NONE
        if kept and pre and NONE_VALUE not in pre and set(pre) == set(kept):
            return [], ANSWER_NONE_OVER_LABELS
        return (None, ANSWER_NONE_WITH_LABELS) if kept else ([], ANSWER_NONE)
    return kept, ANSWER_LABELS


def check_compatible(dataset, spec: DatasetSpec) -> None:
    """The existing dataset must have the same label set and kind; say exactly what differs."""
    labels, multi = existing_labels(dataset)
    if multi != spec.multi_label:
        kind = "multi-label" if multi else "single-label"
        now = "multi-label" if spec.multi_label else "single-label"
        raise LabelerError(f"dataset {spec.name!r} exists as {kind} and the config is {now} (Argilla cannot change a "
                           f"published question's kind); set a new dataset name in the config (argilla.dataset: "
                           f"{spec.name}-v2): the answers given in {spec.name!r} stay in the project's labels")
    missing, extra = [x for x in spec.labels if x not in labels], [x for x in labels if x not in spec.labels]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"config adds {missing}")
        if extra:
            parts.append(f"dataset has {extra} not in the config")
        raise LabelerError(
            f"label set differs from existing dataset {spec.name!r}: {'; '.join(parts)} (Argilla cannot change a "
            f"published question's labels); set a new dataset name in the config (argilla.dataset: {spec.name}-v2): "
            f"the answers given in {spec.name!r} stay in the project's labels"
        )
