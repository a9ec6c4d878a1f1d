"""Drift of a logged prediction batch (``labeler predict --drift``): its labels and confidence against a reference.

- labels: the predicted label distribution (single-label: top label; multi-label: label frequency, and "None of
  these" once per text given no label, so a batch that loses its labels shows as a shift) against a
  reference distribution. The reference is the same run's predictions on the pool, the population new texts
  from the same source come from (up to ``REFERENCE_TEXTS``, a uniform sample of a larger pool; from
  ``scores.npz`` when ``bootstrap`` scored this run, else through the prediction cache): predictions against
  predictions, so the run's own errors do not read as drift, and thousands of texts, so 150 labels are not
  compared with a few dozen gold labels, and no one draw of a reference sample sets the verdict for every batch.
  For a pool under ``MIN_REFERENCE_TEXTS`` (or one that cannot be loaded), the gold labels' mix (records drawn
  uniformly at random, ``labeler.evaluation.gold``) once there are ``MIN_GOLD_REFERENCE``, else the run's
  training labels, which the queue chose because they were hard: a biased reference, and the report says so.
  Reported: total variation distance ``TVD = 1/2 sum_k |p_k - q_k|``, the population stability index per label
  ``PSI_k = (p_k - q_k) ln(p_k / q_k)`` (proportions floored at 1e-4) and their sum, and how often a TVD this
  large arises by chance (``chance_p``: both samples drawn again from their pooled mix).
- confidence: how sure the run is of each prediction (``predict``'s ``score``: the top probability; multi-label the
  lowest probability in the set, 1 minus the highest for "None of these") against the same on the random reserve's
  pool texts nobody labeled: never trained on (not optimistic) and drawn uniformly (the pool texts nobody labeled
  at all lack the hard ones the queue took, so the run is surer on them than on the pool: a same-source batch read
  "shifted", BENCHMARKS.md "Drift"). Under ``MIN_CONFIDENCE_REFERENCE`` such texts, all the pool texts nobody
  labeled, and the report says the reference is surer than the pool; in the fallbacks, the gold texts or, with
  fewer than ``MIN_GOLD_REFERENCE`` gold labels, all the labelled texts. Reported: the two-sample
  Kolmogorov-Smirnov statistic and p-value.

Rules of thumb used for the plain-words summary: labels moved when PSI >= 0.25 or TVD >= 0.2 (moderately when
PSI >= 0.1), and only when chance gives a TVD that large less than 5% of the time (``LABEL_ALPHA``): 300
predictions over BANKING77's 77 intents differ from their own source by a TVD of 0.17-0.24 by chance alone
(BENCHMARKS.md "Drift"), around the 0.2 threshold; confidence moved when
KS >= 0.2 and p < 0.05. The summary lists the labels that moved most
(``TABLE_ROWS`` in the table, ``TOP_MOVERS`` in words) and counts the rest, so 150 labels stay readable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from labeler.argilla.schema import NONE_TEXT
from labeler.data import load_pool
from labeler.errors import LabelerError
from labeler.evaluation.gold import GOLD
from labeler.evaluation.predict import load_run, prediction_scores, resolve_log, run_sets
from labeler.loop.human_labels import none_answers, per_class, submitted
from labeler.loop.policy import project_reserve
from labeler.loop.runs import run_mismatch, training_errors
from labeler.loop.scoring import run_signal
from labeler.project import Project
from labeler.signals.cache import score_cached
from training.labels import load_labels

MIN_GOLD_REFERENCE = 20
REFERENCE_TEXTS = 20000  # pool texts the run predicts for the reference (a uniform sample of a larger pool)
MIN_REFERENCE_TEXTS = 100  # a smaller pool: the gold labels or the training labels instead
MIN_CONFIDENCE_REFERENCE = 50  # random reserve texts nobody labeled, for the confidence reference
LABEL_ALPHA = 0.05  # a label shift counts only when chance gives a TVD this large less often than this
CHANCE_DRAWS = 2000
BORDERLINE = 0.2  # chance_p under this (and over LABEL_ALPHA): "no clear shift; a larger batch would tell"
EPS = 1e-4
PSI_MAJOR, PSI_MODERATE, TVD_MAJOR = 0.25, 0.1, 0.2
KS_MOVED, KS_ALPHA = 0.2, 0.05
SMALL_SAMPLE = 30
TABLE_ROWS = 10  # labels shown in the table, largest moves first
TOP_MOVERS = 3  # labels named in the plain-words line
MOVED = 0.005  # a label whose share changed by half a point or more counts as moved in "and N more"


def label_shift(p: np.ndarray, q: np.ndarray) -> tuple[float, np.ndarray]:
    """``(TVD, PSI per label)`` between proportion vectors ``p`` (new) and ``q`` (reference)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    tvd = 0.5 * float(np.abs(p - q).sum())
    pp, qq = np.maximum(p, EPS), np.maximum(q, EPS)
    return tvd, (pp - qq) * np.log(pp / qq)


