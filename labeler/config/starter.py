"""``labeler init``: write a commented starter config for a data file and a label list.

The data file is sampled (first 200 usable rows) to choose the text field(s), an id column (when its
sampled values are unique) and a label column (written commented out). The labels are given, or read from a
column of the whole file (``labels_from_column``: distinct values by frequency; lists contribute each of
their items), which then becomes ``data.label_field``. Option values are the config models' defaults. The
written YAML is validated with the same code as ``load_config`` before it touches the disk.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from labeler.config import QueueConfig, TrainingConfig, validate_config
from labeler.config.guess import (
    LABEL_NAMES,
    guess_id_field,
    guess_text_field,
    mean_length,
    named,
    share_inside,
    string_share,
    with_heading,
)
from labeler.config.models import LEXICAL, PRIOR_SHIFT, WEAK_FRACTION
from labeler.loop.engine import LEXICAL_FROM, LEXICAL_MIN
from labeler.data import column_values, sample_rows
from labeler.data.encoding import guess_encoding
from labeler.data.html import SHARE as HTML_SHARE, looks_like_html
from labeler.data.label_checks import look_alikes
from labeler.data.multilabel import EMPTY_LIST, SEPARATORS, LabelNotes, parse_labels
from labeler.errors import LabelerError
from labeler.loop.strategies import MULTI_LABEL_STRATEGIES, RANDOM, SINGLE_LABEL_STRATEGIES
from labeler.words import plural
from training.backends import BACKEND_NAMES

LONG_CHARS = 1_000  # about the 256 word pieces the packaged MiniLM reads at once, in English
MAX_DISTINCT = 1000  # more distinct values than this is not a label column


def write_starter_config(
    data_path: str | Path,
    labels: Sequence[str],
    out_path: str | Path,
    text_fields: Sequence[str] | None = None,
    multi_label: bool = False,
    force: bool = False,
    label_field: str | None = None,
) -> "Starter":
    """Write ``out_path`` (YAML, with a comment on every option) and return what was written (``Starter``).

    ``text_fields``: the columns to read; by default the first of ``TEXT_NAMES`` found, else the string
    column with the longest texts, with a heading column (``HEADING_NAMES``: a title, a subject) before it
    unless the body already repeats the heading. ``label_field``: the column holding known labels (written as
    ``data.label_field``); by default a column named like a label is suggested in a comment. Refuses to
    overwrite an existing file unless ``force``.
    """
    data_path, out_path = Path(data_path), Path(out_path)
    if out_path.exists() and not force:
        raise LabelerError(f"{out_path} already exists; pass --force to overwrite it")
    encoding = guess_encoding(data_path)
    columns, rows = sample_rows(data_path, encoding=encoding)
    if text_fields:
        missing = [f for f in text_fields if f not in columns]
        if missing:
            raise LabelerError(f"{data_path} has no column(s) {missing}; columns: {', '.join(map(str, columns))}")
        fields = list(text_fields)
    else:
        readable = [c for c in columns if c != label_field]  # the labels are never a text to read
        fields = with_heading(guess_text_field(readable, rows, data_path), readable, rows)
    id_field = guess_id_field(columns, rows, fields)
    if label_field is not None and label_field in fields:
        raise LabelerError(f"column {label_field!r} is a text field; the labels must come from another column")
    suggested = label_field or next((c for c in (named(columns, n) for n in LABEL_NAMES) if c and c not in fields),
                                    None)
    html = max((looks_like_html(r.get(f) for r in rows) for f in fields), default=0.0)
    text = _render(data_path, out_path, list(labels), fields, id_field, suggested, label_field is not None,
                   multi_label, encoding, html >= HTML_SHARE)
    validate_config(yaml.safe_load(text), out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    unread = [c for c in columns if c not in fields and c != id_field and c != suggested
              and string_share(rows, c) >= 0.8 and mean_length(rows, c) >= 20
              and not any(str(f).startswith(f"{c}.") or str(c).startswith(f"{f}.") for f in fields)
              and (share_inside(rows, c, fields) or 0) <= 0.8]  # AG News' title is inside its text: read already
    lengths = [sum(len(v) for f in fields if isinstance(v := r.get(f), str)) for r in rows]
    return Starter(out_path, fields, id_field, guessed=not text_fields, unread=unread, html=html, lengths=lengths)


@dataclass
class Starter:
    """What ``write_starter_config`` wrote: the file, the text fields and id column it chose, and the text-like
    columns it left unread (what ``labeler init`` says, so a user sees what the models will read)."""

    path: Path
    text_fields: list[str]
    id_field: str | None
    guessed: bool  # the text fields were guessed, not given
    unread: list[str]
    html: float = 0.0  # the share of sampled texts holding HTML tags (``strip_html`` written from HTML_SHARE up)
    lengths: list[int] = field(default_factory=list)  # characters of each sampled row's text fields

    def long_note(self) -> str | None:
        """A line when a tenth or more of the sampled texts run past about LONG_CHARS characters: what the embedding
        model reads at once, so they are read in windows (``training.windows``)."""
        n = sum(x > LONG_CHARS for x in self.lengths)
        if not self.lengths or n < 0.1 * len(self.lengths):
            return None
        median = sorted(self.lengths)[len(self.lengths) // 2]
        share = f"all {n}" if n == len(self.lengths) else f"{n} of {len(self.lengths)}"
        return (f"{share} sampled texts run past about {LONG_CHARS:,} characters (median {median:,}), "
                "the 256 word pieces the embedding model reads at once: they are read whole, in windows (an encoding "
                "each; `bootstrap` counts them), or from the start only with the signal's params.long_texts: start")

    def line(self) -> str:
        what = " + ".join(repr(f) for f in self.text_fields)
        how = "guessed from the first rows; --text-field to choose" if self.guessed else "as given"
        more = f" and {len(self.unread) - 5} more" if len(self.unread) > 5 else ""
        unread = f"; other text columns, not read: {', '.join(map(repr, self.unread[:5]))}{more}" if self.unread else ""
        ids = f"ids from {self.id_field!r}" if self.id_field else "no unique id column (ids: a hash of the text)"
        html = (f"; {self.html:.0%} of the sampled texts hold HTML: wrote data.strip_html: true (read as plain text)"
                if self.html >= HTML_SHARE else "")
        return f"the models read {what} ({how}){unread}; {ids}{html}"


NO_LABEL_WORDS = {"none", "no label", "no labels", "n/a", "na", "null", "nil", "-", "nothing", "empty"}


@dataclass
class FoundLabels:
    """The labels of one column: ``labels`` by decreasing frequency (ties by name), ``counts`` per label."""

    column: str
    labels: list[str]
    counts: dict[str, int]
    rows: int  # parsed rows in the file
    labeled: int  # rows holding at least one label
    several: int  # rows holding more than one label (lists)
    warning: str | None = None  # many distinct values for the rows: taken since the user named the column
    notes: str | None = None  # multi-label: what was odd in the cells (``LabelNotes.line``)
    none: int = 0  # multi-label: rows whose cell is an empty list (the answer "None of these")
    look_alike: list = field(default_factory=list)  # (rare, common) values that look like a typo of each other
    multi_label: bool = False

    def look_alike_lines(self, shown: int = 5) -> list[str]:
        """One warning per label value that looks like a typo of a more frequent one (the first ``shown``), and,
        multi-label, per value that reads as no label ("none", "n/a"), which the answer "None of these" already is."""
        lines = [f"warning: label {name!r} ({plural(self.counts[name], 'row')}) reads as no label: in a multi-label "
                 "project an empty list ([]) is the answer 'None of these'; write [] in the data for those rows, or "
                 "keep it as a label of its own" for name in self.labels
                 if self.multi_label and name.strip().casefold() in NO_LABEL_WORDS]
        lines += [f"warning: label {rare!r} ({plural(self.counts[rare], 'row')}) looks like {common!r} "
                  f"({plural(self.counts[common], 'row')}); a typo? fix the data or drop it from task.labels"
                  for rare, common in self.look_alike[:shown]]
        if len(self.look_alike) > shown:
            lines.append(f"warning: and {len(self.look_alike) - shown} more look-alike labels")
        return lines

    def summary(self) -> str:
        unlabeled = self.rows - self.labeled - self.none
        blank = " (a blank cell is no label; where it means 'None of these', write [])" if self.multi_label else ""
        extra = f"; {plural(unlabeled, 'row')} without one{blank}" if unlabeled else ""
        none = f"; {plural(self.none, 'row')} with none of them (an empty list: 'None of these')" if self.none else ""
        lists = f"; {plural(self.several, 'row')} hold{'s' if self.several == 1 else ''} several labels" \
            if self.several else ""
        return f"found {plural(len(self.labels), 'label')} in column {self.column!r} of {plural(self.rows, 'row')}{extra}{none}{lists}"


def labels_from_column(data_path: str | Path, column: str, multi_label: bool = False) -> FoundLabels:
    """Every distinct value of ``column`` over the whole file, most frequent first; a list value counts each
    of its items. Single-label: values are kept as the data reader reads held-back labels (``str(value)``).
    Multi-label: each cell is read as the data reader reads it for a multi-label project
    (``labeler.data.multilabel.parse_labels``: strings split at ``|`` ``;`` ``,``, JSON lists written as text,
    an empty list is "None of these"), so ``billing|refund`` is two labels, not a third one that the reader would
    then never split. Null, NaN and blank values are no label. A missing column or one without a single label
    is one ``LabelerError`` line."""
    values = column_values(data_path, column, encoding=guess_encoding(data_path))
    counts: Counter[str] = Counter()
    labeled = several = 0
    notes = LabelNotes()
    for value in values:
        if multi_label:
            items = parse_labels(value, None, notes) or []
        else:
            items = [_label_text(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        items = list(dict.fromkeys(i for i in items if i is not None))
        counts.update(items)
        labeled += bool(items)
        several += len(items) > 1
    if not counts:
        raise LabelerError(f"column {column!r} of {data_path} holds no labels ({len(values)} rows, all empty)")
    many = len(counts) > 50 and len(counts) > labeled / 2
    if len(counts) > MAX_DISTINCT or (many and max(counts.values()) == 1):
        raise LabelerError(f"column {column!r} of {data_path} holds {len(counts)} distinct values in {labeled} rows: "
                           "not a label column (labels repeat); name another with --labels-from or use --labels")
    if not multi_label:  # values such as "billing|refund" whose parts are labels on their own: a multi-label column
        several += sum(n for name, n in counts.items() if len(split_parts(name, counts)) > 1)
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    found = FoundLabels(column, ranked, {name: counts[name] for name in ranked}, len(values), labeled, several)
    found.multi_label = multi_label
    found.none = notes.pop(EMPTY_LIST, 0)  # the summary names them
    found.warning = sparse_warning(found) if many else None
    found.notes = notes.line()
    found.look_alike = look_alikes(found.counts)
    return found


def split_parts(value: str, known) -> list[str]:
    """``value``'s parts at the first of ``|`` ``;`` ``,`` it holds when every part is in ``known`` (two or more);
    ``[value]`` otherwise."""
    for sep in SEPARATORS:
        if sep in value:
            parts = [p.strip() for p in value.split(sep) if p.strip()]
            return parts if len(parts) > 1 and all(p in known for p in parts) else [value]
    return [value]


def sparse_warning(found: "FoundLabels") -> str:
    """The warning for a named label column with many labels for its rows (150 intents in a 201-row sample):
    taken as asked, since the user named it, with what it means for the first rounds."""
    once = sum(1 for n in found.counts.values() if n == 1)
    return (f"warning: {len(found.labels)} distinct values in {found.labeled} labeled rows ({once} seen once); "
            f"taken as the labels since you named {found.column!r}. Check the list in the config for typos and "
            "values that are not labels")


def _label_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if text.strip() else None


def _q(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    return json.dumps(value, ensure_ascii=not str(value).isprintable())


def _v(value: Any) -> str:
    """A default value as YAML: true / false, null, numbers in their shortest exact form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return _q(value) if isinstance(value, str) else repr(value)


