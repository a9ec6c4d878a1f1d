"""Label quality: agreement between annotators and with the model, from the pulled answers.

Input: ``responses.parquet`` (``labeler pull``: every individual answer); only *submitted* answers count
(drafts and discards are not labels). Each statistic, for single-label tasks:

- Krippendorff's alpha, nominal, over records with 2+ answers: ``alpha = 1 - (n - 1) * D / E`` where, from the
  coincidence matrix ``o[c][k] = sum over records of (ordered pairs of answers c, k) / (answers on it - 1)``,
  ``n_c = sum_k o[c][k]``, ``n = sum_c n_c``, ``D = sum_{c != k} o[c][k]`` and ``E = sum_{c != k} n_c n_k``
  (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"). Undefined (None) when every answer
  is the same label.
- Fleiss' kappa over the same records (``labeler.argilla.pull.fleiss_kappa``, variable raters per record).
- Cohen's kappa per annotator pair, on the records both answered (scikit-learn's ``cohen_kappa_score``).
- Each annotator's agreement with the consensus (the majority of the *other* annotators' answers on the same
  record; records where the others tie are skipped) and with the current model (the ensemble's top label in
  ``scores.npz``; multi-label: the labels the suggestion pre-selects, at the cuts ``labeler push`` fits on the
  answered random reserve (``labeler.loop.round.suggestion_cuts``), or at ``task.threshold`` before it fits any).
- Confusions between annotators: unordered label pairs given by two annotators to the same record.
- Answers per hour per annotator: answers between consecutive answers at most ``BREAK_S`` apart, divided
  by the time those gaps add up to (longer gaps are breaks, not work).

Multi-label tasks: alpha, Fleiss' and Cohen's kappa are per-label binary (chosen / not chosen) statistics
averaged over the labels where they are defined; agreement with the consensus and with the model compares
the whole label set (exact match); "confusions" are the labels most often chosen by one annotator and not
by the other. "None of these" (``schema.NONE_VALUE`` alone) is the empty set: not choosing any label, so it
agrees with another "None of these" and with a model that puts no label over its threshold; it is listed
among the confusions when one annotator chose it and another chose labels. An answer choosing it together
with labels is a contradiction: left out of every statistic and counted (``none_with_labels``); unless the form
started with it pre-selected, where the labels chosen beside it are the answer, as ``pull`` reads it (counted in
``labels_over_none``), or chosen beside exactly the pre-selected labels, where it is the answer
(``none_over_labels``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from labeler.argilla.pull import fleiss_kappa
from labeler.argilla.schema import (ANSWER_LABELS_OVER_NONE, ANSWER_NONE_OVER_LABELS, ANSWER_NONE_WITH_LABELS,
                                    NONE_TEXT, answer_labels)
from labeler.data.label_checks import rename
from labeler.errors import LabelerError
from labeler.loop.policy import project_reserve
from labeler.loop.round import suggestion_rule
from labeler.project import Project

BREAK_S = 600  # seconds between two answers above which the annotator is taken to have paused
MIN_SHARED = 10  # records two annotators must share for their Cohen's kappa to be listed


@dataclass
class Answers:
    """Submitted answers: record id -> annotator -> value (a label, or a frozenset of labels)."""

    labels: list[str]
    multi_label: bool
    by_record: dict[str, dict[str, object]] = field(default_factory=dict)
    times: dict[str, list] = field(default_factory=dict)  # annotator -> answer timestamps (UTC)
    none: int = 0  # multi-label: "None of these" answers (the empty set)
    none_with_labels: int = 0  # multi-label: "None of these" chosen with labels, left out
    labels_over_none: int = 0  # multi-label: labels chosen beside a pre-selected "None of these" (the labels)
    none_over_labels: int = 0  # multi-label: "None of these" chosen beside exactly the pre-selected labels (none)

    @property
    def annotators(self) -> list[str]:
        return sorted({a for answers in self.by_record.values() for a in answers})

    def overlapped(self) -> dict[str, dict[str, object]]:
        """The records with 2+ answers."""
        return {rid: ans for rid, ans in self.by_record.items() if len(ans) >= 2}


def load_answers(config) -> Answers:
    """The submitted answers of the last pull; a one-line error before the first pull."""
    import pandas as pd

    path = Project(config).responses
    if not path.exists():
        raise LabelerError(f"no answers pulled yet at {path}; run `labeler pull` first")
    df = pd.read_parquet(path)
    df = df[df["status"] == "submitted"]
    out = Answers(list(config.label_names), bool(config.task.multi_label))
    stamps = pd.to_datetime(df["updated_at"], errors="coerce", utc=True)
    renamed = config.task.renamed  # an answer under a label's former name counts under its name now
    # the form's pre-selection, pulled beside the answers (older pulls have none): labels chosen over a
    # pre-selected "None of these" are those labels, and "None of these" added to the pre-selected labels is none, as
    # `pull` reads them (labeler.argilla.schema.answer_labels)
    shown = df["suggestion"] if "suggestion" in df else [None] * len(df)
    for rid, who, raw, when, sug in zip(df["id"].astype(str), df["annotator"].astype(str), df["value"], stamps, shown):
        value = json.loads(raw) if isinstance(raw, str) else raw
        if value is None:
            continue
        value = rename(value, renamed)
        if out.multi_label:
            labels, kind = answer_labels(value, out.labels, json.loads(sug) if isinstance(sug, str) else None)
            if kind == ANSWER_NONE_WITH_LABELS:
                out.none_with_labels += 1
                continue
            out.labels_over_none += kind == ANSWER_LABELS_OVER_NONE
            out.none_over_labels += kind == ANSWER_NONE_OVER_LABELS
            out.none += not labels
            value = frozenset(labels)
        out.by_record.setdefault(rid, {})[who] = value
        if not pd.isna(when):
            out.times.setdefault(who, []).append(when)
    return out


def krippendorff_alpha_nominal(units: list[list]) -> float | None:
    """Krippendorff's alpha for nominal values; ``units``: the values given to each unit (missing ones left
    out). Units with fewer than 2 values are not pairable and skipped. None when undefined (no pairable
    values, or no variation at all)."""
    o: Counter = Counter()
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                o[(c, k)] += (nc * (nc - 1) if c == k else nc * nk) / (m - 1)
    n_c: Counter = Counter()
    for (c, _), v in o.items():
        n_c[c] += v
    n = sum(n_c.values())
    expected = n * n - sum(v * v for v in n_c.values())  # sum over c != k of n_c * n_k
    if n < 2 or expected <= 1e-12:
        return None
    observed = sum(v for (c, k), v in o.items() if c != k)
    return 1.0 - (n - 1) * observed / expected


def _per_label(answers: Answers, stat) -> float | None:
    """Multi-label: ``stat`` on each label's chosen / not chosen answers, averaged where defined."""
    values = []
    for lab in answers.labels:
        binary = {rid: {a: lab in v for a, v in ans.items()} for rid, ans in answers.by_record.items()}
        val = stat(binary)
        if val is not None:
            values.append(val)
    return sum(values) / len(values) if values else None


