"""Suspected label errors: which human labels are probably wrong, and what a second review decided.

Ranking (``oof_probabilities``, ``rank_labels``): a logistic head (``training.head.LinearModel``, the queue
model's, C=10, class-balanced) on the records' embeddings gives each human label an out-of-fold probability
matrix (5 folds over the human labels of every split, gold labels included since they can be wrong too;
leave-one-out while some class has fewer than 5 labels, ``fold_plan``). cleanlab, the library,
does the confident learning: ``cleanlab.rank.get_label_quality_scores`` (self-confidence: the out-of-fold
probability of the given label) orders the labels, lowest first, and ``cleanlab.filter.find_label_issues``
(prune by noise rate) says which it counts as label issues; single-label, only those where the out-of-fold model
gives another label at least ``PREFERRED_BY`` (2) times the given label's probability. Multi-label tasks use cleanlab's
``multilabel_classification`` module. A single-label class with fewer than ``MIN_PER_CLASS`` labels is not
ranked: a fold that holds out its only label has never seen the class and would call every such label wrong.

Verdicts (``tally``, ``decide``): the first answer (the label on disk) and the second review's answers from
*other* annotators vote; an answer by an annotator of the first label is ignored (counted), and so is a
second answer by the same reviewer. The answer that reaches two votes and leads alone wins: ``confirmed``
when it is the first answer, ``changed`` otherwise; a tie (second disagrees, no third yet, or three different
answers) is ``ambiguous``: the record leaves training and evaluation until more answers decide it.

The verdicts live in ``review.parquet`` in the project folder, one row per reviewed record with every answer;
``apply_reviews`` lays them over the pulled label table (``Project.load_labels`` calls it). Nothing is
changed silently: a label changes only through a ``changed`` verdict on the very label it was given, the
table keeps the original in ``first_label``, and ``labeler review`` lists every change it pulls.

This module reads no config and talks to no server (``labeler.quality.second_review`` does); it must not import
``labeler.project`` (``Project.load_labels`` imports it).
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labeler.loop.engine import QUEUE_MODEL_C
from training.head import LinearModel
from training.thresholds import predict_sets, set_scores

REVIEW_FILE = "review.parquet"
PENDING, CONFIRMED, CHANGED, AMBIGUOUS = "pending", "confirmed", "changed", "ambiguous"
DECIDED = (CONFIRMED, CHANGED, AMBIGUOUS)
STALE = "stale"  # the label on disk is neither the reviewed one nor the decided one: the verdict is not applied
AMBIGUOUS_STATUS = "ambiguous"  # the label table's status for an ambiguous record: not "submitted", never used
FOLDS = 5
MIN_PER_CLASS = 2
PREFERRED_BY = 2.0  # single-label: a flagged label's out-of-fold model prefers another label at least this many times over
LOO_MAX = 200  # up to this many labels, a class with fewer than FOLDS labels gets leave-one-out probabilities
COLUMNS = ["id", "first_answer", "first_annotator", "quality", "suggested", "reason", "flagged", "pushed_at",
           "attempts", "status", "final_answer", "second_answer", "second_annotator", "third_answer",
           "third_annotator", "answers", "ignored", "decided_at"]


# -- ranking ---------------------------------------------------------------------------------------------
def fold_plan(y: np.ndarray, multi_label: bool, folds: int = FOLDS) -> int:
    """How many folds ``oof_probabilities`` uses for labels ``y``: ``folds`` when every class has that many
    labels (multi-label: at most one per label row); else leave-one-out (``len(y)``) up to ``LOO_MAX`` labels,
    and above that as many folds as the largest class has labels (2 at least).

    Early in a many-class project no class has 5 labels: a stratified 5-fold split cannot be made, but every
    label still has a probability from a model fitted on all the others.
    """
    n = len(y)
    if multi_label:
        return max(2, min(folds, n))
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    counts = counts[counts > 0]
    if counts.min() >= folds:
        return folds
    if n <= LOO_MAX:
        return n
    return max(2, min(folds, int(counts.max())))


def describe_folds(n_folds: int, n: int) -> str:
    """The console's words for a fold plan: "5-fold" or "leave-one-out"."""
    return "leave-one-out" if n_folds >= n else f"{n_folds}-fold"


