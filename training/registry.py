"""The run registry: one folder per training run, and a ``CURRENT`` marker naming the run in use.

::

    <root>/                        default <project dir>/runs
      CURRENT                      the current run id (one line)
      history.jsonl                one line per run: round, n_labels, gold metrics (the learning curve)
      <run-id>/
        model/                     the model in its library's format (SetFit save_pretrained, transformers
                                   save_pretrained + tokenizer; lexical.pkl: a head's words' vocabulary)
        label_map.json             labels in column order, multi_label, backend
        config.json                the exact training configuration
        run.json                   run id, time, data fingerprint, split sizes, label counts
        calibration.json           the fitted calibration map (temperature / Platt / none)
        metrics.json               gold metrics with bootstrap CIs
        README.md                  model card

``load_run(run_id | "current")`` returns a ``Run`` whose ``predict_proba`` applies the calibration.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from training.backends import get_backend
from training.calibration import Calibrator
from training.errors import TrainingError
from training.evaluate import metric_name
from training.lexical import card_sentence

CURRENT = "CURRENT"
HISTORY = "history.jsonl"
_SECRET = re.compile(r"(key|token|secret|password|credential)", re.I)


def default_root(project_dir: str | Path = ".") -> Path:
    return Path(project_dir) / "runs"


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TrainingError(f"run file {path} is missing or unreadable ({exc})") from None


def scrub(config: dict) -> dict:
    """Drop any key that looks like a secret; a run folder may be shared."""
    return {k: (scrub(v) if isinstance(v, dict) else v) for k, v in config.items() if not _SECRET.search(str(k))}


@dataclass
class Run:
    """A registered run. The model loads on first ``predict_proba``."""

    run_id: str
    path: Path
    labels: list[str]
    multi_label: bool
    backend: str
    data_fingerprint: str
    info: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    calibrator: Calibrator = field(default_factory=Calibrator)
    _model: object = field(default=None, repr=False)

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def model(self):
        if self._model is None:
            if self.info.get(PRUNED) or not self.model_dir.exists():
                raise TrainingError(f"run {self.run_id}'s model was deleted (`labeler runs --prune`, "
                                    f"{self.info.get(PRUNED, 'by hand')}); its metrics stay: train a new run, or "
                                    "make one with a model current (`labeler runs --set-current`)")
            self._model = load_model(self.model_dir, self.backend, self.labels, self.multi_label, self.config)
        return self._model

    def predict_proba_raw(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.predict_proba(list(texts))

    @property
    def cuts(self) -> np.ndarray | None:
        """Multi-label: the (K,) per-label cuts the run was saved with (``training.train``), in label order; None for
        a single-label run or one saved before runs kept them."""
        saved = (self.info.get("cuts") or {}).get("values")
        return None if not self.multi_label or not saved else np.asarray(saved, dtype=np.float64)

    @property
    def at_least_one(self) -> bool:
        """Multi-label: the run predicts at least one label per text (its training labels never held "None of
        these": ``training.train.never_none``)."""
        return bool((self.info.get("cuts") or {}).get("at_least_one"))

    @property
    def frozen_body(self) -> tuple[str, int | None] | None:
        """(body, max_length) when the run's encoder is the untouched pretrained body (the ``logreg`` backend), so
        embeddings computed elsewhere with that body can stand in for its own; None for a fine-tuned body."""
        if self.backend != "logreg":
            return None
        params = self.config.get("params", {})
        return params.get("body"), params.get("max_length")

    def predict_proba_from_embeddings(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Calibrated (N, K) probabilities from the body's embeddings, ``frozen_body`` runs only (+ ``texts``: words)."""
        if self.frozen_body is None:
            raise TrainingError(f"run {self.run_id} ({self.backend}) fine-tuned its body: it needs the texts")
        return self.calibrator(self.model.predict_proba_from_embeddings(embeddings, texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated (N, K) probabilities in label order."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return self.calibrator(self.predict_proba_raw(texts))


def cuts_in_order(run, label_names: Sequence[str], default: float):
    """Where ``run``'s multi-label matrix is cut, in ``label_names`` order: its saved cuts (``Run.cuts``), or
    ``default`` for every label (no run, or one saved before runs kept cuts)."""
    cuts = getattr(run, "cuts", None)
    return default if cuts is None else cuts[[run.labels.index(n) for n in label_names]]


def load_model(model_dir: Path, backend: str, labels: list[str], multi_label: bool, config: dict | None = None):
    return get_backend(backend, str(model_dir.parent)).load(model_dir, labels, multi_label, config or {})


PRUNED = "model_deleted_at"  # run.json: when ``Registry.prune`` deleted the run's model (its record stays)
GOLD_KEYS = ("accuracy", "macro_f1", "micro_f1", "n")  # the gold metrics a run's summary carries (``list``)


class Registry:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def history_path(self) -> Path:
        return self.root / HISTORY

    def _new_id(self, backend: str) -> str:
        base = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{backend}"
        run_id, n = base, 1
        while (self.root / run_id).exists():
            n += 1
            run_id = f"{base}-{n}"
        return run_id

    def save(
        self,
        model,
        *,
        labels: Sequence[str],
        multi_label: bool,
        backend: str,
        config: dict,
        data_fingerprint: str,
        metrics: dict,
        calibrator: Calibrator | None = None,
        info: dict | None = None,
        make_current: bool = True,
    ) -> Run:
        """Write a new run folder (model, label map, config, metrics, model card); optionally make it current."""
        self.root.mkdir(parents=True, exist_ok=True)
        run_id = self._new_id(backend)
        path = self.root / run_id
        tmp = self.root / f".{run_id}.partial"
        tmp.mkdir()
        model.save(tmp / "model")
        calibrator = calibrator or Calibrator()
        info = {"run_id": run_id, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "backend": backend,
                "data_fingerprint": data_fingerprint, **(info or {})}
        config = scrub(config)
        _write_json(tmp / "label_map.json", {"labels": list(labels), "multi_label": multi_label, "backend": backend,
                                             "id2label": dict(enumerate(labels))})
        _write_json(tmp / "config.json", config)
        _write_json(tmp / "run.json", info)
        _write_json(tmp / "calibration.json", calibrator.to_dict())
        _write_json(tmp / "metrics.json", metrics)
        (tmp / "README.md").write_text(model_card(run_id, list(labels), multi_label, backend, config, info, metrics, calibrator))
        os.replace(tmp, path)
        if make_current:
            self.set_current(run_id)
        return self.load(run_id)

    def run_ids(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / "run.json").exists())

    def list(self) -> list[dict]:
        """One summary per run, oldest first: run id, time, backend, labels, gold accuracy, current or not."""
        current = self.current_id()
        out = []
        for rid in self.run_ids():
            info = _read_json(self.root / rid / "run.json")
            metrics = _read_json(self.root / rid / "metrics.json") if (self.root / rid / "metrics.json").exists() else {}
            gold = metrics.get("gold", {})
            kind = _read_json(self.root / rid / "label_map.json") if (self.root / rid / "label_map.json").exists() else {}
            out.append({**info, "current": rid == current, **{k: gold.get(k) for k in GOLD_KEYS},
                        "multi_label": kind.get("multi_label")})
        return sorted(out, key=lambda r: (r.get("created_at", ""), r["run_id"]))

    def prune(self, keep: int, protect=()) -> list[tuple[str, int]]:
        """Delete the model folders of old runs, all but: the current run, the ``keep`` newest, final fits (the model
        to ship) and ``protect`` (runs other records point at). A pruned run keeps its record (run.json, marked
        ``PRUNED``; metrics; model card), so ``labeler runs`` and the history still show it. Returns (run id, bytes
        freed) per run pruned, oldest first."""
        runs = self.list()  # oldest first
        kept = {r["run_id"] for r in runs[len(runs) - keep:]} if keep > 0 else set()
        kept |= set(protect) | {r["run_id"] for r in runs if r.get("current") or r.get("final_fit")}
        pruned = []
        for r in runs:
            model = self.root / r["run_id"] / "model"
            if r["run_id"] in kept or not model.exists():
                continue
            size = sum(f.stat().st_size for f in model.rglob("*") if f.is_file())
            info = _read_json(self.root / r["run_id"] / "run.json")  # marked first: a half-deleted model reads as gone
            _write_json(self.root / r["run_id"] / "run.json",
                        {**info, PRUNED: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            shutil.rmtree(model)
            pruned.append((r["run_id"], size))
        return pruned

    def current_id(self) -> str | None:
        marker = self.root / CURRENT
        if not marker.exists():
            return None
        rid = marker.read_text().strip()
        return rid or None

    def set_current(self, run_id: str) -> None:
        if not (self.root / run_id / "run.json").exists():
            raise TrainingError(f"no run {run_id!r} under {self.root}; `labeler runs` lists them")
        if _read_json(self.root / run_id / "run.json").get(PRUNED):
            raise TrainingError(f"run {run_id}'s model was deleted (`labeler runs --prune`): it cannot be current")
        tmp = self.root / (CURRENT + ".tmp")
        tmp.write_text(run_id + "\n")
        os.replace(tmp, self.root / CURRENT)

    def load(self, run_id: str = "current") -> Run:
        if run_id == "current":
            rid = self.current_id()
            if rid is None:
                raise TrainingError(f"no current run under {self.root}; train one with `labeler train`")
            run_id = rid
        path = self.root / run_id
        if not (path / "run.json").exists():
            raise TrainingError(f"no run {run_id!r} under {self.root}; `labeler runs` lists them")
        lm = _read_json(path / "label_map.json")
        info = _read_json(path / "run.json")
        return Run(
            run_id=run_id,
            path=path,
            labels=list(lm["labels"]),
            multi_label=bool(lm["multi_label"]),
            backend=lm["backend"],
            data_fingerprint=info.get("data_fingerprint", ""),
            info=info,
            metrics=_read_json(path / "metrics.json"),
            config=_read_json(path / "config.json"),
            calibrator=Calibrator.from_dict(_read_json(path / "calibration.json")),
        )


def list_runs(root: str | Path) -> list[dict]:
    return Registry(root).list()


def load_run(run_id: str = "current", root: str | Path = "runs") -> Run:
    return Registry(root).load(run_id)


def set_current(run_id: str, root: str | Path = "runs") -> None:
    Registry(root).set_current(run_id)


def fmt_metric(v) -> str:  # 3 decimals; "n/a" when missing or NaN
    return f"{v:.3f}" if isinstance(v, (int, float)) and v == v else "n/a"


def trained_on(info: dict) -> str:
    """``trained on N human labels`` (``+ M weak labels (weight w)`` when the run saw weak rows)."""
    text = f"trained on {info.get('n_train', 'n/a')} human labels"
    if info.get("n_weak"):
        text += f" + {info['n_weak']} weak labels (weight {info.get('weak_weight'):g})"
    return text


CARD_LIST = 20  # a card names every label inline up to this many; past it, the per-label table holds them


def model_card(run_id, labels, multi_label, backend, config, info, metrics, calibrator: Calibrator) -> str:
    """The run folder's README.md. Reads the same at 2 labels and at 150: labels, per-class counts and cuts are
    named inline up to ``CARD_LIST`` labels and summarised past it, with every label in the per-label table."""
    gold, ci = metrics.get("gold", {}), metrics.get("gold_ci", {})
    final = info.get("final_fit")
    counts, cuts = info.get("train_counts", {}), info.get("cuts")
    n_eval = info.get("n_gold", "n/a")
    many = len(labels) > CARD_LIST

    def metric(m: str) -> str:
        c = ci.get(m, {})
        return (f"{metric_name(m, multi_label)} {fmt_metric(gold.get(m))} (95% CI {fmt_metric(c.get('lo'))}–"
                f"{fmt_metric(c.get('hi'))})")

    if final:
        data = (f"- {trained_on(info)}, gold and calibration included (a final fit: every human label); no held-out "
                f"labels, so the metrics are cross-fitted over the {final.get('n_reserve', n_eval)} random reserve labels")
        heading = (f"## Metrics (cross-fitted: {final.get('folds')} folds; each random reserve record scored by a model "
                   f"that never saw it; n = {n_eval})")
        calibration = "- calibration: none (a final fit holds no labels out to calibrate on)"
    else:
        data = f"- {trained_on(info)}; calibration: {info.get('n_calib', 0)}; held-out gold: {n_eval}"
        heading = f"## Metrics (held-out gold labels, n = {n_eval})"
        calibration = (f"- calibration: {calibrator.kind}"
                       + (f", T = {calibrator.temperature:.3f}" if calibrator.kind == "temperature" else "")
                       + f" (fitted on {calibrator.n} held-out labels)")
    if counts and many:
        n = np.array(list(counts.values()))
        per_class = (f"min {n.min()}, median {np.median(n):g}, max {n.max()}; "
                     f"{int((n == 0).sum())} labels with none (every label in the table below)")
    else:
        per_class = ", ".join(f"{lab} {n}" for lab, n in counts.items()) or "n/a"
    cut_line = []
    if cuts:
        none = ('its most probable label, since no training text was "None of these"' if cuts.get("at_least_one")
                else '"None of these"')
        shown = f"{min(cuts['values']):.3f}..{max(cuts['values']):.3f} (each label's in the table below)"
        cut_line = [f"- per-label cuts (a label is predicted at or over its cut; none over: {none}): "
                    f"{cuts.get('note', '')}: {shown}"]
    table = ["## Per label", "", "| label | training labels |" + (" cut |" if cuts else ""),
             "|---|---:|" + ("---:|" if cuts else "")]
    table += [f"| {lab} | {counts.get(lab, 0)} |" + (f" {cuts['values'][i]:.3f} |" if cuts else "")
              for i, lab in enumerate(labels)]
    lines = [
        f"# {run_id}",
        "",
        f"A {'multi' if multi_label else 'single'}-label text classifier ({backend} backend, body "
        f"`{config.get('params', {}).get('body', 'n/a')}`) trained by labeler from human labels reviewed in Argilla"
        + (" and down-weighted weak labels (machine-made guesses on unlabelled records)." if info.get("n_weak") else ".")
        + card_sentence(info.get("lexical")),
        "",
        "## Intended use",
        "",
        "Classifying short texts of the same kind and source as the training data into "
        + (f"{len(labels)} labels (the per-label table below)" if many else ", ".join(labels)) + ". "
        "It is a labelling aid: its predictions are suggestions for human review and a weak-label signal for the "
        "next round, not decisions about people.",
        "",
        "## Data",
        "",
        data,
        f"- label rounds: up to {info.get('round', 'n/a')}; data fingerprint (sha256 of sorted id,label pairs): `{info.get('data_fingerprint', '')}`",
        f"- training labels per class: {per_class}",
        *([f"- \"None of these\" (no label): {info['train_none']} training texts"] if multi_label and "train_none" in info else []),
        "",
        heading,
        "",
        f"- {metric('accuracy')}",
        f"- {metric('macro_f1')}",
        f"- micro-F1 {fmt_metric(gold.get('micro_f1'))}; ECE {fmt_metric(gold.get('ece'))}"
        + ("" if final else f" (before calibration {fmt_metric(metrics.get('gold_uncalibrated', {}).get('ece'))})"),
        calibration,
        *cut_line,
        "",
        *table,
        "",
        "## Limitations",
        "",
        "- Trained on labels chosen mostly by uncertainty sampling, so the training set is not a random sample; the "
        "gold set is a uniform random sample of the pool, but small gold sets give wide confidence intervals (see above).",
        "- Labels absent from training get probability 0 (single-label) or an untrained score (multi-label).",
        "- Performance on text from another domain, language or time period is unknown.",
        "",
        "## Training configuration",
        "",
        "```json",
        json.dumps(config, indent=2, sort_keys=True, default=str),
        "```",
        "",
    ]
    return "\n".join(lines)