def alpha(answers: Answers) -> float | None:
    def stat(by_record):
        return krippendorff_alpha_nominal([list(ans.values()) for ans in by_record.values()])

    return _per_label(answers, stat) if answers.multi_label else stat(answers.by_record)


def fleiss(answers: Answers) -> float | None:
    def stat(by_record):
        tables = [Counter(ans.values()) for ans in by_record.values()]
        cats = sorted({c for t in tables for c in t}, key=str)
        return fleiss_kappa(tables, cats)

    return _per_label(answers, stat) if answers.multi_label else stat(answers.by_record)


@dataclass
class PairKappa:
    a: str
    b: str
    shared: int
    kappa: float | None  # None: undefined (both gave one and the same label throughout)


def _cohen(x: list, y: list) -> float | None:
    import math
    import warnings

    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = float(cohen_kappa_score([str(v) for v in x], [str(v) for v in y]))
    return None if math.isnan(k) else k


def pair_kappas(answers: Answers) -> list[PairKappa]:
    """Cohen's kappa for every pair of annotators with 2+ shared records, worst (lowest) first."""
    shared: dict[tuple[str, str], list[str]] = {}
    for rid, ans in answers.by_record.items():
        people = sorted(ans)
        for i, a in enumerate(people):
            for b in people[i + 1:]:
                shared.setdefault((a, b), []).append(rid)
    out = []
    for (a, b), rids in shared.items():
        if len(rids) < 2:
            continue
        if answers.multi_label:
            ks = [k for lab in answers.labels
                  if (k := _cohen([lab in answers.by_record[r][a] for r in rids],
                                  [lab in answers.by_record[r][b] for r in rids])) is not None]
            kappa = sum(ks) / len(ks) if ks else None
        else:
            kappa = _cohen([answers.by_record[r][a] for r in rids], [answers.by_record[r][b] for r in rids])
        out.append(PairKappa(a, b, len(rids), kappa))
    return sorted(out, key=lambda p: (p.kappa is None, p.kappa if p.kappa is not None else 0.0, -p.shared, p.a, p.b))


