"""The current (or a named) fine-tuned run as a signal, so each round's model joins the next round's signals.

The signal's name is the run id, its fingerprint covers the run id and the run's data fingerprint, and
``predict_proba`` is the run's calibrated ``predict_proba`` (columns reordered to the configured label order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from labeler.errors import LabelerError
from labeler.signals.base import Signal, SignalParams
from training.body import resolve_body
from training.registry import load_run


class FinetunedParams(SignalParams):
    run: str = "current"  # a run id, or "current" (resolved once, when the signal is built)
    runs_dir: str = "runs"  # the registry root


class FinetunedSignal(Signal):
    type_name: ClassVar[str] = "finetuned"
    Params: ClassVar[type[SignalParams]] = FinetunedParams

    def __init__(
        self,
        name: str | None = None,
        labels: Sequence[Any] = (),
        multi_label: bool | None = None,
        params: SignalParams | dict | None = None,
        cache_dir=None,
        run=None,
    ) -> None:
        params = params if params is not None else {}
        p = params if isinstance(params, FinetunedParams) else FinetunedParams.model_validate(params)
        self.run = load_run(p.run, Path(p.runs_dir)) if run is None else run  # ``run``: loaded already
        labels = list(labels) or list(self.run.labels)
        if multi_label is None:
            multi_label = self.run.multi_label
        # the signal is named after the run it serves, whatever the config called it
        super().__init__(self.run.run_id, labels, multi_label, p, cache_dir)
        if sorted(self.labels) != sorted(self.run.labels):
            raise LabelerError(
                f"run {self.run.run_id} was trained on labels {self.run.labels}, not {self.labels}; train a new run"
            )
        if bool(multi_label) != self.run.multi_label:
            raise LabelerError(f"run {self.run.run_id} is {'multi' if self.run.multi_label else 'single'}-label; the config says otherwise")
        self._columns = [self.run.labels.index(name) for name in self.labels]
        self._embed = None  # the embedding signal's cached vectors standing in for the run's body (share_encoder)

    @classmethod
    def from_run(cls, run: str = "current", runs_dir: str | Path = "runs", labels: Sequence[str] = ()) -> "FinetunedSignal":
        return cls(labels=labels, params={"run": run, "runs_dir": str(runs_dir)})

    def _model_fingerprint(self) -> str:
        return f"{self.run.run_id}:{self.run.data_fingerprint}"

    @property
    def shares_encoder(self) -> bool:
        return self._embed is not None

    def share_encoder(self, embedding) -> bool:
        """Score with ``embedding``'s cached vectors instead of encoding every text again, when the run's encoder
        is that very model untouched (``cached_body``). Returns whether the encoder is shared."""
        frozen = self.run.frozen_body
        self._embed = None if frozen is None else cached_body(embedding, *frozen)
        return self._embed is not None

    def predict_shared(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(P, rest) for a run that ``shares_encoder``: P is the (N, K) matrix (``self.labels`` order) from the
        embedding signal's cached vectors and the run's head, NaN on the rows ``rest``: the texts past a token
        limit, which the run's body must encode itself (``predict_proba`` does; ``scoring.score_run`` sends only
        those through the prediction cache). ``vectors``: the embedding signal's for ``texts``, when the caller
        has read them already (``cached_body``)."""
        texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels))), np.zeros(0, dtype=np.int64)
        X = self._embed(texts, vectors)
        short = ~np.isnan(X).any(axis=1)
        rest = np.flatnonzero(~short)
        if not short.any():
            P = None
        elif len(rest):
            P = self.run.predict_proba_from_embeddings(X[short], [t for t, s in zip(texts, short) if s])
        else:
            P = self.run.predict_proba_from_embeddings(X, texts)
        if P is not None and self._columns != list(range(len(self._columns))):
            P = P[:, self._columns]
        if not len(rest):
            return P, rest
        out = np.full((len(texts), len(self.labels)), np.nan)
        if P is not None:
            out[short] = P
        return out, rest

    def _predict(self, texts: list[str]) -> np.ndarray:
        if self._embed is None or not texts:
            return self.run.predict_proba(texts)[:, self._columns]
        out, rest = self.predict_shared(texts)
        if len(rest):
            out[rest] = self.run.predict_proba([texts[i] for i in rest])[:, self._columns]
        return out


def cached_body(embedding, body: str | None, max_length: int | None):
    """``embed(texts) -> (N, dim)``: a frozen body's vectors read from ``embedding``'s cache, when the body is that
    very model untouched (a ``logreg`` run's or one about to be trained; no text template, no int8); None
    otherwise. A text past either model's token limit gets a NaN row, for the body to encode itself, so both
    truncate nothing. ``labeler.loop.runs`` trains logreg runs with it; ``share_encoder`` scores with it.
    ``embed(texts, vectors)``: ``vectors`` are ``embedding.encode(texts)``, read already by the caller."""
    p = getattr(embedding, "params", None)
    if p is None or p.quantize or p.text_template != "{text}" or resolve_body(body) != str(embedding.model_path):
        return None
    limit = min(n for n in (max_length, embedding.max_tokens) if n)

    def embed(texts, vectors: np.ndarray | None = None) -> np.ndarray:
        texts = list(texts)
        short = embedding.fits(texts, limit)
        if vectors is not None:  # float32, or float64 made from them (the same values)
            X = np.asarray(vectors)
            if not short.all():
                X = X.copy()
                X[~short] = np.nan
            return X
        if not short.any():
            return np.full((len(texts), embedding.dim), np.nan, dtype=np.float32)
        V = embedding.encode([t for t, s in zip(texts, short) if s])  # its width: no model loaded to ask for it
        X = np.full((len(texts), V.shape[1]), np.nan, dtype=np.float32)
        X[short] = V
        return X

    return embed
