"""``train``: human labels (+ weak rows) -> threshold check -> stable splits -> fit -> calibrate -> evaluate on
gold -> register."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from training.backends import get_backend
from training.calibration import Calibrator
from training.compare import LabelCuts, label_cuts
from training.errors import TrainingError
from training.evaluate import append_history, bootstrap_ci, evaluate, predict
from training.labels import LabelTable, load_labels
from training.registry import Registry, Run, default_root
from training.splits import CALIB, GOLD, SPLIT_FILE, TRAIN, Splits, assign_splits, hash_unit
from training.thresholds import CUT_SHRINK_DOWN, MIN_LABELS_FOR_CUTS, SHRINK, fit_thresholds
from training.trigger import check_threshold, threshold_message


Weak = tuple[Sequence[str], np.ndarray, float]  # (texts, targets, sample weight) of extra weak rows
# a final fit's folds when none are asked for, by multi_label: multi-label fits its cuts on the out-of-fold
# predictions, which come from models trained on (K-1)/K of the labels (NLU++: BENCHMARKS.md, "The shipped
# multi-label model")
FINAL_FIT_FOLDS = {False: 5, True: 10}


def make_params(backend: str, params: dict | None, multi_label: bool = False):
    """The backend's parameter dataclass from a plain dict; an unknown key or bad value is a ``TrainingError``."""
    return get_backend(backend).make_params(params, multi_label)


def fit_model(backend: str, params, texts, y, labels, multi_label, seed, val_texts=None, val_y=None, sample_weight=None,
              embed=None, lexical=None):
    """The backend's fit; ``embed`` (the frozen body's vectors from a cache) and ``lexical`` (see ``train``) only
    when given."""
    extra = {k: v for k, v in (("embed", embed), ("lexical", lexical)) if v is not None}
    return get_backend(backend).fit(texts, y, labels, multi_label, params, seed, sample_weight=sample_weight,
                                    val_texts=val_texts, val_y=val_y, **extra)


def weak_rows(weak: Weak | None, n_labels: int, multi_label: bool, exclude: set[str]) -> tuple[list[str], np.ndarray, float]:
    """Check the weak rows and drop any whose text is a human-labelled record's (gold above all: never
    trained on, not even weakly). Returns ``(texts, targets, weight)``, empty when ``weak`` is None."""
    empty = np.zeros((0, n_labels) if multi_label else 0, dtype=np.int64)
    if weak is None:
        return [], empty, 0.0
    try:
        texts, targets, weight = weak
        texts, targets, weight = [str(t) for t in texts], np.asarray(targets), float(weight)
    except (TypeError, ValueError):
        raise TrainingError("weak must be (texts, targets, weight)") from None
    if not 0 < weight <= 1:
        raise TrainingError(f"the weak-label weight must be in (0, 1], got {weight}")
    shape = (len(texts), n_labels) if multi_label else (len(texts),)
    if not len(texts):
        return [], empty, weight
    if targets.shape != shape:
        raise TrainingError(f"weak targets have shape {targets.shape}; expected {shape} for {len(texts)} texts")
    targets = targets.astype(np.int64)
    if (targets < 0).any() or (targets >= (2 if multi_label else n_labels)).any():
        raise TrainingError("weak targets must be " + ("0/1 per label" if multi_label else f"class indices in [0, {n_labels})"))
    keep = np.array([t not in exclude for t in texts], dtype=bool)
    return [t for t, k in zip(texts, keep) if k], targets[keep], weight


def split_table(
    table: LabelTable,
    split_path: str | Path,
    split_seed: int = 0,
    gold_fraction: float = 0.2,
    calib_fraction: float = 0.1,
) -> tuple[Splits, np.ndarray]:
    """Assign (or reuse) splits for every labelled record; returns the splits and each row's split name."""
    splits = assign_splits(table.df, table.multi_label, split_path, split_seed, gold_fraction, calib_fraction)
    return splits, splits.of(table.ids)