def chance_p(new_counts: np.ndarray, n_new: int, ref_counts: np.ndarray, n_ref: int, draws: int = CHANCE_DRAWS,
             seed: int = 0) -> float:
    """How often two samples of the sizes seen, drawn from one mix (the pooled counts), differ by a TVD at least
    the observed one: a two-sample parametric bootstrap (``new_counts``, ``ref_counts``: hits per category,
    ``n_new`` and ``n_ref`` of them; multi-label hits are drawn as if independent). 1 when either sample is empty."""
    new_counts, ref_counts = np.asarray(new_counts, dtype=float), np.asarray(ref_counts, dtype=float)
    if n_new <= 0 or n_ref <= 0:
        return 1.0
    observed = 0.5 * np.abs(new_counts / n_new - ref_counts / n_ref).sum()
    pooled = (new_counts + ref_counts) / (new_counts + ref_counts).sum()
    rng = np.random.default_rng(seed)
    a = rng.multinomial(n_new, pooled, size=draws) / n_new
    b = rng.multinomial(n_ref, pooled, size=draws) / n_ref
    tvd = 0.5 * np.abs(a - b).sum(axis=1)
    return float((1 + (tvd >= observed - 1e-12).sum()) / (1 + draws))


def shift_size(tvd: float, psi_total: float) -> str:
    """The thresholds alone: "major" (PSI >= 0.25 or TVD >= 0.2), "moderate" (PSI >= 0.1) or "none"; ``drift``
    applies them only where chance rarely gives a TVD that large (``chance_p``)."""
    if psi_total >= PSI_MAJOR or tvd >= TVD_MAJOR:
        return "major"
    return "moderate" if psi_total >= PSI_MODERATE else "none"


def movers(labels: list[str], ref: list[float], new: list[float]) -> list[tuple[str, float, float]]:
    """``(label, reference share, new share)`` by decreasing absolute change (ties, to 1e-9, by name)."""
    return sorted(zip(labels, ref, new), key=lambda t: (-round(abs(t[2] - t[1]), 9), t[0]))


@dataclass
class DriftReport:
    model_id: str
    log: str
    n: int
    labels: list[str]
    new_dist: list[float]
    ref_dist: list[float]
    tvd: float
    psi: dict[str, float]
    psi_total: float
    ks: float
    ks_p: float
    conf_new_median: float
    conf_ref_median: float
    conf_reference: str
    label_drift: str  # "none" | "moderate" | "major"
    confidence_drift: bool
    label_reference: str = ""  # what the label distribution is compared with, in words
    reference_biased: bool = False  # True: the run's queue-chosen training labels, not a random draw
    chance_p: float = 0.0  # how often chance alone gives a TVD this large (``chance_p``)
    words: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        ranked = movers(self.labels, self.ref_dist, self.new_dist)
        width = min(LABEL_WIDTH, max([len("label"), *(len(lab) for lab, _, _ in ranked[:TABLE_ROWS])]))
        lines = [f"drift of {self.log} ({self.n} predictions by {self.model_id}) against {self.label_reference}",
                 f"  labels: TVD {self.tvd:.3f} (chance gives one this large p = {self.chance_p:.3g}), "
                 f"PSI {self.psi_total:.3f}",
                 "  " + f"{'label':<{width}} {'reference':>9} {'now':>7} {'PSI':>7}"]
        for lab, q, p in ranked[:TABLE_ROWS]:
            lines.append("  " + f"{_cut(lab, width):<{width}} {q:>9.1%} {p:>7.1%} {self.psi[lab]:>7.3f}")
        rest = ranked[TABLE_ROWS:]
        if rest:
            moved = sum(abs(p - q) >= MOVED for _, q, p in rest)
            lines.append(f"  ... and {len(rest)} more labels ({moved} of them moved by half a point or more)")
        lines.append(f"  confidence: KS {self.ks:.3f} (p {self.ks_p:.3g}); median {self.conf_ref_median:.3f} "
                     f"({self.conf_reference}) -> {self.conf_new_median:.3f}")
        return "\n".join(lines + [""] + self.words)


