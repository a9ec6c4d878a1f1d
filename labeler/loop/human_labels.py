"""The pulled human labels as matrices: which pool rows are labeled, their targets, and counts per class."""

from __future__ import annotations

import numpy as np


def submitted(labels_df):
    """The rows of the label table with a submitted (resolved) human label."""
    if labels_df is None or labels_df.empty:
        return None
    return labels_df[labels_df["status"] == "submitted"]


def discarded(labels_df, reserve) -> tuple[int, int]:
    """(records annotators discarded, of them in the random ``reserve``): never trained on, and missing from gold."""
    if labels_df is None or labels_df.empty or "status" not in labels_df:
        return 0, 0
    ids = labels_df.loc[labels_df["status"] == "discarded", "id"].astype(str)
    return len(ids), int(sum(reserve.contains(rid) for rid in ids))


def outside_pool(labels_df, pool_ids) -> int:
    """Submitted answers whose record is no longer in the data file (taken out of it since it was answered)."""
    sub = submitted(labels_df)
    if sub is None or pool_ids is None:
        return 0
    return int((~sub["id"].astype(str).isin(set(map(str, pool_ids)))).sum())


def outside_pool_note(n: int) -> str:
    return (f"{n} answered record{'s are' if n != 1 else ' is'} no longer in the data file: the queue model and the "
            "join weights leave them out; `train` and `compare` keep them (labels.parquet holds their texts)")


def label_matrix(labels_df, ids: list[str], label_names: list[str], multi_label: bool):
    """Rows of ``ids`` that have a submitted human label, and their targets (class index or 0/1 matrix; a
    multi-label "None of these", a submitted empty list, is an all-zero row)."""
    sub = submitted(labels_df)
    if sub is None:
        return np.zeros(0, dtype=int), None
    pos = {rid: i for i, rid in enumerate(ids)}
    col = {name: j for j, name in enumerate(label_names)}
    rows, targets = [], []
    for rid, label, labels in zip(sub["id"], sub["label"], sub["labels"]):
        if rid not in pos:
            continue
        if multi_label:
            vec = np.zeros(len(label_names))
            for lab in list(labels if labels is not None else []):
                if lab in col:
                    vec[col[lab]] = 1
            rows.append(pos[rid])
            targets.append(vec)
        elif label in col:
            rows.append(pos[rid])
            targets.append(col[label])
    return np.array(rows, dtype=int), (np.array(targets) if rows else None)


def none_answers(labels_df, ids: set[str] | None = None) -> int:
    """Multi-label: the submitted answers "None of these" (an empty label set), which ``per_class`` counts in no
    class; only ``ids`` when given."""
    sub = submitted(labels_df)
    if sub is None:
        return 0
    if ids is not None:
        sub = sub[sub["id"].astype(str).isin(ids)]
    return int(sum(len(labs) == 0 for labs in sub["labels"]))


def per_class(labels_df, label_names: list[str], multi_label: bool, ids: set[str] | None = None) -> dict[str, int]:
    """Submitted labels per class (a multi-label row counts once per label); only ``ids`` when given."""
    counts = {name: 0 for name in label_names}
    sub = submitted(labels_df)
    if sub is None:
        return counts
    for rid, label, labs in zip(sub["id"], sub["label"], sub["labels"]):
        if ids is not None and rid not in ids:
            continue
        for lab in (list(labs) if multi_label else [label]):
            if lab in counts:
                counts[lab] += 1
    return counts


def unfound(labels_df, label_names: list[str], multi_label: bool, min_per_class: int) -> tuple[list[str], int]:
    """(labels no answer carries yet, answers) once the answers number ``min_per_class`` per label: the pool may
    hold none of them, and the queue's class coverage keeps hunting them every batch. Else ([], answers)."""
    sub = submitted(labels_df)
    n = 0 if sub is None else len(sub)
    if n < min_per_class * len(label_names):
        return [], n
    return [name for name, k in per_class(labels_df, label_names, multi_label).items() if k == 0], n


def unfound_note(names: list[str], n: int, picks: int | None = None) -> str:
    """What the queue spends on labels no answer has carried yet (``picks``: this batch's coverage picks, which may
    hunt other short labels too), and the way out."""
    one = len(names) == 1
    shown = ", ".join(map(repr, names[:5])) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    who = "class coverage looks each batch for" if picks is None else f"class coverage ({picks} picks of this batch) hunts"
    return (f"{who} {'a label' if one else 'labels'} no answer has carried in {n} answers ({shown}): if the pool "
            f"holds none, take {'it' if one else 'them'} out of task.labels, or lower queue.coverage")