def load_gold(
    labels_path, label_names: Sequence[str], multi_label: bool = False, project_dir: str | Path = ".",
    split_path: str | Path | None = None, **split_kw,
) -> tuple[list[str], list[str], np.ndarray]:
    """``(ids, texts, y)`` of the gold split, for ``compare``. Assigns new records first, like ``train``."""
    table = load_labels(labels_path, label_names, multi_label)
    _, which = split_table(table, split_path or Path(project_dir) / SPLIT_FILE, **split_kw)
    gold = table.df[which == GOLD]
    return gold["id"].tolist(), gold["text"].tolist(), table.targets(gold)


def given_splits(splits: Mapping[str, str], ids: Sequence[str]) -> np.ndarray:
    """Each labelled id's split from a caller's mapping; a missing id or an unknown name is a ``TrainingError``."""
    which = np.array([splits.get(str(i), "") for i in ids], dtype=object)
    bad = [str(i) for i, w in zip(ids, which) if w not in (GOLD, CALIB, TRAIN)]
    if bad:
        raise TrainingError(f"the given splits name no gold/calib/train split for {len(bad)} labelled record(s), "
                            f"e.g. {bad[0]!r} ({splits.get(bad[0], 'missing')!r})")
    return which


def train(
    labels_path: str | Path | pd.DataFrame,
    label_names: Sequence[str],
    multi_label: bool = False,
    backend: str = "setfit",
    params: dict | None = None,
    project_dir: str | Path = ".",
    seed: int = 0,
    force: bool = False,
    runs_dir: str | Path | None = None,
    split_path: str | Path | None = None,
    split_seed: int = 0,
    gold_fraction: float = 0.2,
    calib_fraction: float = 0.1,
    min_per_class: int = 8,
    min_calibration: int = 20,
    make_current: bool = True,
    n_resamples: int = 1000,
    weak: Weak | None = None,
    splits: Mapping[str, str] | None = None,
    final_fit: int = 0,
    embed=None,
    threshold: float = 0.5,
    progress=None,
    lexical=None,
) -> Run:
    """Train on the submitted human labels and register the run (current by default).

    Neither the gold nor the calibration split is ever trained on (so a verdict may count both: nothing
    fitted on calibration moves a single-label argmax). The calibration split fits the run's calibration
    when it holds at least ``min_calibration`` labels (and, single-label, two classes); otherwise the run is
    left uncalibrated and those labels stay held out (``info["n_calib"]``, ``info["calibrated"]``). For the
    transformers backend it is also the early-stopping validation split.
    ``weak = (texts, targets, weight)``: extra weak rows (targets as class indices, or 0/1 rows multi-label)
    appended to the training rows only, with sample weight ``weight`` (human rows: 1.0); a weak row whose
    text is a labelled record's is dropped. They never enter gold or calibration, and do not count towards
    the threshold. The run records ``n_weak`` and ``weak_weight`` (``info``, model card, history).
    ``splits``: id -> ``gold`` | ``calib`` | ``train`` for every labelled record, decided by the caller (a
    gold reserve drawn at random, for example); when given, no split file is read or written.
    ``final_fit``: K > 1 trains the shipped model on every human label, gold and calibration included (no
    held-out gold, no calibration); its accuracy is then cross-fitted (``cross_fit``): the gold and
    calibration records split into K folds, each fold scored by a model fitted on every other label, the
    pooled out-of-fold predictions scored with ``bootstrap_ci`` (accuracy: a Wilson 95% CI; metrics ``gold`` and
    ``gold_ci``, labelled by ``estimate``). K + 1 fits in all. Multi-label, the K folds are over every label, so
    that the cuts (``cross_fitted_cuts``) are fitted on out-of-fold predictions of all of them, as the queue
    model's are; the estimate is the reserve's rows among them.
    ``embed``: ``embed(texts) -> (N, dim)``, the frozen body's vectors from the caller's cache (NaN rows where it
    has none), handed to the backend's fit (the ``logreg`` backend uses it; the texts path stays for callers
    without a cache). ``lexical``: a fitted vocabulary (``training.lexical.Lexical``, on the pool's texts) whose
    rows the head reads beside the embeddings (backends with a ``linear_head``); the run keeps it (``info["lexical"]``).
    Multi-label, the run carries per-label cuts (``info["cuts"]``, ``Run.cuts``; ``labeler predict`` cuts there):
    fitted on the calibration split as ``compare`` fits them (``training.compare.label_cuts``; ``threshold`` for
    every label while it holds fewer than 20 positive labels), and its gold metrics are taken at those cuts. A
    final fit's cuts are fitted on out-of-fold predictions of every label (``_final_fit``); ``progress(i, n,
    seconds)`` is called after each of its n fits.
    Raises ``TrainingError`` when a class has fewer than ``min_per_class`` labels, unless ``force``.
    """
    label_names = list(label_names)
    p = make_params(backend, params, multi_label)
    lexical = lexical if get_backend(backend).linear_head else None  # a head that reads embeddings only
    table = load_labels(labels_path, label_names, multi_label)
    if not force:
        ok, short = check_threshold(table.df, label_names, min_per_class, multi_label)
        if not ok:
            raise TrainingError(threshold_message(short, min_per_class))
    project_dir = Path(project_dir)
    if splits is None:
        split_path = split_path or project_dir / SPLIT_FILE
        _, which = split_table(table, split_path, split_seed, gold_fraction, calib_fraction)
        split_config = {"path": str(split_path), "seed": split_seed, "gold_fraction": gold_fraction,
                        "calib_fraction": calib_fraction, "min_calibration": min_calibration}
    else:
        which = given_splits(splits, table.ids)
        split_config = {"given": {name: int((which == name).sum()) for name in (GOLD, CALIB, TRAIN)},
                        "min_calibration": min_calibration}
    df = table.df
    config = {
        "backend": backend, "params": dataclasses.asdict(p), "labels": label_names, "multi_label": multi_label,
        "seed": seed, "split": split_config, "min_per_class": min_per_class, "force": force,
        "labels_path": "(a table in memory)" if isinstance(labels_path, pd.DataFrame) else str(labels_path),
    }
    registry = Registry(runs_dir or default_root(project_dir))
    if final_fit:
        return _final_fit(table, which, label_names, multi_label, backend, p, seed, weak, int(final_fit), n_resamples,
                          threshold, progress, config, registry, make_current, embed, lexical)
    calib = df[which == CALIB]
    y_cal = table.targets(calib)
    use_calib = len(calib) >= min_calibration and (multi_label or len(np.unique(y_cal)) >= 2)
    train_mask = which == TRAIN  # calibration never joins training, even too few to calibrate on
    train_rows, gold = df[train_mask], df[which == GOLD]
    if len(train_rows) == 0:
        raise TrainingError("no labels left to train on after holding out gold and calibration; label more records")
    y_train = table.targets(train_rows)
    if not multi_label and len(np.unique(y_train)) < 2:
        raise TrainingError("the training labels hold a single class; label records of at least two classes")

    weak_texts, weak_y, weak_weight = weak_rows(weak, len(label_names), multi_label, set(df["text"]))
    fit_texts, fit_y, sample_weight = train_rows["text"].tolist(), y_train, None
    if weak_texts:
        fit_texts, fit_y = fit_texts + weak_texts, np.concatenate([y_train, weak_y])
        sample_weight = np.concatenate([np.ones(len(train_rows)), np.full(len(weak_texts), weak_weight)])

    t0 = time.perf_counter()
    model = fit_model(backend, p, fit_texts, fit_y, label_names, multi_label, seed,
                      calib["text"].tolist() if use_calib else None, y_cal if use_calib else None,
                      sample_weight=sample_weight, embed=embed, lexical=lexical)
    train_seconds = time.perf_counter() - t0

    P_cal = model.predict_proba(calib["text"].tolist()) if len(calib) else None
    calibrator = Calibrator.fit(P_cal, y_cal, multi_label) if use_calib else Calibrator()
    cuts = label_cuts(None if P_cal is None else calibrator(P_cal), y_cal if len(calib) else None, len(label_names),
                      threshold, default_name="task.threshold") if multi_label else None
    one = bool(cuts) and never_none(y_train)
    cut = cuts.values if cuts else threshold
    y_gold = table.targets(gold)
    P_raw = model.predict_proba(gold["text"].tolist()) if len(gold) else np.zeros((0, len(label_names)))
    P_gold = calibrator(P_raw)
    metrics = {
        "gold": evaluate(P_gold, y_gold, label_names, multi_label, cut, at_least_one=one),
        "gold_uncalibrated": evaluate(P_raw, y_gold, label_names, multi_label, cut, at_least_one=one),
        "gold_ci": {m: bootstrap_ci(P_gold, y_gold, m, multi_label, n_resamples=n_resamples, seed=0, threshold=cut,
                                    at_least_one=one) for m in interval_metrics(multi_label)},
        "train_seconds": train_seconds,
    }
    counts = (np.bincount(y_train, minlength=len(label_names)) if not multi_label else y_train.sum(0)).tolist()
    rnd = int(df["round"].max()) if len(df) and df["round"].notna().any() else 0
    info = {
        "n_labels": len(df), "n_train": len(train_rows), "n_gold": len(gold), "n_calib": len(calib),
        "calibrated": bool(use_calib),
        "round": rnd, "seed": seed, "skipped": table.skipped, "train_counts": dict(zip(label_names, map(int, counts))),
        **({"train_none": n_none(y_train)} if multi_label else {}),
        "train_seconds": round(train_seconds, 2), "n_weak": len(weak_texts), "weak_weight": weak_weight if weak_texts else None,
        **({"cuts": {**dataclasses.asdict(cuts), "at_least_one": one}} if cuts else {}), **words_info(lexical),
    }
    run = registry.save(model, labels=label_names, multi_label=multi_label, backend=backend, config=config,
                        data_fingerprint=table.fingerprint(), metrics=metrics, calibrator=calibrator, info=info,
                        make_current=make_current)
    run._model = model
    append_history(registry.history_path, {
        "run_id": run.run_id, "created_at": run.info["created_at"], "round": rnd, "n_labels": len(df),
        "n_gold": len(gold), "n_weak": len(weak_texts), "backend": backend,
        "metrics": {k: metrics["gold"].get(k) for k in ("accuracy", "macro_f1", "micro_f1", "ece")},
    })
    return run