def oof_probabilities(X: np.ndarray, y: np.ndarray, n_labels: int, multi_label: bool, folds: int | None = None,
                      seed: int = 0, C: float | None = None) -> np.ndarray:
    """``(n, K)`` out-of-fold probabilities: row ``i`` from a ``LinearModel`` fitted on the other folds.

    ``y``: class indices ``(n,)`` or a 0/1 matrix ``(n, K)``. Folds are stratified by class (single-label)
    and shuffled with ``seed``; ``folds`` defaults to ``fold_plan`` (``len(y)``: leave-one-out) and is capped
    at ``n``.
    """
    from sklearn.model_selection import KFold, LeaveOneOut, StratifiedKFold

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    n = len(X)
    folds = fold_plan(y, multi_label) if folds is None else folds
    folds = max(2, min(folds, n))
    if folds >= n:
        splitter = LeaveOneOut()
    else:
        splitter = KFold(folds, shuffle=True, random_state=seed) if multi_label else \
            StratifiedKFold(folds, shuffle=True, random_state=seed)
    P = np.zeros((n, n_labels))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        for train, held in splitter.split(X, np.zeros(n) if multi_label else y):
            model = LinearModel(n_labels, multi_label, QUEUE_MODEL_C if C is None else C, seed)
            P[held] = model.fit(X[train], y[train]).predict_proba(X[held])
    return P


def rankable(y: np.ndarray, n_labels: int, multi_label: bool, min_per_class: int = MIN_PER_CLASS) -> np.ndarray:
    """Mask of the labels that can be ranked: all multi-label rows; single-label rows whose class has at
    least ``min_per_class`` labels."""
    if multi_label:
        return np.ones(len(y), dtype=bool)
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_labels)
    return counts[np.asarray(y, dtype=np.int64)] >= min_per_class


@dataclass
class Ranking:
    """Per label: cleanlab's ``quality`` (0..1, low = probably wrong) and ``flagged`` (a label issue by
    ``find_label_issues``); ``order``: every row, lowest quality first (ties: lower row first)."""

    quality: np.ndarray
    flagged: np.ndarray
    order: np.ndarray

    def top(self, n: int) -> np.ndarray:
        return self.order[:max(0, n)]


def _as_lists(Y: np.ndarray) -> list[list[int]]:
    return [np.flatnonzero(row).tolist() for row in np.asarray(Y)]


def rank_labels(P: np.ndarray, y: np.ndarray, multi_label: bool) -> Ranking:
    """cleanlab's label quality (self-confidence) and label issues for labels ``y`` under out-of-fold ``P``."""
    P = np.asarray(P, dtype=np.float64)
    if multi_label and P.shape[1] == 1:  # one label ("spam" or "None of these"): a two-class label, which is how
        # cleanlab scores each column of a multi-label matrix (and it refuses a one-column one)
        return rank_labels(np.column_stack([1.0 - P[:, 0], P[:, 0]]), np.asarray(y)[:, 0], False)
    if multi_label:
        from cleanlab.multilabel_classification import get_label_quality_scores
        from cleanlab.multilabel_classification.filter import find_label_issues

        labels = _as_lists(y)
        quality = get_label_quality_scores(labels, P)
        flagged = find_label_issues(labels, P, n_jobs=1)
    else:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores

        y = np.asarray(y, dtype=np.int64)
        quality = get_label_quality_scores(y, P, method="self_confidence")
        with warnings.catch_warnings():  # one line per class with few labels: 150 lines early in a project
            warnings.filterwarnings("ignore", message="May not flag all label issues in class")
            flagged = find_label_issues(y, P, filter_by="prune_by_noise_rate", n_jobs=1)
        # and the model prefers another label clearly: cleanlab's per-class thresholds, fitted on a handful of
        # labels per class early on, flag a fifth of correct labels (BENCHMARKS.md "Suspected label errors")
        flagged = np.asarray(flagged, dtype=bool) & (P.max(axis=1) >= PREFERRED_BY * P[np.arange(len(y)), y])
    quality = np.asarray(quality, dtype=np.float64)
    order = np.lexsort((np.arange(len(quality)), quality))
    return Ranking(quality=quality, flagged=np.asarray(flagged, dtype=bool), order=order)


