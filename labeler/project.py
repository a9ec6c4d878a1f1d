"""One project's folder: every path and small state file, in one place.

A project is one config's state, ``config.project.dir`` (default ``.labeler/<config stem>`` beside the config):

- ``pool.parquet``, ``rejects.jsonl``   the usable records and what could not be used (``labeler.data``)
- ``cache/``                            per-signal prediction caches and text embeddings (``signals.cache``)
- ``scores.npz``                        ids, every signal's matrix, the ensemble, the queue model (``Scores``)
- ``queue_model.joblib``                the fast queue model (logistic head on the cached embeddings)
- ``labels.parquet``, ``responses.parquet``  human answers (``labeler.argilla.pull``)
- ``state.json``                        the round counter
- ``splits.json``                       gold / calibration / train membership (``training.splits``)
- ``runs/``                             the run registry (``training.runs_dir`` may move it)
- ``reports/``, ``predictions/``, ``simulate/``  compare reports, prediction logs, simulation files

Other modules ask a ``Project`` for these paths, except ``labeler.data.load``, which names and writes ``pool.parquet`` and
``rejects.jsonl`` into ``config.project.dir`` itself (the data layer sits below the project).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from labeler.errors import LabelerError
from labeler.data.label_checks import rename
from labeler.data.records import Pool
from labeler.loop.pool_matrices import Scores
from labeler.quality.label_errors import apply_reviews

POOL_FILE = "pool.parquet"
REJECTS_FILE = "rejects.jsonl"
SCORES_FILE = "scores.npz"
LABELS_FILE = "labels.parquet"
RESPONSES_FILE = "responses.parquet"
STATE_FILE = "state.json"
SPLIT_FILE = "splits.json"
QUEUE_MODEL_FILE = "queue_model.joblib"


def as_configured(labels, names: dict[str, str], multi_label: bool):
    """The label table in the config's terms: answers given under a label's former name (``task.labels[].was``)
    under its name now, and answers given while the task was of the other kind read as this one's: a single
    label is a one-label set; a one-label set is a single label (a set of several, or "None of these", stays no
    single label: training skips and counts it)."""
    if labels.empty or "label" not in labels or "labels" not in labels:
        return labels
    import pandas as pd

    sizes = labels["labels"].map(lambda vs: 1 if isinstance(vs, str) else len(vs) if hasattr(vs, "__len__") else 0)
    other_kind = (labels["label"].map(lambda v: isinstance(v, str)) & sizes.eq(0)) if multi_label else \
        (~labels["label"].map(lambda v: isinstance(v, str)) & sizes.eq(1))
    if not names and not other_kind.any():  # the common case, read on every command: nothing to change
        return labels

    out = labels.copy()
    out["label"] = pd.Series([rename(v, names) if isinstance(v, str) else None for v in out["label"]],
                             index=out.index, dtype=object)
    out["labels"] = [rename([vs] if isinstance(vs, str) else vs, names) if hasattr(vs, "__len__") else []
                     for vs in out["labels"]]  # None or NaN: no labels
    if multi_label:
        out["labels"] = [vs if len(vs) or not isinstance(v, str) else [v] for v, vs in zip(out["label"], out["labels"])]
    else:
        out["label"] = pd.Series([vs[0] if not isinstance(v, str) and len(vs) == 1 else v
                                  for v, vs in zip(out["label"], out["labels"])], index=out.index, dtype=object)
    return out


class Project:
    """The paths and small state files of the project a config describes."""

    def __init__(self, config):
        self.config = config
        self.dir = Path(config.project.dir)

    def ensure(self) -> "Project":
        self.dir.mkdir(parents=True, exist_ok=True)
        return self

    # -- paths --------------------------------------------------------------------------------------------
    @property
    def pool(self) -> Path:
        return self.dir / POOL_FILE

    @property
    def rejects(self) -> Path:
        return self.dir / REJECTS_FILE

    @property
    def cache(self) -> Path:
        return self.dir / "cache"

    @property
    def scores(self) -> Path:
        return self.dir / SCORES_FILE

    @property
    def queue_model(self) -> Path:
        return self.dir / QUEUE_MODEL_FILE

    @property
    def labels(self) -> Path:
        return self.dir / LABELS_FILE

    @property
    def responses(self) -> Path:
        return self.dir / RESPONSES_FILE

    @property
    def state(self) -> Path:
        return self.dir / STATE_FILE

    @property
    def splits(self) -> Path:
        return self.dir / SPLIT_FILE

    @property
    def runs(self) -> Path:
        return Path(self.config.training.runs_dir or self.dir / "runs")

    @property
    def reports(self) -> Path:
        return self.dir / "reports"

    @property
    def predictions(self) -> Path:
        return self.dir / "predictions"

    @property
    def simulate(self) -> Path:
        return self.dir / "simulate"

    # -- small state --------------------------------------------------------------------------------------
    def pool_ids(self) -> list[str] | None:
        """The pool's ids as last read (None before ``bootstrap``)."""
        return Pool.ids_of(self.pool) if self.pool.exists() else None

    def read_state(self) -> dict:
        return json.loads(self.state.read_text()) if self.state.exists() else {"round": 0}

    def write_state(self, state: dict) -> None:
        self.ensure()
        tmp = self.state.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state)

    @property
    def round(self) -> int:
        return int(self.read_state()["round"])

    def load_labels(self, reviewed: bool = True, path: Path | None = None):
        """The pulled label table (pandas), or None before the first pull; with ``reviewed``, the second
        review's verdicts laid over it (``labeler.quality.label_errors.apply_reviews``: corrected labels, ambiguous records
        no longer "submitted"); in the config's terms (``as_configured``). ``path``: a snapshot of the table to read
        instead (``labeler watch``'s background fine-tune)."""
        path = self.labels if path is None else Path(path)
        if not path.exists():
            return None
        import pandas as pd

        labels = pd.read_parquet(path)
        labels = labels if not reviewed else apply_reviews(self, labels)
        return as_configured(labels, self.config.task.renamed, self.config.task.multi_label)

    def require_labels(self) -> Path:
        if not self.labels.exists():
            raise LabelerError(f"no human labels yet at {self.labels}; review records in Argilla, then run "
                               "`labeler pull`")
        return self.labels

    def load_scores(self):
        """The pool's matrices; a one-line error when they were scored for other labels than the config's."""
        scores = Scores.load(self.scores)
        if not scores.fits(self.config.label_names):
            raise LabelerError(f"{self.scores} was scored for other labels than the config's (they changed since); "
                               "run `labeler bootstrap` (or `labeler round`) to score the pool again")
        return scores

    def fitting_scores(self):
        """The pool's matrices, or None before ``bootstrap`` and once the labels changed since it ran (for the
        readers that then do without them, as before the first ``bootstrap``)."""
        if not self.scores.exists():
            return None
        scores = Scores.load(self.scores)
        return scores if scores.fits(self.config.label_names) else None