def words_info(lexical) -> dict:
    """A run's ``info["lexical"]``: the weight and terms of the vocabulary its head reads (nothing without one)."""
    return {"lexical": {"weight": lexical.weight, "terms": lexical.terms}} if lexical is not None else {}


def never_none(Y: np.ndarray) -> bool:
    """Multi-label: whether every training label set holds a label (no "None of these" among them; a taxonomy
    with its own catch-all label, GoEmotions' "neutral"): then the run predicts at least one label per text."""
    Y = np.asarray(Y)
    return bool(len(Y)) and Y.ndim == 2 and bool((Y.sum(axis=1) > 0).all())


def n_none(Y: np.ndarray) -> int:
    """Multi-label: the label sets with no label ("None of these"), which a run records as ``train_none``."""
    return int((np.asarray(Y).sum(axis=1) == 0).sum())


def interval_metrics(multi_label: bool) -> tuple[str, ...]:
    """The metrics a run reports with an interval: accuracy (exact match, multi-label) and macro-F1, and micro-F1
    where it is the verdict's metric (multi-label)."""
    return ("accuracy", "macro_f1", "micro_f1") if multi_label else ("accuracy", "macro_f1")


def hash_folds(table: LabelTable, rows: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Each of ``rows``' fold, 0..folds-1, from a hash of its id (stable across runs and machines)."""
    ids = table.ids  # a list built per read: once, not per row
    return np.array([int(hash_unit(seed, str(ids[r]), "fold") * folds) for r in rows], dtype=np.int64)


def cross_fit(table: LabelTable, which: np.ndarray, folds: int, fit, seed: int = 0,
              rows: np.ndarray | None = None, fold: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, out-of-fold P) for ``rows`` (default: the reserve rows, gold and calibration): each of ``folds``
    folds (``fold``: the rows' ``hash_folds``, computed here when not given) scored by ``fit(train_mask)``'s model,
    fitted on every other labelled row."""
    scored = np.flatnonzero((which == GOLD) | (which == CALIB)) if rows is None else np.asarray(rows, dtype=np.int64)
    fold = hash_folds(table, scored, folds, seed) if fold is None else fold
    texts = table.df["text"].tolist()
    P = None
    for f in range(folds):
        held = scored[fold == f]
        if not len(held):
            continue
        train_mask = np.ones(len(texts), dtype=bool)
        train_mask[held] = False
        Pf = fit(train_mask).predict_proba([texts[r] for r in held])
        P = np.zeros((len(scored), Pf.shape[1])) if P is None else P
        P[fold == f] = Pf
    return scored, (P if P is not None else np.zeros((0, 0)))


def fitted_cuts(P: np.ndarray, Y: np.ndarray, threshold: float) -> LabelCuts:
    """Per-label cuts on out-of-fold predictions of every label, the queue model's rule
    (``labeler.loop.engine.label_cuts``): each label's micro-F1 cut weighed ``n_pos / (n_pos + 5)`` against the
    global cut (``n_pos / (n_pos + 20)`` below it); ``threshold`` for every label under ``MIN_LABELS_FOR_CUTS`` rows."""
    k, pos = P.shape[1], int(np.asarray(Y).sum())
    if len(P) < MIN_LABELS_FOR_CUTS:
        return LabelCuts([float(threshold)] * k, False, len(P), pos, f"the scalar task.threshold {threshold:g} for every "
                         f"label: {len(P)} labels, fewer than the {MIN_LABELS_FOR_CUTS} a fit needs")
    cuts = fit_thresholds(P, Y, default=threshold, shrink=SHRINK, objective="micro_f1", shrink_down=CUT_SHRINK_DOWN)
    return LabelCuts([float(v) for v in cuts], True, len(P), pos,
                     f"fitted on the cross-fitted predictions of {len(P)} labels ({pos} positive)")


def cross_fitted_cuts(P_oof: np.ndarray, Y: np.ndarray, fold: np.ndarray, threshold: float) -> tuple[np.ndarray, LabelCuts]:
    """Multi-label, for a final fit: (0/1 sets, cuts) from out-of-fold predictions of every label. Each fold's rows
    are cut at the cuts fitted (``fitted_cuts``) on the other folds' rows, so the sets score the model and its cut
    rule on records neither saw; the cuts the shipped model keeps are fitted on every row. Where no label set is
    empty (``never_none``), every row keeps at least its most probable label."""
    one = never_none(Y)
    sets = np.zeros(np.shape(Y), dtype=np.int64)
    for f in np.unique(fold):
        other = fold != f
        sets[~other] = predict(P_oof[~other], True, fitted_cuts(P_oof[other], Y[other], threshold).values, one)
    return sets, fitted_cuts(P_oof, Y, threshold)


def _final_fit(table, which, label_names, multi_label, backend, p, seed, weak, folds, n_resamples, threshold, progress,
               config, registry, make_current, embed=None, lexical=None) -> Run:
    """The shipped model on every human label, its accuracy cross-fitted over the random reserve (``train``)."""
    if folds < 2:
        raise TrainingError(f"final fit needs at least 2 folds, got {folds}")
    df = table.df
    y_all = table.targets(df)
    if not multi_label and len(np.unique(y_all)) < 2:
        raise TrainingError("the labels hold a single class; label records of at least two classes")
    weak_texts, weak_y, weak_weight = weak_rows(weak, len(label_names), multi_label, set(df["text"]))
    texts = df["text"].tolist()

    in_reserve = (which == GOLD) | (which == CALIB)
    folded = np.arange(len(df)) if multi_label else np.flatnonzero(in_reserve)  # the rows cross_fit scores
    fold_of = hash_folds(table, folded, folds, seed)
    n_fits, done = 1 + len(np.unique(fold_of)), []  # an empty fold is not fitted

    def fit(mask: np.ndarray):
        started = time.perf_counter()
        fit_texts, fit_y, w = [t for t, m in zip(texts, mask) if m], y_all[mask], None
        if weak_texts:
            fit_texts, fit_y = fit_texts + weak_texts, np.concatenate([fit_y, weak_y])
            w = np.concatenate([np.ones(int(mask.sum())), np.full(len(weak_texts), weak_weight)])
        model = fit_model(backend, p, fit_texts, fit_y, label_names, multi_label, seed, sample_weight=w, embed=embed,
                          lexical=lexical)
        done.append(time.perf_counter() - started)
        if progress is not None:
            progress(len(done), n_fits, done[-1])
        return model

    t0 = time.perf_counter()
    model = fit(np.ones(len(df), dtype=bool))
    train_seconds = time.perf_counter() - t0
    scored, cuts = None, None
    if multi_label:
        # its cuts need out-of-fold predictions of every label (the queue model's rule): folds over every labelled
        # row; the reserve's rows among them are the estimate, as 0/1 sets cut where the other folds say
        _, P_every = cross_fit(table, which, folds, fit, seed, rows=folded, fold=fold_of)
        sets, cuts = cross_fitted_cuts(P_every, y_all, fold_of, threshold)
        rows, P_oof, scored = np.flatnonzero(in_reserve), P_every[in_reserve], sets[in_reserve]
        how = "folds over all {n} labels, its {r} random reserve labels each scored by a model trained on the other " \
              "folds and cut at per-label cuts fitted on them"
    else:
        rows, P_oof = cross_fit(table, which, folds, fit, seed, rows=folded, fold=fold_of)
        scored = P_oof
        how = "folds over {r} random reserve labels, each fold scored by a model trained on every other label"
    y_res = y_all[rows]
    n_reserve = len(rows)
    estimate = f"cross-fitted: {folds} " + how.format(n=len(df), r=n_reserve)
    metrics = {
        "gold": ({**evaluate(scored, y_res, label_names, multi_label, threshold),
                  "ece": evaluate(P_oof, y_res, label_names, multi_label, threshold)["ece"]} if n_reserve else {}),
        "gold_ci": {m: bootstrap_ci(scored, y_res, m, multi_label, n_resamples=n_resamples, seed=0, threshold=threshold)
                    for m in interval_metrics(multi_label)} if n_reserve else {},
        "estimate": estimate, "train_seconds": train_seconds,
    }
    counts = (np.bincount(y_all, minlength=len(label_names)) if not multi_label else y_all.sum(0)).tolist()
    rnd = int(df["round"].max()) if len(df) and df["round"].notna().any() else 0
    info = {"n_labels": len(df), "n_train": len(df), "n_gold": n_reserve, "n_calib": 0, "round": rnd, "seed": seed,
            "skipped": table.skipped, "train_counts": dict(zip(label_names, map(int, counts))),
            **({"train_none": n_none(y_all)} if multi_label else {}),
            "train_seconds": round(train_seconds, 2), "n_weak": len(weak_texts),
            "weak_weight": weak_weight if weak_texts else None, "final_fit": {"folds": folds, "n_reserve": n_reserve},
            **({"cuts": {**dataclasses.asdict(cuts), "at_least_one": never_none(y_all)}} if cuts else {}),
            **words_info(lexical)}
    run = registry.save(model, labels=label_names, multi_label=multi_label, backend=backend,
                        config={**config, "final_fit": folds}, data_fingerprint=table.fingerprint(), metrics=metrics,
                        calibrator=Calibrator(), info=info, make_current=make_current)
    run._model = model
    append_history(registry.history_path, {
        "run_id": run.run_id, "created_at": run.info["created_at"], "round": rnd, "n_labels": len(df),
        "n_gold": n_reserve, "n_weak": len(weak_texts), "backend": backend, "final_fit": folds,
        "metrics": {k: metrics["gold"].get(k) for k in ("accuracy", "macro_f1", "micro_f1", "ece")}})
    return run
