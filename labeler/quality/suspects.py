"""Suspected label errors of a project: its human labels ranked by ``labeler.quality.label_errors`` on the cached
embeddings of the pool (out-of-fold probabilities of the queue model), those already reviewed left out, and what
could not be ranked said in one line. ``labeler.quality.second_review`` sends them to Argilla."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeler.data import load_pool
from labeler.errors import LabelerError
from labeler.loop.human_labels import label_matrix, submitted
from labeler.loop.scoring import build_signals, embedder
from labeler.project import Project
from labeler.quality.label_errors import (FOLDS, describe_folds, fold_plan, model_label, oof_probabilities, rank_labels,
                                          rankable, read_reviews, review_path, show)


IMPLAUSIBLE_SHARE = 0.25  # flags on more than this share of the labels: beyond any plausible annotation error rate


# -- ranking --------------------------------------------------------------------------------------------
@dataclass
class Suspect:
    id: str
    given: object  # the label on disk (a list for multi-label)
    suggested: object  # the out-of-fold model's label
    p: float
    quality: float
    flagged: bool
    annotators: str  # who gave the label on disk, comma-separated

    @property
    def reason(self) -> str:
        why = "label issue" if self.flagged else "low label quality"
        return f"{why}: quality {self.quality:.3f}, model says {show(self.suggested)} (p {self.p:.2f})"

    def row(self) -> dict:
        return {"id": self.id, "given": self.given, "suggested": self.suggested, "p": self.p,
                "quality": self.quality, "flagged": self.flagged}


@dataclass
class Suspects:
    """Every ranked, not yet reviewed label, lowest quality first, and what was not ranked."""

    items: list[Suspect]
    n_labels: int
    n_ranked: int
    n_flagged: int  # cleanlab's label issues among the ranked, reviewed or not
    unranked: int = 0  # labels of single-label classes with fewer than 2 labels
    unranked_classes: int = 0  # those classes
    folds: str = "5-fold"  # how the out-of-fold probabilities were made (``labeler.quality.label_errors.describe_folds``)
    folds_why: str = ""  # why not 5-fold, when not
    not_in_pool: int = 0
    reviewed: int = 0  # ranked labels left out: already in review.parquet

    @property
    def flagged(self) -> list[Suspect]:
        return [s for s in self.items if s.flagged]

    def to_send(self, n: int) -> list[Suspect]:
        """The ``n`` to send: cleanlab's label issues first, then the rest, each lowest label quality first (the
        two orders differ: a label issue is judged against its class's noise rate, not by its quality alone)."""
        return (self.flagged + [s for s in self.items if not s.flagged])[:n]

    def sending(self, picked: list[Suspect], budget: int, default: bool) -> str:
        """What ``picked`` are, for the console: "the 3 labels cleanlab flags, lowest label quality first ..."."""
        k = sum(s.flagged for s in picked)
        what = (f"the {k} label{'s' * (k != 1)} cleanlab flags, lowest label quality first" if k == len(picked) else
                f"the {k} label{'s' * (k != 1)} cleanlab flags, then {len(picked) - k} more, lowest label quality "
                "first" if k else f"the {len(picked)} lowest label quality first")
        return f"{what} (budget {budget}" + ("; --budget to change)" if default else ")")

    def summary(self) -> str:
        extra = [f"{self.unranked} not ranked (the only label of their class: {self.unranked_classes} "
                 f"class{'es' if self.unranked_classes != 1 else ''} with 1 label)"] if self.unranked else []
        extra += [f"{self.not_in_pool} not in the pool"] if self.not_in_pool else []
        extra += [f"{self.reviewed} already reviewed"] if self.reviewed else []
        return (f"cleanlab flags {self.n_flagged} of {self.n_ranked} ranked human labels as label issues "
                f"({self.folds} out-of-fold probabilities of the queue model{self.folds_why}); "
                f"{len(self.flagged)} of them not reviewed yet"
                + (f"; of {self.n_labels} labels: " + ", ".join(extra) if extra else "") + self.too_many())

    def too_many(self) -> str:
        """A warning when the flags are more than annotators plausibly get wrong (``IMPLAUSIBLE_SHARE``): early on,
        and on multi-label data, the out-of-fold model disagrees with many correct labels (BENCHMARKS.md
        "Suspected label errors": 31-81% of correct multi-label answers flagged at 200-1,000 labels)."""
        if self.n_ranked < 20 or self.n_flagged <= IMPLAUSIBLE_SHARE * self.n_ranked:
            return ""
        return (f"\nnote: {self.n_flagged / self.n_ranked:.0%} flagged is more than annotators plausibly get wrong: most "
                f"flags are likely correct labels that a model fitted on {self.n_ranked} labels cannot yet tell from "
                "errors; the likeliest errors still come first (--budget sets how many are sent)")


