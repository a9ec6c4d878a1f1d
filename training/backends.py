"""The training backends, in one registry: name -> parameters class, fit, load.

Everything that names a backend (``training.train``, the run registry, the CLI's ``--backend`` choices, config
validation) reads ``BACKENDS`` / ``BACKEND_NAMES``. Importing this module is cheap: the parameter classes and
the fit/load functions import their libraries (torch, transformers, setfit) only when called.

``fit(texts, y, labels, multi_label, params, seed, sample_weight=None, val_texts=None, val_y=None, embed=None)``
returns a model with ``predict_proba(texts) -> (N, K)`` and ``save(path)``; ``load(model_dir, labels, multi_label,
config)`` reads one back. ``sample_weight`` (N,) weights the rows (weak labels); every backend honours it.
``embed``: the frozen body's vectors from a cache (``train_logreg``); backends that fine-tune their body ignore it.
``lexical``: a fitted vocabulary (``training.lexical``) whose rows a backend with a ``linear_head`` (logreg, setfit)
reads beside the embeddings; the transformers backend has no such head and ignores it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from training.errors import TrainingError
from training.setfit_backend import (BODY_FILE, FrozenBodyClassifier, SetFitClassifier, SetFitParams, train_logreg,
                                     train_setfit)
from training.transformers_backend import TransformersClassifier, TransformersParams, train_transformers


@dataclass(frozen=True)
class Backend:
    name: str
    params_loader: Callable[[], type]  # -> the parameter dataclass (imported lazily)
    fit: Callable[..., Any]
    load: Callable[..., Any]
    description: str = ""
    linear_head: bool = False  # its head is ``training.head``'s, on embeddings: it can read the pool's words too

    @property
    def params_cls(self) -> type:
        return self.params_loader()

    def make_params(self, params: dict | None = None, multi_label: bool = False):
        """The parameter dataclass from a plain dict; an unknown key or bad value is a ``TrainingError``."""
        cls = self.params_cls
        valid = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(params or {}) - valid)
        if bad:
            raise TrainingError(f"unknown {self.name} training parameter(s) {bad}; valid: {', '.join(sorted(valid))}")
        try:
            p = cls(**(params or {}))
            p.validate(multi_label)
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"bad {self.name} training parameters: {exc}") from None
        return p


def _setfit_params():
    return SetFitParams


def _transformers_params():
    return TransformersParams


def _fit_setfit(texts, y, labels, multi_label, params, seed, sample_weight=None, val_texts=None, val_y=None, embed=None,
                lexical=None):
    return train_setfit(texts, y, labels, multi_label, params, seed, sample_weight=sample_weight, lexical=lexical)


def _fit_logreg(texts, y, labels, multi_label, params, seed, sample_weight=None, val_texts=None, val_y=None, embed=None,
                lexical=None):
    return train_logreg(texts, y, labels, multi_label, params, seed, sample_weight=sample_weight, embed=embed,
                        lexical=lexical)


def _fit_transformers(texts, y, labels, multi_label, params, seed, sample_weight=None, val_texts=None, val_y=None,
                      embed=None, lexical=None):
    return train_transformers(texts, y, labels, multi_label, params, seed, val_texts=val_texts, val_y=val_y,
                              sample_weight=sample_weight)


def _setfit_loader(backend: str):
    def load(model_dir: Path, labels: list[str], multi_label: bool, config: dict | None = None):
        return SetFitClassifier.load(model_dir, labels, multi_label, backend,
                                     (config or {}).get("params", {}).get("long_texts", "start"))

    return load


def _load_logreg(model_dir: Path, labels: list[str], multi_label: bool, config: dict | None = None):
    """A run that references its frozen body (``body.json``), or one saved before with a copy of it."""
    if (Path(model_dir) / BODY_FILE).exists():
        return FrozenBodyClassifier.load(model_dir, labels, multi_label)
    return SetFitClassifier.load(model_dir, labels, multi_label, "logreg")


def _load_transformers(model_dir: Path, labels: list[str], multi_label: bool, config: dict | None = None):
    params = (config or {}).get("params", {})
    return TransformersClassifier.load(model_dir, labels, multi_label, int(params.get("max_length", 128)),
                                       params.get("long_texts", "start"))


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("setfit", _setfit_params, _fit_setfit, _setfit_loader("setfit"),
                "contrastive fine-tuning of a sentence-transformers body, then the balanced linear head", True),
        Backend("transformers", _transformers_params, _fit_transformers, _load_transformers,
                "AutoModelForSequenceClassification fine-tuned with the transformers Trainer"),
        Backend("logreg", _setfit_params, _fit_logreg, _load_logreg,
                "the balanced linear head on frozen sentence embeddings (fast)", True),
    )
}
BACKEND_NAMES: tuple[str, ...] = tuple(BACKENDS)


def get_backend(name: str, where: str = "") -> Backend:
    """The backend called ``name``; an unknown name is a one-line ``TrainingError`` (``where``: e.g. a run folder)."""
    try:
        return BACKENDS[name]
    except (KeyError, TypeError):
        place = f" in {where}" if where else ""
        raise TrainingError(f"unknown backend {name!r}{place}; choose from {', '.join(BACKEND_NAMES)}") from None