def _c(text: str, width: int = 24) -> str:
    """Pad ``text`` to ``width`` characters, so that the comment after it lines up (column 26 in the file)."""
    return text + " " * max(2, width - len(text))


def _encoding_line(encoding: str) -> str:
    if encoding == "utf-8":
        return "encoding: utf-8         # of CSV / JSON Lines files, e.g. latin-1 or cp1252"
    return f"encoding: {encoding}   # guessed by labeler init: the file is not valid UTF-8"


def _render(data_path, out_path, labels, fields, id_field, label_field, label_field_set, multi_label,
            encoding: str = "utf-8", html: bool = False) -> str:
    data_abs, out_dir = data_path.resolve(), out_path.resolve().parent
    try:  # relative when the two share a folder below the root (a project moved as a whole still works)
        shared = Path(os.path.commonpath([data_abs, out_dir]))
        rel = Path(os.path.relpath(data_abs, out_dir)).as_posix() if shared.parent != shared else data_abs.as_posix()
    except ValueError:  # another drive on Windows
        rel = data_abs.as_posix()
    label_lines = "\n".join(
        f"    - name: {_q(name)}\n      # description: \"one sentence on what belongs here\"" for name in labels
    )
    id_line = f"  id_field: {_q(id_field)}" if id_field else "  id_field: null"
    if label_field_set:
        label_line = f"  label_field: {_q(label_field)}   # known labels: held back as truth by simulate/demo, never shown"
    elif label_field:
        label_line = f"  # label_field: {_q(label_field)}   # found in the data: held back as truth by simulate/demo"
    else:
        label_line = "  # label_field: label   # a column with known labels, for simulate/demo"
    strategy = "threshold_distance" if multi_label else "margin"
    q, t = QueueConfig(), TrainingConfig()
    prior = (f'  # {_c(f"prior_shift: {_v(PRIOR_SHIFT[True])}", 22)}# the queue\'s per-label cuts move to the label '
             "rates of the\n                          # random reserve (m pseudo-records of shrinkage; 0 = off)\n"
             if multi_label else "")
    w = t.weak_labels.model_copy(update={"fraction": WEAK_FRACTION[bool(multi_label)]})
    sheet_line = "  sheet: null             # the workbook's sheet to read; null = the first\n" \
        if data_path.suffix.lower() in (".xlsx", ".xlsm") else ""
    return f"""\
# labeler config (more in configs/examples/). Override any key on the command line: --set section.key=value.
# Unknown keys are errors. Relative paths are relative to this file's folder.

data:
  # CSV / TSV, JSONL, Parquet, an Excel workbook (its first sheet), a .txt file (one text per line), a mailbox
  # (.mbox: one e-mail per row), or a folder: one written by datasets' save_to_disk, one of data files of one
  # format (read as one table, with a file column), or one of text files (one text per file: path, text, folder).
  path: {_q(rel)}
  format: auto            # auto | csv | jsonl | parquet | xlsx | lines | mbox | hf | tables | files
  # Column(s) the models read; several become "field: value" lines.
  text_fields: [{", ".join(_q(f) for f in fields)}]
  # Column with a unique id per row; null = a hash of the text fields (stable across runs).
{id_line}
{label_line}
  max_chars: 20000        # longer texts are kept whole (annotators see the first argilla.cut_to characters)
  {_encoding_line(encoding)}
  strip_html: {"true " if html else "false"}       # true: texts holding HTML are read as plain text
{sheet_line}
task:
  multi_label: {"true " if multi_label else "false"}      # true: each text may carry any number of labels
  threshold: 0.5          # multi-label only: a label applies when its probability >= threshold
  # Labels: a plain string, or name + description (descriptions help the zero-shot signals). Renamed
  # mid-project? Keep the old name under the label's was: ["old name"], and its answers count.
  labels:
{label_lines}

# Weak-label signals, combined by the ensemble. Each: type, optional name (default: the type),
# weight >= 0, params (checked per type).
signals:
  - type: embedding       # cosine similarity of text and label embeddings
    weight: 1.0
    params: {{}}            # model: a path or hub id; temperature: float; prompt_template: "{{name}}: {{description}}";
                          # long_texts: whole (a text past the model's 256 word pieces is read in windows) | start
  # - type: nli           # zero-shot entailment, slower but often stronger
  #   weight: 1.0
  #   params: {{model: facebook/bart-large-mnli, hypothesis_template: "This text is about {{}}."}}
  # - type: keywords      # regexes per label; abstains when nothing matches
  #   weight: 0.5
  #   params: {{keywords: {{{_q(labels[0]) if labels else '"label"'}: ["regex one", "regex two"]}}, ignore_case: true}}

ensemble:
  method: weighted_mean   # weighted_mean | stacked (logistic regression once enough labels exist)
  min_labels_for_stacking: 30
  cv_folds: 5

# The labelling policy: `labeler round` and `labeler simulate` follow the same one.
queue:
  {_c(f"strategy: {strategy}")}# single-label: {" | ".join(SINGLE_LABEL_STRATEGIES)};
                          # multi-label: {" | ".join(MULTI_LABEL_STRATEGIES)}; {RANDOM}: uniform picks
  {_c(f"batch_size: {q.batch_size}")}# records per push
  {_c(f"gold_share: {_v(q.gold_share)}")}# this share of each batch is drawn at random and never trained on: the
                          # unbiased gold set `compare` reports on (fixed at the first push)
  {_c(f"coverage: {_v(q.coverage)}")}# while a class is short of training.min_per_class labels, this share of
                          # each batch goes to records predicted to be in the short classes
  seed: {q.seed}
  # {_c(f"cold_start: {_v(q.cold_start)}", 22)}# before any label: the most confident record per class opens the queue
  # {_c(f"queue_with: {q.queue_with}", 22)}# rank with: model (a fast head refitted every round) | join | ensemble
  # {_c(f"exploration: {_v(q.exploration)}", 22)}# fraction picked at random, to find what the signals miss
  # {_c(f"diversity: {_v(q.diversity)}", 22)}# fraction picked by clustering embeddings, to avoid near-duplicates
  # {_c(f"lexical: {_v(LEXICAL[bool(multi_label)])}", 22)}# the fast model and a run's head also read the pool's words (TF-IDF x this) from {LEXICAL_FROM:g}
                          # labels per label and {LEXICAL_MIN} in all; 0 = off (default 0.5 multi-label, 0 single-label)
{prior}
training:
  {_c(f"backend: {t.backend}")}# {" | ".join(BACKEND_NAMES)}
  {_c(f"min_per_class: {t.min_per_class}")}# a run starts once half of this many per label are there (each label counted up to it),
                          # or earlier when the fast model beats zero-shot on gold (--force overrides)
  {_c(f"mode: {t.mode}")}# join: the run joins the signals (weights fitted on gold labels) |
                          # replace: it replaces them once it beats the zero-shot ensemble on gold
  # {_c(f"retrain_after: {_v(t.retrain_after)}", 22)}# `round` retrains a setfit/transformers run once the training
                          # labels grew by this share (it encodes the pool again); logreg: every round
  weak_labels:            # the ensemble's most confident records as down-weighted training rows
    {_c(f"fraction: {_v(w.fraction)}", 22)}# of each predicted class among unlabeled records; 0 = off
    {_c(f"weight: {_v(w.weight)}", 22)}# sample weight (a human label weighs 1)
    {_c(f"until: {_v(w.until)}", 22)}# stop after this many human labels; null = never stop
  {_c(f"min_gold: {t.min_gold}")}# random gold labels needed before `compare` gives a verdict
  seed: {t.seed}
  params: {{}}              # setfit: max_steps (48 contrastive steps), body_learning_rate, head_c;
                          # transformers: num_epochs (10), min_steps (100), max_steps (1000),
                          # learning_rate (1e-4, the body), head_learning_rate (3e-3), batch_size (16)
  # {_c(f"calib_share: {t.calib_share:.2g}", 22)}# of the answered gold draw, kept for calibration instead

argilla:
  url: null               # null = the local server (`labeler server start`) and its credentials
  api_key_env: ARGILLA_API_KEY   # the NAME of the environment variable holding the key; never the key
  workspace: null
  dataset: null           # null = this file's name

project:
  dir: null               # state (pool, caches, labels); null = .labeler/<this file's name> next to it
  name: null
"""
