"""When is there enough human labelling to fine-tune?

Two ways, whichever comes first (``first_run``):

- **evidence**: a fast model trained on the same human labels (the loop's queue model: logistic regression on
  the embeddings) already beats the zero-shot suggestions on the answered random reserve by a verdict (the
  paired-bootstrap 95% CI of the accuracy gain above 0, on at least ``min_gold`` records drawn at random and
  never trained on: gold and calibration both), and at least two classes hold
  the backend's floor (``BACKEND_FLOOR``). Training can then be expected to help: the run starts. Classes
  below the floor do not block it; they keep their zero-shot evidence where the run joins the signals.
- **count**: every class has ``min_per_class`` training labels (the fixed rule, kept as a sufficient one).

``check_threshold`` is the lower layer's own guard for ``training.train`` (a count per class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

# the fewest training labels of a class for a backend to learn it at all: SetFit's contrastive pairs need two
# examples of a class; a logistic head or a classifier fine-tune can use one
BACKEND_FLOOR = {"setfit": 2, "logreg": 1, "transformers": 1}
SHOWN = 5


@dataclass(frozen=True)
class Evidence:
    """The fast model against the zero-shot suggestions on ``n`` random gold labels: accuracy gain ``diff``
    with its paired-bootstrap 95% CI ``lo``..``hi``; ``model``: what was compared (for messages)."""

    diff: float
    lo: float
    hi: float
    n: int
    model: str = "the fast model"

    def line(self) -> str:
        return (f"{self.model} vs zero-shot on {self.n} random reserve labels: {self.diff:+.3f} accuracy "
                f"(95% CI {self.lo:+.3f}..{self.hi:+.3f})")


@dataclass(frozen=True)
class Decision:
    """Whether a run is due, by which rule (``evidence`` | ``count`` | ``none``), and one line saying why."""

    due: bool
    rule: str
    reason: str
    below_floor: tuple[str, ...] = ()


def _named(names: Sequence[str], shown: int = SHOWN) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def first_run(counts: Mapping[str, int], min_per_class: int, floor: int, evidence: Evidence | None,
              min_gold: int) -> Decision:
    """Is a run due? ``counts``: human training labels per class; ``evidence``: the fast model on gold (None
    before a fast model or any gold exists). See the module docstring for the two rules."""
    below = tuple(sorted(name for name, n in counts.items() if n < floor))
    at_floor = len(counts) - len(below)
    short = {name: min_per_class - n for name, n in counts.items() if n < min_per_class}
    if not short:
        return Decision(True, "count", f"every class has at least {min_per_class} training labels", below)
    floor_note = (f"; {len(below)} classes below the floor of {floor} keep their zero-shot evidence "
                  f"({_named(below)})" if below else "")
    if evidence is not None and evidence.n >= min_gold and evidence.lo > 0 and at_floor >= 2:
        return Decision(True, "evidence", f"{evidence.line()}: training can be expected to help{floor_note}", below)
    if evidence is None:
        wait = "no fast model or gold labels yet"
    elif evidence.n < min_gold:
        wait = f"{evidence.line()}; a verdict needs {min_gold}"
    elif at_floor < 2:
        wait = f"{evidence.line()}, but fewer than two classes have {floor} training labels"
    else:
        wait = f"{evidence.line()}: no verdict yet"
    ranked = sorted(short.items(), key=lambda kv: (-kv[1], kv[0]))
    named = ", ".join(f"{name} needs {k} more" for name, k in ranked[:SHOWN])
    more = f", and {len(ranked) - SHOWN} more" if len(ranked) > SHOWN else ""
    return Decision(False, "none", "not training yet: a run starts when the fast model beats zero-shot on the random "
                                   f"reserve ({wait}) or when every class has {min_per_class} training labels "
                                   f"({len(short)} classes short, {sum(short.values())} labels in all: {named}{more})",
                    below)


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