LABEL_WIDTH = 40  # the table's label column: longer names are cut with "…"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def gold_ids(config) -> set[str]:
    """Ids of the human labels in the random gold split (``labeler.evaluation.gold``: drawn uniformly from the pool)."""

    labels = Project(config).load_labels()
    if labels is None or labels.empty:
        return set()
    return {rid for rid, split in project_reserve(config).splits(labels["id"].astype(str).tolist()).items() if split == GOLD}


def reference_labels(config, run) -> tuple[np.ndarray, str, bool]:
    """``(reference proportions, what they are, biased)``: the gold labels' mix when there are at least
    ``MIN_GOLD_REFERENCE`` of them, else the run's training label counts (queue-chosen, so biased). Multi-label,
    a last entry counts the texts with no label ("None of these"), where the reference knows them (a run saved
    before its ``train_none`` was recorded does not: then K entries)."""

    labels, ml = config.label_names, config.task.multi_label
    gold = gold_ids(config)
    labels_df = Project(config).load_labels() if gold else None
    counts = per_class(labels_df, labels, ml, ids=gold)
    n_gold = _n_rows(labels_df, gold)
    if n_gold >= MIN_GOLD_REFERENCE and (sum(counts.values()) or ml):
        ref = np.array([float(counts[lab]) for lab in labels] + ([float(none_answers(labels_df, gold))] if ml else []))
        return ref / ref.sum(), f"{n_gold} random gold labels", False
    train = run.info.get("train_counts") or {}
    none = [float(run.info["train_none"])] if ml and run.info.get("train_none") is not None else []
    ref = np.array([float(train.get(lab, 0)) for lab in labels] + none)
    if ref.sum() == 0:
        raise LabelerError(f"run {run.run_id} records no training label counts")
    n_train = int(run.info.get("n_train") or ref.sum())
    why = (f"the run's {n_train} training labels (chosen by the queue because they were hard: a biased "
           f"reference; {n_gold} of {MIN_GOLD_REFERENCE} random gold labels needed for an unbiased one)")
    return ref / ref.sum(), why, True


def _n_rows(labels_df, ids: set[str]) -> int:
    sub = submitted(labels_df)
    return 0 if sub is None else int(sub["id"].astype(str).isin(ids).sum())


@dataclass
class Reference:
    """The run's predictions on the pool (``reference_predictions``)."""

    P: np.ndarray  # (M, K) the run's probabilities on M pool texts, ``config.label_names`` order
    unlabeled: np.ndarray  # (M,) True where nobody labeled the text (the run never trained on it)
    what: str
    reserve: np.ndarray | None = None  # (M,) True for the random reserve's texts (drawn uniformly from the pool)

    def confidence(self, scores: np.ndarray) -> tuple[np.ndarray, str]:
        """``scores`` (the run's confidence on each of the M texts, ``confidence``) on the texts a batch's
        confidence is compared with, and what they are."""
        unseen = self.unlabeled & (self.reserve if self.reserve is not None else False)
        if unseen.sum() >= MIN_CONFIDENCE_REFERENCE:
            return scores[unseen], f"{int(unseen.sum())} random reserve texts nobody labeled"
        unl = scores[self.unlabeled] if self.unlabeled.any() else scores
        return unl, (f"{len(unl)} pool texts nobody labeled (without the hard ones the queue took: surer than on the "
                     f"pool; {int(unseen.sum())} of {MIN_CONFIDENCE_REFERENCE} random reserve texts nobody labeled for "
                     "an unbiased reference)")