def majority(values: list) -> object | None:
    """The majority of ``values`` (a label, or for label sets the labels most chose); None on a tie."""
    if not values:
        return None
    if isinstance(values[0], frozenset):
        counts = Counter(lab for v in values for lab in v)
        if any(2 * c == len(values) for c in counts.values()):
            return None
        return frozenset(lab for lab, c in counts.items() if 2 * c > len(values))
    ranked = Counter(values).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def consensus_agreement(answers: Answers) -> dict[str, tuple[int, int]]:
    """Annotator -> (answers matching the leave-one-out majority, answers that had one)."""
    out: dict[str, list[int]] = {}
    for ans in answers.by_record.values():
        for who, value in ans.items():
            others = majority([v for a, v in ans.items() if a != who])
            if others is None:
                continue
            row = out.setdefault(who, [0, 0])
            row[0] += value == others
            row[1] += 1
    return {who: (hit, n) for who, (hit, n) in out.items()}


def model_labels(config, thresholds=None) -> dict[str, object] | None:
    """Record id -> the ensemble's top label (multi-label: the set at or over ``thresholds``, a number or one
    per label, default ``task.threshold``; an empty set is the model's "None of these"); None before
    ``labeler bootstrap``."""
    import numpy as np

    scores = Project(config).fitting_scores()
    if scores is None:
        return None
    names = list(config.label_names)
    cut = np.broadcast_to(np.asarray(config.task.threshold if thresholds is None else thresholds, dtype=float),
                          (len(names),))
    out = {}
    for rid, p in zip(scores.ids, scores.P):
        if config.task.multi_label:
            out[str(rid)] = frozenset(names[k] for k in range(len(names)) if p[k] >= cut[k])
        else:
            out[str(rid)] = names[int(np.argmax(p))]
    return out


def suggestion_thresholds(config):
    """Multi-label: the per-label cuts the pushed suggestions pre-select at (``labeler.loop.round.suggestion_rule``,
    fitted on the answered random reserve), so "agreement with the model" is with what annotators were shown;
    None (``task.threshold``) for a single-label task, before scores exist or while too little reserve is answered."""
    project = Project(config)
    scores = project.fitting_scores() if config.task.multi_label else None
    if scores is None:
        return None
    return suggestion_rule(config, scores.ids, scores.P, project.load_labels(), project_reserve(config))[0]


def model_agreement(answers: Answers, model: dict[str, object]) -> dict[str, tuple[int, int]]:
    """Annotator -> (answers equal to the model's label, answers on records the model scored)."""
    out: dict[str, list[int]] = {}
    for rid, ans in answers.by_record.items():
        if rid not in model:
            continue
        for who, value in ans.items():
            row = out.setdefault(who, [0, 0])
            row[0] += value == model[rid]
            row[1] += 1
    return {who: (hit, n) for who, (hit, n) in out.items()}


def confusions(answers: Answers) -> list[tuple[str, str, int]]:
    """Single-label: (label, label, times two annotators gave these two to one record), most first.
    Multi-label: (label, "", times one annotator chose it and another did not on the same record)."""
    counts: Counter = Counter()
    for ans in answers.by_record.values():
        values = list(ans.values())
        for i, x in enumerate(values):
            for y in values[i + 1:]:
                if answers.multi_label:
                    for lab in x ^ y:
                        counts[(lab, "")] += 1
                    if bool(x) != bool(y):  # one chose "None of these", the other labels
                        counts[(NONE_TEXT, "")] += 1
                elif x != y:
                    counts[tuple(sorted((str(x), str(y))))] += 1
    return [(a, b, n) for (a, b), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def pace(times: list, break_s: float = BREAK_S) -> tuple[float | None, float]:
    """(answers per hour, active minutes) from one annotator's answer times; None without a timed gap."""
    stamps = sorted(times)
    gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:])]
    work = [g for g in gaps if g <= break_s]
    active = sum(work)
    return (3600.0 * len(work) / active if active > 0 else None), active / 60.0


