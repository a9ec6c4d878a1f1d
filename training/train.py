"""``train``: human labels -> threshold check -> stable splits -> fit -> calibrate -> evaluate on gold -> register."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from labeler.errors import LabelerError
from training.calibration import Calibrator
from training.evaluate import append_history, bootstrap_ci, evaluate
from training.labels import LabelTable, load_labels
from training.registry import BACKENDS, Registry, Run, default_root
from training.splits import CALIB, GOLD, SPLIT_FILE, TRAIN, Splits, assign_splits
from training.trigger import check_threshold, threshold_message


def make_params(backend: str, params: dict | None, multi_label: bool = False):
    """The backend's parameter dataclass from a plain dict; an unknown key or bad value is a ``LabelerError``."""
    if backend not in BACKENDS:
        raise LabelerError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "transformers":
        from training.transformers_backend import TransformersParams as cls
    else:
        from training.setfit_backend import SetFitParams as cls
    valid = {f.name for f in dataclasses.fields(cls)}
    bad = sorted(set(params or {}) - valid)
    if bad:
        raise LabelerError(f"unknown {backend} training parameter(s) {bad}; valid: {', '.join(sorted(valid))}")
    try:
        p = cls(**(params or {}))
        p.validate(multi_label)
    except (TypeError, ValueError) as exc:
        raise LabelerError(f"bad {backend} training parameters: {exc}") from None
    return p


def fit_model(backend: str, params, texts, y, labels, multi_label, seed, val_texts=None, val_y=None):
    if backend == "setfit":
        from training.setfit_backend import train_setfit

        return train_setfit(texts, y, labels, multi_label, params, seed)
    if backend == "logreg":
        from training.setfit_backend import train_logreg

        return train_logreg(texts, y, labels, multi_label, params, seed)
    from training.transformers_backend import train_transformers

    return train_transformers(texts, y, labels, multi_label, params, seed, val_texts=val_texts, val_y=val_y)


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


def train(
    labels_path: str | Path,
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
) -> Run:
    """Train on the submitted human labels and register the run (current by default).

    The gold split is never trained on. The calibration split is used when it holds at least
    ``min_calibration`` labels (and, single-label, two classes); otherwise it joins training and the run is
    left uncalibrated. For the transformers backend it is also the early-stopping validation split.
    Raises ``LabelerError`` when a class has fewer than ``min_per_class`` labels, unless ``force``.
    """
    label_names = list(label_names)
    p = make_params(backend, params, multi_label)
    table = load_labels(labels_path, label_names, multi_label)
    if not force:
        ok, short = check_threshold(table.df, label_names, min_per_class, multi_label)
        if not ok:
            raise LabelerError(threshold_message(short, min_per_class))
    project_dir = Path(project_dir)
    splits, which = split_table(table, split_path or project_dir / SPLIT_FILE, split_seed, gold_fraction, calib_fraction)
    df = table.df
    calib = df[which == CALIB]
    y_cal = table.targets(calib)
    use_calib = len(calib) >= min_calibration and (multi_label or len(np.unique(y_cal)) >= 2)
    train_mask = (which == TRAIN) | ((which == CALIB) & (not use_calib))
    train_rows, gold = df[train_mask], df[which == GOLD]
    if len(train_rows) == 0:
        raise LabelerError("no labels left to train on after holding out gold; label more records")
    y_train = table.targets(train_rows)
    if not multi_label and len(np.unique(y_train)) < 2:
        raise LabelerError("the training labels hold a single class; label records of at least two classes")

    t0 = time.perf_counter()
    model = fit_model(backend, p, train_rows["text"].tolist(), y_train, label_names, multi_label, seed,
                      calib["text"].tolist() if use_calib else None, y_cal if use_calib else None)
    train_seconds = time.perf_counter() - t0

    calibrator = Calibrator.fit(model.predict_proba(calib["text"].tolist()), y_cal, multi_label) if use_calib else Calibrator()
    y_gold = table.targets(gold)
    P_raw = model.predict_proba(gold["text"].tolist()) if len(gold) else np.zeros((0, len(label_names)))
    P_gold = calibrator(P_raw)
    metrics = {
        "gold": evaluate(P_gold, y_gold, label_names, multi_label),
        "gold_uncalibrated": evaluate(P_raw, y_gold, label_names, multi_label),
        "gold_ci": {m: bootstrap_ci(P_gold, y_gold, m, multi_label, n_resamples=n_resamples, seed=0) for m in ("accuracy", "macro_f1")},
        "train_seconds": train_seconds,
    }
    counts = (np.bincount(y_train, minlength=len(label_names)) if not multi_label else y_train.sum(0)).tolist()
    rnd = int(df["round"].max()) if len(df) and df["round"].notna().any() else 0
    info = {
        "n_labels": len(df), "n_train": len(train_rows), "n_gold": len(gold), "n_calib": len(calib) if use_calib else 0,
        "round": rnd, "seed": seed, "skipped": table.skipped, "train_counts": dict(zip(label_names, map(int, counts))),
        "train_seconds": round(train_seconds, 2),
    }
    config = {
        "backend": backend, "params": dataclasses.asdict(p), "labels": label_names, "multi_label": multi_label,
        "seed": seed, "split": {"path": str(split_path or project_dir / SPLIT_FILE), "seed": split_seed,
        "gold_fraction": gold_fraction, "calib_fraction": calib_fraction, "min_calibration": min_calibration},
        "min_per_class": min_per_class, "force": force, "labels_path": str(labels_path),
    }
    registry = Registry(runs_dir or default_root(project_dir))
    run = registry.save(model, labels=label_names, multi_label=multi_label, backend=backend, config=config,
                        data_fingerprint=table.fingerprint(), metrics=metrics, calibrator=calibrator, info=info,
                        make_current=make_current)
    run._model = model
    append_history(registry.history_path, {
        "run_id": run.run_id, "created_at": run.info["created_at"], "round": rnd, "n_labels": len(df),
        "n_gold": len(gold), "backend": backend,
        "metrics": {k: metrics["gold"].get(k) for k in ("accuracy", "macro_f1", "micro_f1", "ece")},
    })
    return run