def reference_predictions(config, run) -> Reference | None:
    """The run's probabilities on the pool (a seeded uniform sample of ``REFERENCE_TEXTS`` when larger): from
    ``scores.npz`` when the last ``bootstrap`` scored this run, else through the prediction cache. None for a pool
    of fewer than ``MIN_REFERENCE_TEXTS`` texts or one that cannot be loaded (the caller falls back)."""
    try:
        pool = load_pool(config)
    except LabelerError:
        return None
    n = len(pool.ids)
    if n < MIN_REFERENCE_TEXTS:
        return None
    rows = np.arange(n) if n <= REFERENCE_TEXTS else \
        np.sort(np.random.default_rng(0).choice(n, REFERENCE_TEXTS, replace=False))
    project = Project(config)
    P = None
    scores = project.fitting_scores()
    if scores is not None:
        if scores.run_id == run.run_id and run.run_id in scores.signals and scores.ids == pool.ids:
            P = np.asarray(scores.signals[run.run_id], dtype=float)[rows]
    if P is None:
        P = score_cached(run_signal(config, run.run_id), [pool[r].id for r in rows], [pool[r].text for r in rows],
                         project.cache, progress=False)
    labels_df = project.load_labels()
    labeled = set() if labels_df is None or labels_df.empty else set(labels_df["id"].astype(str))
    unlabeled = np.array([str(pool[r].id) not in labeled for r in rows], dtype=bool)
    what = f"the run's predictions on the pool ({len(rows)} texts{'' if len(rows) == n else f' of {n}, at random'})"
    return Reference(P, unlabeled, what, project_reserve(config).mask([pool[r].id for r in rows]))


def reference_confidence(config, run) -> tuple[np.ndarray, str]:
    """The run's top probabilities on its gold texts, or on all its labelled texts when gold is small."""

    with training_errors():
        project = Project(config)
        project.require_labels()
        table = load_labels(project.load_labels(), config.label_names, config.task.multi_label)
    gold = table.df[table.df["id"].astype(str).isin(gold_ids(config))]
    if len(gold) >= MIN_GOLD_REFERENCE:
        texts, where = gold["text"].tolist(), f"{len(gold)} gold texts"
    else:
        texts, where = table.df["text"].tolist(), f"{len(table.df)} labelled texts"
    return confidence(run.predict_proba(texts), run, config), where


def drift(config, log=None, run=None) -> DriftReport:
    """Compare a prediction file's labels and confidence with a reference (see module docs)."""
    import pandas as pd
    from scipy.stats import ks_2samp

    path = resolve_log(config, log)
    df = pd.read_parquet(path)
    if df.empty:
        raise LabelerError(f"{path} holds no predictions")
    model_ids = df["model_id"].unique().tolist()
    run = run or load_run(config, model_ids[0])
    mismatch = run_mismatch(config, run)
    if mismatch:  # its reference (the pool, gold) is read in the config's labels
        raise LabelerError(f"no drift check: {mismatch}; `labeler train` trains a run on every label")
    labels, ml = config.label_names, config.task.multi_label
    probs = df[[f"p_{lab}" for lab in labels]].to_numpy(dtype=float)
    reference = reference_predictions(config, run)
    if reference is not None:  # predictions against predictions: counted the same way
        ref_sets = _sets(reference.P, run, config)
        ref_hits = _hits(reference.P, run, config, with_none=ml, sets=ref_sets)
        ref, what, biased = ref_hits / max(ref_hits.sum(), 1.0), reference.what, False
        conf_ref, where = reference.confidence(confidence(reference.P, run, config, ref_sets))
    else:
        ref, what, biased = reference_labels(config, run)
        conf_ref, where = reference_confidence(config, run)
        n_ref = len(conf_ref) if not biased else int(run.info.get("n_train") or len(conf_ref))
        ref_hits = ref * n_ref
    sets = _sets(probs, run, config)  # the labels `predict` gives (multi-label), read by the counts and the confidence
    hits = _hits(probs, run, config, with_none=len(ref) == len(labels) + 1, sets=sets)
    if len(hits) == len(labels) + 1:  # and "None of these", where the reference counts it
        labels = [*labels, NONE_TEXT]
    new = hits / max(hits.sum(), 1.0)
    tvd, psi = label_shift(new, ref)
    p_chance = chance_p(hits, int(hits.sum()), ref_hits, int(round(ref_hits.sum())))
    conf_new = confidence(probs, run, config, sets)  # as `predict` scores (from the p_ columns: a log of any version)
    ks = ks_2samp(conf_new, conf_ref)
    psi_total = float(psi.sum())
    label_drift = "none" if p_chance >= LABEL_ALPHA else shift_size(tvd, psi_total)
    conf_drift = bool(ks.statistic >= KS_MOVED and ks.pvalue < KS_ALPHA)
    rep = DriftReport(
        model_id=run.run_id, log=str(path), n=len(df), labels=labels, new_dist=new.tolist(), ref_dist=ref.tolist(),
        tvd=tvd, psi={lab: float(v) for lab, v in zip(labels, psi)}, psi_total=psi_total, ks=float(ks.statistic),
        ks_p=float(ks.pvalue), conf_new_median=float(np.median(conf_new)), conf_ref_median=float(np.median(conf_ref)),
        conf_reference=where, label_drift=label_drift, confidence_drift=conf_drift, label_reference=what,
        reference_biased=biased, chance_p=p_chance,
    )
    rep.words = words(rep)
    return rep


