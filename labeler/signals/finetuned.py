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
    ) -> None:
        params = params if params is not None else {}
        p = params if isinstance(params, FinetunedParams) else FinetunedParams.model_validate(params)
        self.run = load_run(p.run, Path(p.runs_dir))
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

    @classmethod
    def from_run(cls, run: str = "current", runs_dir: str | Path = "runs", labels: Sequence[str] = ()) -> "FinetunedSignal":
        return cls(labels=labels, params={"run": run, "runs_dir": str(runs_dir)})

    def _model_fingerprint(self) -> str:
        return f"{self.run.run_id}:{self.run.data_fingerprint}"

    def _predict(self, texts: list[str]) -> np.ndarray:
        return self.run.predict_proba(texts)[:, self._columns]