def find_suspects(config) -> Suspects:
    """Rank the project's submitted human labels (``labeler.quality.label_errors``), leaving out those already reviewed."""

    project = Project(config)
    labels_df = project.load_labels()
    sub = submitted(labels_df)
    if sub is None or sub.empty:
        raise LabelerError("no human labels to check yet; review records in Argilla, then run `labeler pull`")
    names, ml = config.label_names, config.task.multi_label
    pool = load_pool(config)
    rows, y = label_matrix(labels_df, pool.ids, names, ml)
    if y is None:
        raise LabelerError(f"none of the {len(sub)} human labels is on a record of the pool; run `labeler bootstrap`")
    order = np.argsort(rows, kind="stable")
    rows, y = rows[order], y[order]
    keep = rankable(y, len(names), ml)
    y_all = y
    if (ml and keep.sum() < 4) or (not ml and len(set(y[keep].tolist())) < 2):
        raise LabelerError(f"not enough labels to rank: {len(rows)} human labels; needs two classes with at least "
                           "2 labels each (single-label) or 4 labels (multi-label)")
    rows, y = rows[keep], y[keep]
    X = embedder(config, build_signals(config)).encode([pool[i].text for i in rows])
    n_folds = fold_plan(y, ml)
    P = oof_probabilities(X, y, len(names), ml, folds=n_folds, seed=int(config.queue.seed))
    ranking = rank_labels(P, y, ml)
    reviewed = set(read_reviews(review_path(project))["id"].astype(str))
    who = dict(zip(sub["id"].astype(str), sub["annotator"].fillna("").astype(str)))
    items = []
    for j in ranking.order:
        rid = pool[rows[j]].id
        if rid in reviewed:
            continue
        given = [names[k] for k in np.flatnonzero(y[j])] if ml else names[int(y[j])]
        suggested, p = model_label(P[j], names, ml, float(config.task.threshold))
        items.append(Suspect(rid, given, suggested, p, float(ranking.quality[j]), bool(ranking.flagged[j]),
                             who.get(rid, "")))
    return Suspects(items=items, n_labels=len(sub), n_ranked=len(rows), n_flagged=int(ranking.flagged.sum()),
                    unranked=int((~keep).sum()), unranked_classes=0 if ml else len(set(y_all[~keep].tolist())),
                    folds=describe_folds(n_folds, len(rows)), folds_why=_folds_why(y, ml, FOLDS),
                    not_in_pool=len(sub) - len(order),
                    reviewed=len(rows) - len(items))


def _folds_why(y, multi_label: bool, folds: int) -> str:
    """Why fewer than ``folds`` folds were used: the classes with fewer labels (empty when there are none)."""
    if multi_label:
        return ""
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    short = int(((counts > 0) & (counts < folds)).sum())
    if not short:
        return ""
    return f": {short} of {int((counts > 0).sum())} classes have fewer than {folds} labels"


def default_budget(config, suspects: Suspects, waiting: int = 0) -> int:
    """The flagged labels not reviewed yet, up to one queue batch (``queue.batch_size``) open in the review dataset
    with the ``waiting`` ones (sent, not decided yet), as ``push`` keeps one batch pending: running ``review``
    again does not pile up another batch."""
    return min(len(suspects.flagged), max(0, int(config.queue.batch_size) - waiting))