def model_label(p: np.ndarray, labels: list[str], multi_label: bool, threshold: float = 0.5):
    """(the model's label, its probability): the top class, or every label at or over ``threshold`` with the
    lowest of their probabilities; none over it: "None of these" (an empty list), with 1 minus the highest."""
    if not multi_label:
        k = int(np.argmax(p))
        return labels[k], float(p[k])
    row = np.asarray(p, dtype=float)[None, :]
    picked = predict_sets(row, threshold)
    return [labels[k] for k in np.flatnonzero(picked[0])], float(set_scores(row, picked)[0])


# -- verdicts --------------------------------------------------------------------------------------------
def same(a, b) -> bool:
    """Two answers are the same label (multi-label: the same set, in any order)."""
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        return a is not None and b is not None and set(list(a)) == set(list(b))
    return a == b


def _key(value):
    return frozenset(value) if isinstance(value, (list, tuple, np.ndarray)) else value


@dataclass
class Tally:
    """A record's usable second-review answers, in the order they were given, and what was left out."""

    answers: list[tuple[str, object]]  # (annotator, value)
    ignored_self: int = 0  # answers by an annotator of the first label
    ignored_repeat: int = 0  # a reviewer's later answer on the same record
    discarded: int = 0  # "discard" in Argilla: no opinion


def tally(first_annotators: set[str], responses: list[dict]) -> Tally:
    """``responses``: dicts with ``annotator``, ``status`` and ``value`` (and ``updated_at``) from every
    review record of one labeled record; drafts are not answers."""
    out = Tally(answers=[])
    seen: set[str] = set()
    for r in sorted(responses, key=lambda r: (str(r.get("updated_at") or ""), str(r["annotator"]))):
        if r["status"] == "discarded":
            out.discarded += 1
        if r["status"] != "submitted":
            continue
        if r["annotator"] in first_annotators:
            out.ignored_self += 1
        elif r["annotator"] in seen:
            out.ignored_repeat += 1
        else:
            seen.add(r["annotator"])
            out.answers.append((r["annotator"], r["value"]))
    return out


def decide(first, answers: list) -> tuple[str, object]:
    """(status, final answer) from the first answer and the reviewers' answers (each a value).

    No answer: ``pending``. The answer with two or more votes and more than any other wins (``confirmed``
    when it is the first answer, else ``changed``); otherwise ``ambiguous`` (final None).
    """
    if not answers:
        return PENDING, None
    votes = [first] + list(answers)
    counts = Counter(_key(v) for v in votes).most_common()
    if counts[0][1] < 2 or (len(counts) > 1 and counts[1][1] == counts[0][1]):
        return AMBIGUOUS, None
    winner = next(v for v in votes if _key(v) == counts[0][0])
    return (CONFIRMED if same(winner, first) else CHANGED), winner


