"""``Scores``: everything the queue and push need about the pool, rows aligned with ``ids``, saved as one file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labeler.errors import LabelerError


@dataclass
class Scores:
    """The pool's matrices. ``P``: the ensemble (the suggestions); ``Q``: what the queue ranks by (the fast
    queue model's matrix once human labels exist, ``None`` before: then ``P``)."""

    ids: list[str]
    P: np.ndarray  # (N, K) ensemble
    agreement: np.ndarray  # (N,)
    signals: dict[str, np.ndarray]  # name -> (N, K), NaN rows = abstain
    method: str = "weighted_mean"
    weights: dict[str, float] = field(default_factory=dict)  # the ensemble's weights (empty: all 1)
    run_id: str | None = None  # the fine-tuned run among ``signals``, if one joined
    note: str | None = None  # how the run joined (labeler.loop.join.join_plan)
    Q: np.ndarray | None = None  # (N, K) the queue model's matrix
    queue_note: str | None = None  # what the queue model was fitted on
    fast_model: str | None = None  # the fast model's agent name when it joined ``P`` (``ensemble.fast_model``)
    labels: list[str] | None = None  # the config's labels, in the matrices' column order (None: an older file)

    def fits(self, labels) -> bool:
        """Whether the matrices' columns are ``labels`` (the config's, in order): False once the labels changed
        since these were scored. An older file without its labels is judged by its width."""
        return list(self.labels) == list(labels) if self.labels is not None else self.P.shape[1] == len(labels)

    @property
    def queue_P(self) -> np.ndarray:
        return self.P if self.Q is None else self.Q

    def save(self, path: Path) -> None:
        arrays = {f"signal::{name}": mat for name, mat in self.signals.items()}
        if self.Q is not None:
            arrays["Q"] = self.Q
        meta = json.dumps({"weights": self.weights, "run_id": self.run_id, "note": self.note,
                           "queue_note": self.queue_note, "fast_model": self.fast_model, "labels": self.labels})
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # per process: `torchrun` runs several
        np.savez(tmp, ids=np.array(self.ids, dtype=object), P=self.P, agreement=self.agreement,
                 method=np.array(self.method), meta=np.array(meta), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Scores":
        if not path.exists():
            raise LabelerError(f"no scores at {path}; run `labeler bootstrap` first")
        with np.load(path, allow_pickle=True) as data:
            signals = {k.split("::", 1)[1]: data[k] for k in data.files if k.startswith("signal::")}
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
            return cls(ids=list(data["ids"]), P=data["P"], agreement=data["agreement"], signals=signals,
                       method=str(data["method"]), weights=meta.get("weights") or {}, run_id=meta.get("run_id"),
                       note=meta.get("note"), Q=data["Q"] if "Q" in data.files else None,
                       queue_note=meta.get("queue_note"), fast_model=meta.get("fast_model"), labels=meta.get("labels"))