def _sets(P: np.ndarray, run, config) -> np.ndarray | None:
    """Multi-label: the labels ``labeler predict`` gives, at the run's own cuts ((M, K) 0/1); None single-label."""
    return run_sets(P, run, config.label_names, config.task.threshold) if config.task.multi_label else None


def confidence(P: np.ndarray, run, config, sets: np.ndarray | None = None) -> np.ndarray:
    """How sure the run is of each prediction: ``labeler predict``'s ``score`` (multi-label, of the set at the run's
    cuts; ``sets``: those, when computed already)."""
    return prediction_scores(P, _sets(P, run, config) if sets is None else sets)


def _hits(P: np.ndarray, run, config, with_none: bool, sets: np.ndarray | None = None) -> np.ndarray:
    """Predicted labels counted per label (single-label: the top label; multi-label: the labels ``labeler
    predict`` gives, at the run's own cuts (``sets``, when computed already), and with ``with_none`` one more
    count per text given none)."""
    labels = config.label_names
    if not config.task.multi_label:
        return np.bincount(P.argmax(axis=1), minlength=len(labels)).astype(float)
    sets = _sets(P, run, config) if sets is None else sets
    hits = sets.sum(axis=0).astype(float)
    return np.append(hits, float((sets.sum(axis=1) == 0).sum())) if with_none else hits


def words(r: DriftReport) -> list[str]:
    """The report in plain words: labels, confidence, and what to make of the reference and the sample."""
    out = []
    if r.label_drift == "none" and r.chance_p >= LABEL_ALPHA and (r.psi_total >= PSI_MODERATE or r.tvd >= TVD_MAJOR):
        borderline = r.chance_p < BORDERLINE
        verdict = "no clear shift" if borderline else "no shift beyond chance"
        out.append(f"Labels: {verdict} (TVD {r.tvd:.2f}, PSI {r.psi_total:.2f}): chance alone gives a mix this "
                   f"different {r.chance_p:.0%} of the time with {r.n} predictions over {len(r.labels)} labels"
                   + ("; a larger batch would tell." if borderline else "."))
    elif r.label_drift == "none":
        out.append(f"Labels: no shift (TVD {r.tvd:.2f}, PSI {r.psi_total:.2f}); the predicted mix matches the reference.")
    else:
        ranked = movers(r.labels, r.ref_dist, r.new_dist)
        named = [f"{lab} {q:.1%} -> {p:.1%}" for lab, q, p in ranked[:TOP_MOVERS] if p != q]
        more = sum(abs(p - q) >= MOVED for _, q, p in ranked[len(named):])
        tail = f", and {more} more by half a point or more" if more else ""
        out.append(f"Labels: {r.label_drift} shift (TVD {r.tvd:.2f}, PSI {r.psi_total:.2f}); "
                   f"most moved: {', '.join(named)}{tail}.")
    if not r.confidence_drift:
        out.append(f"Confidence: no shift (KS {r.ks:.2f}, p {r.ks_p:.2g}); median {r.conf_new_median:.2f} "
                   f"vs {r.conf_ref_median:.2f} on the run's {r.conf_reference}.")
    else:
        way = "lower" if r.conf_new_median < r.conf_ref_median else "higher"
        hint = " The model is less sure than on its own data: new kinds of text, or labels it has not seen." \
            if way == "lower" else ""
        out.append(f"Confidence: shifted {way} (KS {r.ks:.2f}, p {r.ks_p:.2g}); median {r.conf_ref_median:.2f} "
                   f"-> {r.conf_new_median:.2f}.{hint}")
    if r.reference_biased:
        out.append(f"Reference: {r.label_reference}; read the label figures as indicative.")
    if r.n < SMALL_SAMPLE:
        out.append(f"Only {r.n} predictions: proportions this small are noisy; treat the label figures as indicative.")
    return out