def dumps(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def loads(text):
    return None if text is None or (isinstance(text, float) and text != text) else json.loads(text)


def show(value) -> str:
    """An answer for a console line: the label, or the labels joined by " + " (multi-label)."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple, np.ndarray)):
        return " + ".join(map(str, value)) or "(none)"
    return str(value)


# -- review.parquet --------------------------------------------------------------------------------------
def review_path(project) -> Path:
    return Path(project.dir) / REVIEW_FILE


def read_reviews(path: Path):
    """The review table (pandas; empty with ``COLUMNS`` when there is none)."""
    import pandas as pd

    if not Path(path).exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_parquet(path)


def write_reviews(path: Path, df) -> None:
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    df[COLUMNS].to_parquet(tmp, index=False)
    tmp.replace(path)


def _current(row, multi_label: bool):
    if multi_label:
        labels = row["labels"]
        return [] if labels is None else list(labels)
    return row["label"]


def apply_reviews(project, labels_df):
    """``labels_df`` with the project's review verdicts laid over it (a copy; the input when there are none).

    Per reviewed record whose label on disk is still the reviewed one: ``changed`` sets the label to the
    decision, ``ambiguous`` sets ``status`` to "ambiguous" (no longer submitted: neither trained on nor
    evaluated), ``confirmed`` changes nothing. Added columns: ``review`` (the verdict, "stale" when the label
    on disk has changed since it was reviewed, so the verdict is not applied; None for unreviewed records) and
    ``first_label`` (the original answer, JSON, of a changed record). Applying twice gives the same table.
    """
    path = review_path(project)
    if labels_df is None or not path.exists():
        return labels_df
    reviews = read_reviews(path)
    reviews = reviews[reviews["status"].isin(DECIDED)]
    if reviews.empty:
        return labels_df
    multi_label = bool(project.config.task.multi_label)
    df = labels_df.copy()
    df["review"] = None
    df["first_label"] = None
    where = {str(rid): i for i, rid in zip(df.index, df["id"])}
    for rev in reviews.itertuples(index=False):
        i = where.get(str(rev.id))
        if i is None:
            continue
        first, final = loads(rev.first_answer), loads(rev.final_answer)
        current = _current(df.loc[i], multi_label)
        status = df.at[i, "status"]
        if status in ("submitted", AMBIGUOUS_STATUS) and same(current, first):
            if rev.status == CHANGED:
                df.at[i, "labels" if multi_label else "label"] = final
                df.at[i, "first_label"] = rev.first_answer
            elif rev.status == AMBIGUOUS:
                df.at[i, "status"] = AMBIGUOUS_STATUS
            df.at[i, "review"] = rev.status
        elif rev.status == CHANGED and status == "submitted" and same(current, final):
            df.at[i, "review"], df.at[i, "first_label"] = CHANGED, rev.first_answer  # applied already
        else:
            df.at[i, "review"] = STALE
    return df


# -- console ---------------------------------------------------------------------------------------------
def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def suspects_table(rows: list[dict], shown: int = 10, width: int = 28) -> list[str]:
    """Console lines for suspects (dicts with id, given, suggested, p, quality, flagged), in the given order:
    the first ``shown``, then "and N more"."""
    if not rows:
        return []
    head = f"{'id':<16} {'given label':<{width}} {'suspected label':<{width}} {'p':>5} {'quality':>8}"
    lines = [head]
    for r in rows[:shown]:
        mark = "" if r.get("flagged", True) else "  (not flagged)"
        lines.append(f"{_cut(r['id'], 16):<16} {_cut(show(r['given']), width):<{width}} "
                     f"{_cut(show(r['suggested']), width):<{width}} {r['p']:>5.2f} {r['quality']:>8.3f}{mark}")
    if len(rows) > shown:
        lines.append(f"and {len(rows) - shown} more")
    return lines


__all__ = ["AMBIGUOUS", "CHANGED", "CONFIRMED", "PENDING", "REVIEW_FILE", "Ranking", "Tally", "apply_reviews",
           "decide", "describe_folds", "fold_plan", "model_label", "oof_probabilities", "rank_labels", "rankable", "read_reviews", "review_path",
           "same", "suspects_table", "tally", "write_reviews"]
