"""``labeler init``: write a commented starter config for a data file and a label list.

The data file is sampled (first 200 usable rows) to choose the text field(s), an id column (when its
sampled values are unique) and a label column (written commented out). The written YAML is validated
with the same code as ``load_config`` before it touches the disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import yaml

from labeler.config import validate_config
from labeler.data import sample_rows
from labeler.errors import LabelerError

TEXT_NAMES = ("text", "content", "body", "message", "sentence", "review", "document", "utterance", "comment",
              "description", "question", "title", "subject")
ID_NAMES = ("id", "_id", "uuid", "record_id", "doc_id", "example_id")
LABEL_NAMES = ("label", "labels", "category", "intent", "class", "target", "topic")


def write_starter_config(
    data_path: str | Path,
    labels: Sequence[str],
    out_path: str | Path,
    text_fields: Sequence[str] | None = None,
    multi_label: bool = False,
    force: bool = False,
) -> Path:
    """Write ``out_path`` (YAML, with a comment on every option) and return it.

    ``text_fields``: the columns to read; by default the first of ``TEXT_NAMES`` found, else the string
    column with the longest texts. Refuses to overwrite an existing file unless ``force``.
    """
    data_path, out_path = Path(data_path), Path(out_path)
    if out_path.exists() and not force:
        raise LabelerError(f"{out_path} already exists; pass --force to overwrite it")
    columns, rows = sample_rows(data_path)
    if text_fields:
        missing = [f for f in text_fields if f not in columns]
        if missing:
            raise LabelerError(f"{data_path} has no column(s) {missing}; columns: {', '.join(map(str, columns))}")
        fields = list(text_fields)
    else:
        fields = [_guess_text_field(columns, rows, data_path)]
    id_field = _guess_id_field(columns, rows, fields)
    label_field = next((c for c in LABEL_NAMES if c in columns and c not in fields), None)
    text = _render(data_path, out_path, list(labels), fields, id_field, label_field, multi_label)
    validate_config(yaml.safe_load(text), out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    return out_path


def _guess_text_field(columns: list[str], rows: list[dict], data_path: Path) -> str:
    stringy = [c for c in columns if _string_share(rows, c) >= 0.8]
    for name in TEXT_NAMES:
        if name in stringy:
            return name
    candidates = [c for c in stringy if c not in ID_NAMES and c not in LABEL_NAMES]
    if not candidates:
        raise LabelerError(f"no text-like column in {data_path} (columns: {', '.join(map(str, columns))}); "
                           f"name one with --text-field")
    return max(candidates, key=lambda c: sum(len(r[c]) for r in rows if isinstance(r.get(c), str)))


def _guess_id_field(columns: list[str], rows: list[dict], fields: list[str]) -> str | None:
    for name in ID_NAMES:
        if name in columns and name not in fields:
            values = [r.get(name) for r in rows]
            if all(v is not None and not isinstance(v, (dict, list)) for v in values) \
                    and len(set(map(str, values))) == len(values):
                return name
    return None


def _string_share(rows: list[dict], column: str) -> float:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    return sum(isinstance(v, str) for v in values) / len(values) if values else 0.0


def _q(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    return json.dumps(value, ensure_ascii=not str(value).isprintable())


def _render(data_path, out_path, labels, fields, id_field, label_field, multi_label) -> str:
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
    label_line = (f"  # label_field: {_q(label_field)}   # found in the data: held back as truth by simulate/demo"
                  if label_field else "  # label_field: label   # a column with known labels, for simulate/demo")
    strategy = "threshold_distance" if multi_label else "margin"
    return f"""\
# labeler config (more in configs/examples/). Override any key on the command line: --set section.key=value.
# Unknown keys are errors. Relative paths are relative to this file's folder.

data:
  # CSV / TSV, JSONL, Parquet, or a folder written by datasets' save_to_disk.
  path: {_q(rel)}
  format: auto            # auto (by suffix; a folder = hf) | csv | jsonl | parquet | hf
  # Column(s) the models read; several become "field: value" lines.
  text_fields: [{", ".join(_q(f) for f in fields)}]
  # Column with a unique id per row; null = a hash of the text fields (stable across runs).
{id_line}
{label_line}
  max_chars: 20000        # longer texts are kept but flagged for summarization

task:
  multi_label: {"true " if multi_label else "false"}      # true: each text may carry any number of labels
  threshold: 0.5          # multi-label only: a label applies when its probability >= threshold
  # Labels: a plain string, or name + description (descriptions help the zero-shot signals).
  labels:
{label_lines}

# Weak-label signals, combined by the ensemble. Each: type, optional name (default: the type),
# weight >= 0, params (checked per type).
signals:
  - type: embedding       # cosine similarity of text and label embeddings
    weight: 1.0
    params: {{}}            # model: a path or hub id; temperature: float; prompt_template: "{{name}}: {{description}}"
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

queue:
  strategy: {strategy}{" " * max(2, 14 - len(strategy))}# single-label: least_confidence | margin | entropy |
                          # disagreement; multi-label: threshold_distance | disagreement
  batch_size: 50          # records per push
  exploration: 0.1        # fraction picked at random, to find what the signals miss
  diversity: 0.5          # fraction picked by clustering embeddings, to avoid near-duplicates
  seed: 0

training:
  backend: setfit         # setfit | transformers | logreg (logistic regression on frozen embeddings)
  min_per_class: 8        # `labeler train` waits for this many human labels per label (--force overrides)
  mode: join              # join: the run joins the signals (weights fitted on gold labels) |
                          # replace: it replaces them once it beats the zero-shot ensemble on gold
  gold_fraction: 0.2      # human labels held out (stably) to compare models; never trained on
  seed: 0
  params: {{}}            # setfit: max_steps (48 contrastive steps), body_learning_rate, head_c;
                          # transformers: num_epochs (10), min_steps (100), max_steps (1000),
                          # learning_rate (1e-4, the body), head_learning_rate (3e-3), batch_size (16)

argilla:
  url: null               # null = the local server (`labeler server start`) and its credentials
  api_key_env: ARGILLA_API_KEY   # the NAME of the environment variable holding the key; never the key
  workspace: null
  dataset: null           # null = this file's name

project:
  dir: null               # state (pool, caches, labels); null = .labeler/<this file's name> next to it
  name: null
"""