@dataclass
class AnnotatorRow:
    name: str
    answers: int
    consensus: tuple[int, int] | None  # (agreeing, compared)
    model: tuple[int, int] | None
    per_hour: float | None
    active_minutes: float


@dataclass
class QualityReport:
    labels: int
    multi_label: bool
    min_submitted: int
    answers: int  # submitted answers
    records: int  # records with a submitted answer
    overlapped: int  # records with 2+ submitted answers
    annotators: list[AnnotatorRow]
    alpha: float | None
    fleiss: float | None
    pairs: list[PairKappa]
    min_shared: int
    confusions: list[tuple[str, str, int]]
    model_note: str | None = None
    none: int = 0  # multi-label: "None of these" answers
    none_with_labels: int = 0  # multi-label: "None of these" chosen with labels (contradictions, left out)
    labels_over_none: int = 0  # multi-label: labels chosen beside a pre-selected "None of these" (the labels)
    none_over_labels: int = 0  # multi-label: "None of these" chosen beside exactly the pre-selected labels (none)

    def line(self) -> str:
        return agreement_line(self.alpha, self.fleiss, self.overlapped, len(self.annotators), self.min_submitted)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def agreement_line(alpha_: float | None, kappa: float | None, overlapped: int, annotators: int,
                   min_submitted: int) -> str:
    if not overlapped:
        hint = "" if min_submitted > 1 else " (set argilla.min_submitted: 2 to send each record to two annotators)"
        return (f"agreement: n/a, no record has 2+ submitted answers yet{hint}; "
                f"{annotators} annotator{'s' if annotators != 1 else ''}")
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    return (f"agreement: alpha {fmt(alpha_)}, kappa {fmt(kappa)} over {overlapped} records with 2+ answers, "
            f"{annotators} annotator{'s' if annotators != 1 else ''}")


def build(config, min_shared: int = MIN_SHARED) -> QualityReport:
    """Every statistic of the module docstring, from the last pull and the current scores."""
    answers = load_answers(config)
    if not answers.by_record:
        raise LabelerError(f"no submitted answers in {Project(config).responses}; review records in Argilla, "
                           "then run `labeler pull`")
    overlapped = Answers(answers.labels, answers.multi_label, answers.overlapped())
    model = model_labels(config, suggestion_thresholds(config))
    consensus = consensus_agreement(answers)
    with_model = model_agreement(answers, model) if model is not None else {}
    counts = Counter(a for ans in answers.by_record.values() for a in ans)
    rows = []
    for who in answers.annotators:
        per_hour, active = pace(answers.times.get(who, []))
        rows.append(AnnotatorRow(who, counts[who], consensus.get(who), with_model.get(who) if model else None,
                                 per_hour, active))
    return QualityReport(
        labels=len(answers.labels), multi_label=answers.multi_label,
        min_submitted=int(config.argilla.min_submitted), answers=sum(counts.values()),
        records=len(answers.by_record), overlapped=len(overlapped.by_record), annotators=rows,
        alpha=alpha(overlapped), fleiss=fleiss(overlapped), pairs=pair_kappas(answers), min_shared=min_shared,
        confusions=confusions(answers), none=answers.none, none_with_labels=answers.none_with_labels,
        labels_over_none=answers.labels_over_none, none_over_labels=answers.none_over_labels,
        model_note=None if model is not None else "no scores yet (`labeler bootstrap`): no comparison with the model")


def summary_line(config) -> str | None:
    """One line for ``labeler status``: alpha and kappa over the records with 2+ answers; None before any
    submitted answer has been pulled."""
    if not Project(config).responses.exists():
        return None
    answers = load_answers(config)
    if not answers.by_record:
        return None
    overlapped = Answers(answers.labels, answers.multi_label, answers.overlapped())
    return agreement_line(alpha(overlapped), fleiss(overlapped), len(overlapped.by_record), len(answers.annotators),
                          int(config.argilla.min_submitted))
