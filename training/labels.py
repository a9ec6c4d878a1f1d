"""Load and validate the human-label table that ``labeler pull`` writes.

The table (Parquet, or anything pandas/``datasets`` can hand us as a DataFrame) has the columns
``id, text, label, labels, status, annotator, submitted_at, round``. Only ``submitted`` rows are training
data; every other row is skipped and counted under a reason, never silently dropped. An unknown label is
an error, because it means the label order the caller passed is out of date.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from training.errors import TrainingError

REQUIRED_COLUMNS = ("id", "text", "status")


@dataclass
class LabelTable:
    """Submitted, validated human labels.

    ``df`` has one row per record id with columns ``id, text, label, labels, round`` (plus whatever else the
    source had); ``label`` is the single label (single-label tables) and ``labels`` a list (multi-label).
    ``skipped`` counts the rows left out, by reason.
    """

    df: pd.DataFrame
    label_names: list[str]
    multi_label: bool
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.df)

    @property
    def ids(self) -> list[str]:
        return self.df["id"].tolist()

    @property
    def texts(self) -> list[str]:
        return self.df["text"].tolist()

    def targets(self, rows: pd.DataFrame | None = None) -> np.ndarray:
        """Class indices ``(N,)`` (single-label) or a binary indicator matrix ``(N, K)`` (multi-label)."""
        return to_targets(self.df if rows is None else rows, self.label_names, self.multi_label)

    def fingerprint(self) -> str:
        return data_fingerprint(self.df, self.multi_label)

    def skipped_message(self) -> str:
        if not self.skipped:
            return "no rows skipped"
        return "skipped " + ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _named(counts: Counter, shown: int = 3) -> str:
    """``'Sports' 50, 'Health' 2`` (the first ``shown`` by count, then how many more); one label alone: ``'Sports'``
    (the line's own count says how many)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) == 1:
        return repr(ranked[0][0])
    more = f" and {len(ranked) - shown} more" if len(ranked) > shown else ""
    return ", ".join(f"{name!r} {n}" for name, n in ranked[:shown]) + more


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def load_labels(
    source: str | Path | pd.DataFrame,
    label_names: Sequence[str],
    multi_label: bool = False,
) -> LabelTable:
    """Read the label table, keep submitted rows, validate labels against ``label_names``.

    Skips (counted in ``LabelTable.skipped``): non-submitted rows (``status: discarded`` etc.), submitted
    rows with no label (``no label``), empty text, and older duplicates of an id (the latest
    ``submitted_at`` wins), and answers with a label no longer in ``label_names`` (taken out of the config
    since: single-label, the row; multi-label, that label from the record's set). Raises ``TrainingError``
    (one line) on a missing file or column.
    """
    label_names = list(label_names)
    if len(set(label_names)) != len(label_names) or not label_names:
        raise TrainingError(f"label names must be a non-empty list without duplicates, got {label_names}")
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        where = "label table"
    else:
        path = Path(source)
        if not path.exists():
            raise TrainingError(f"label file {path} not found; run `labeler pull` first")
        try:
            df = pd.read_parquet(path) if path.suffix != ".jsonl" else pd.read_json(path, lines=True)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
            raise TrainingError(f"cannot read label file {path}: {exc}") from None
        where = str(path)
    label_col = "labels" if multi_label else "label"
    missing = [c for c in (*REQUIRED_COLUMNS, label_col) if c not in df.columns]
    if missing:
        raise TrainingError(f"{where} lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, df.columns))})")

    skipped: Counter[str] = Counter()
    status = df["status"].astype(str)
    for s, n in status[status != "submitted"].value_counts().items():
        skipped[f"{s} (not submitted)"] += int(n)
    df = df[status == "submitted"].copy()
    df["id"] = df["id"].astype(str)
    df["text"] = df["text"].fillna("").astype(str)

    known = set(label_names)
    if multi_label:
        df["labels"] = [_as_list(v) for v in df["labels"]]
        # a submitted empty list is the answer "None of these": kept, an all-negative target row. A label taken out
        # of the config since it was answered is dropped from its record's set: none of the others was chosen there
        gone = Counter(lab for labs in df["labels"] for lab in labs if lab not in known)
        if gone:
            skipped[f"labels no longer in the config ({_named(gone)}), dropped from their records (kept with "
                    "their other labels; renamed? list the old name under the label's was:)"] += sum(gone.values())
            df["labels"] = [[lab for lab in labs if lab in known] for labs in df["labels"]]
    else:
        no_label = df["label"].map(_is_missing)
        if no_label.any():
            skipped["submitted without a label"] += int(no_label.sum())
        df = df[~no_label].copy()
        df["label"] = df["label"].astype(str)
        outside = ~df["label"].isin(known)
        if outside.any():  # a label taken out of the config since it was answered: its texts fit none of the others
            skipped[f"labeled {_named(Counter(df.loc[outside, 'label']))}, no longer in the config (renamed? list "
                    "the old name under the label's was:)"] += int(outside.sum())
            df = df[~outside].copy()
    empty = df["text"].str.strip() == ""
    if empty.any():
        skipped["empty text"] += int(empty.sum())
        df = df[~empty]
    if "submitted_at" in df.columns:
        df = df.sort_values("submitted_at", kind="stable")
    dup = df.duplicated("id", keep="last")
    if dup.any():
        skipped["older duplicate of an id"] += int(dup.sum())
        df = df[~dup]
    if "round" not in df.columns:
        df["round"] = 0
    df = df.sort_values("id", kind="stable").reset_index(drop=True)
    return LabelTable(df=df, label_names=label_names, multi_label=multi_label, skipped=dict(skipped))


def to_targets(df: pd.DataFrame, label_names: Sequence[str], multi_label: bool) -> np.ndarray:
    index = {name: i for i, name in enumerate(label_names)}
    if not multi_label:
        return np.array([index[lab] for lab in df["label"]], dtype=np.int64)
    Y = np.zeros((len(df), len(label_names)), dtype=np.int64)
    for r, labs in enumerate(df["labels"]):
        for lab in labs:
            Y[r, index[lab]] = 1
    return Y


def data_fingerprint(df: pd.DataFrame, multi_label: bool) -> str:
    """sha256 of the sorted (id, label) pairs: the same labels give the same fingerprint, in any row order."""
    if multi_label:
        pairs = sorted((str(i), sorted(labs)) for i, labs in zip(df["id"], df["labels"]))
    else:
        pairs = sorted((str(i), str(lab)) for i, lab in zip(df["id"], df["label"]))
    return hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()
