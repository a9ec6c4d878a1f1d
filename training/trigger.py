"""When is there enough human labelling to fine-tune? At least ``min_per_class`` labels for every class."""

from __future__ import annotations

from typing import Sequence

import pandas as pd


def class_counts(labels_df: pd.DataFrame, label_names: Sequence[str], multi_label: bool | None = None) -> dict[str, int]:
    """Submitted labels per class (a multi-label row counts once for each of its labels)."""
    if multi_label is None:
        multi_label = "label" not in labels_df.columns and "labels" in labels_df.columns
    rows = labels_df
    if "status" in rows.columns:
        rows = rows[rows["status"] == "submitted"]
    counts = {name: 0 for name in label_names}
    values = (lab for labs in rows["labels"] for lab in (labs if labs is not None else [])) if multi_label else rows["label"]
    for lab in values:
        if isinstance(lab, str) and lab in counts:
            counts[lab] += 1
    return counts


def check_threshold(
    labels_df: pd.DataFrame,
    label_names: Sequence[str],
    min_per_class: int = 8,
    multi_label: bool | None = None,
) -> tuple[bool, dict[str, int]]:
    """``(ok, short)``: ``short`` maps each class below ``min_per_class`` to how many more labels it needs."""
    counts = class_counts(labels_df, label_names, multi_label)
    short = {name: min_per_class - n for name, n in counts.items() if n < min_per_class}
    return not short, short


def threshold_message(short: dict[str, int], min_per_class: int = 8) -> str:
    """One line naming the short classes, e.g. ``not enough labels to train (8 per class): Sports needs 3 more``."""
    if not short:
        return f"every class has at least {min_per_class} labels"
    parts = ", ".join(f"{name} needs {n} more" for name, n in sorted(short.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"not enough labels to train ({min_per_class} per class): {parts}; label more or pass --force"
