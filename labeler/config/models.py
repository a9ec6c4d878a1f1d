"""The project config's pydantic models, one per section of ``configs/*.yaml`` (loading: ``labeler.config.loading``).

Every model forbids unknown keys, so a typo is an error. Defaults that depend on the file: ``argilla.dataset`` and
``project.name`` are the file's stem, ``project.dir`` is ``.labeler/<stem>`` in the file's folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from labeler.errors import LabelerError
from labeler.loop.strategies import check_strategy_name, strategy_for
from training.backends import BACKEND_NAMES

DEFAULT_MAX_CHARS = 20_000


class _Model(BaseModel):
    # coerce_numbers_to_str: YAML reads `dataset: 2024` as an int; names may be numbers
    model_config = ConfigDict(extra="forbid", protected_namespaces=(), coerce_numbers_to_str=True)


# -- sections -----------------------------------------------------------------------------------------
class DataConfig(_Model):
    """Where the texts come from. ``format: auto`` picks by suffix (.csv, .jsonl/.json, .parquet, .xlsx, .txt: lines,
    .mbox) or by what a folder holds: a saved Hugging Face dataset (hf), data files of one format read as one table
    (tables: a ``file`` column added), else text files, one text per file (files: columns ``path``, ``text``,
    ``folder``)."""

    path: Path
    text_fields: list[str] = Field(default_factory=lambda: ["text"], min_length=1)
    id_field: str | None = None
    format: Literal["auto", "csv", "jsonl", "parquet", "hf", "files", "xlsx", "lines", "tables", "mbox"] = "auto"
    max_chars: int = Field(DEFAULT_MAX_CHARS, gt=0)
    label_field: str | None = None
    encoding: str = "utf-8"  # of CSV / JSON Lines files (e.g. latin-1, cp1252); Parquet and HF carry their own
    strip_html: bool = False  # texts hold HTML: read them as plain text (``labeler.data.html``)
    sheet: str | None = None  # an Excel workbook's sheet to read (None: the first)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (e.g. utf-8, latin-1, cp1252)") from None
        return value

    @field_validator("text_fields", mode="before")
    @classmethod
    def _one_field_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("text_fields")
    @classmethod
    def _distinct_fields(cls, value: list[str]) -> list[str]:
        value = [v.strip() for v in value]
        if any(not v for v in value):
            raise ValueError("text field names must not be empty")
        if len(set(value)) != len(value):
            raise ValueError("text fields must be distinct")
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> "DataConfig":
        for key in ("id_field", "label_field"):
            if getattr(self, key) in self.text_fields:
                raise ValueError(f"{key} {getattr(self, key)!r} is also a text field")
        return self


class LabelSpec(_Model):
    """A label: its name (the Argilla value, case-sensitive), an optional one-sentence description, and the names
    it had before (``was``: a label renamed mid-project keeps the answers given under its old name)."""

    name: str
    description: str | None = None
    was: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"label {value!r} was read as a YAML boolean; quote it (e.g. \"yes\")")
        if isinstance(value, (str, int, float)):
            return {"name": str(value)}
        return value

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("label names must not be empty")
        return value

    @field_validator("description")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class TaskConfig(_Model):
    """The label set. Single-label needs >= 2 labels, multi-label >= 1; ``threshold`` cuts multi-label P.

    ``thresholds`` (multi-label): ``fitted`` cuts the fast model's matrix per label where the labels say it
    should (each label's F1-optimal cut on out-of-fold predictions once 20 human training labels exist;
    ``threshold`` before); ``fixed`` uses ``threshold`` for every label."""

    labels: list[LabelSpec]
    multi_label: bool = False
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    thresholds: Literal["fitted", "fixed"] = "fitted"

    @model_validator(mode="after")
    def _check_labels(self) -> "TaskConfig":
        names = [label.name for label in self.labels]
        need = 1 if self.multi_label else 2
        if len(names) < need:  # one label ('spam' or not) is a tagging task, answered with the label or None of these
            hint = f" ({names[0]!r} or not is a tagging task: task.multi_label: true, or init --multi-label)" if names else ""
            raise ValueError(f"a {'multi' if self.multi_label else 'single'}-label task needs at least {need} "
                             f"label{'s' * (need > 1)}, got {len(names)}{hint}")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate label names: {', '.join(map(repr, dupes))}")
        former = [old for label in self.labels for old in label.was]
        taken = sorted({n for n in former if n in names or former.count(n) > 1})
        if taken:
            raise ValueError(f"a former name (was:) must belong to one label and be no label's name now: {', '.join(map(repr, taken))}")
        return self

    @property
    def renamed(self) -> dict[str, str]:
        """Former name -> the label's name now (``was``)."""
        return {old: label.name for label in self.labels for old in label.was}


class SignalSpec(_Model):
    """One weak-label signal. ``params`` are checked by ``labeler.signals.catalog`` when it is importable."""

    type: str = Field(min_length=1)
    name: str | None = None
    weight: float = Field(1.0, ge=0.0)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_name(self) -> "SignalSpec":
        if self.name is None or not self.name.strip():
            self.name = self.type
        return self


class EnsembleConfig(_Model):
    """How the signals combine into the suggestions. ``fast_model: join``: once human labels exist and no fine-tuned
    run is current, the fast queue model (a logistic head on the cached embeddings) joins the signals the way a run
    does (``labeler.loop.join``: weights fitted on random gold once ``training.min_gold`` exist, weight 1 before), so
    the suggestions improve with every refresh; ``off`` keeps them zero-shot."""

    method: Literal["weighted_mean", "stacked"] = "weighted_mean"
    min_labels_for_stacking: int = Field(30, ge=2)
    cv_folds: int = Field(5, ge=2)
    fast_model: Literal["join", "off"] = "join"


class QueueConfig(_Model):
    """The labelling policy's queue half (``labeler.loop.policy.Policy`` reads it; ``simulate`` measures it).

    ``strategy`` defaults to ``margin`` (single-label) or ``threshold_distance`` (multi-label); ``random`` draws
    uniformly. ``cold_start``: before any human label, the zero-shot ensemble's most confident record per predicted
    class opens the queue (``cold_start_by: confident``, the single-label default), a uniform random sample
    (``random``, the multi-label default: the zero-shot's most confident record per label is an easy positive that
    teaches little) or the records nearest the centres of a k-means clustering of the pool's embeddings
    (``representative``); ``warmup_per_label`` c: with ``random``, uniform picks go on until c x the number of labels
    records are asked (0: the first batch only). ``prior_shift`` m (multi-label): the queue model's per-label cuts
    move to each label's rate in the answered random reserve (Saerens et al. 2002; the queue's training rows are
    chosen, so their label rates are not the pool's), shrunk towards the training rate with m pseudo-records; 0 is
    off, the multi-label default is 50 (single-label ignores it). ``queue_with``: once human labels exist, the queue
    ranks by the fast model (a logistic head on the cached embeddings, refitted every round: ``model``), by its mean
    with the ensemble (``join``), or by the ensemble alone (``ensemble``). ``coverage``: while some class is short of
    ``training.min_per_class`` labels, this share of each batch goes to records predicted to be in the short classes
    (most uncertain first). ``gold_share``: this share of each batch is drawn uniformly at random from the pool and
    kept out of training: the unbiased gold (and calibration) set ``compare`` reports on. ``lexical`` w: the fast
    model and a logreg or SetFit run's head read the pool's words beside the embeddings (TF-IDF x w, from 4 per
    label and 100 in all; 0: off)."""

    strategy: str | None = None
    batch_size: int = Field(50, gt=0)
    exploration: float = Field(0.0, ge=0.0, le=1.0)
    diversity: float = Field(0.0, ge=0.0, le=1.0)
    cold_start: bool = True
    cold_start_by: Literal["confident", "representative", "random"] | None = None
    warmup_per_label: float | None = Field(None, ge=0.0)
    prior_shift: float | None = Field(None, ge=0.0)
    queue_with: Literal["model", "join", "ensemble"] = "model"
    coverage: float = Field(0.5, ge=0.0, le=1.0)
    gold_share: float = Field(0.2, ge=0.0, lt=1.0)
    lexical: float | None = Field(None, ge=0.0)
    seed: int = 0

    @field_validator("strategy")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        try:
            return check_strategy_name(value)
        except LabelerError as exc:
            raise ValueError(str(exc)) from None


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ArgillaConfig(_Model):
    """Where to review. ``url: null`` uses the local server and its credentials file.

    What annotators see: ``candidates`` top guesses (label, probability, which signal proposed it) in a
    Markdown field beside the text (0: off); label chips in ``label_order`` (as written, alphabetical, or by
    frequency in the labels so far); ``visible_labels`` chips before "+ N more" (null: all up to 20 labels,
    else 12; the suggestion is always shown and pre-selected). ``min_submitted``: submitted answers a record
    needs before it counts as done (Argilla's task distribution; 2 or more asks for overlap between annotators).
    ``cut_to``: a text longer than ``data.max_chars`` reaches annotators as its first ``cut_to`` characters and
    a marker (the pool and the model keep it whole).

    The API key never lives in YAML: ``api_key_env`` names the environment variable that holds it.
    """

    url: str | None = None
    api_key_env: str = "ARGILLA_API_KEY"
    workspace: str | None = None
    dataset: str | None = None
    candidates: int = Field(3, ge=0, le=20)
    label_order: Literal["config", "alphabetical", "frequency"] = "config"
    visible_labels: int | None = Field(None, ge=3)
    min_submitted: int = Field(1, ge=1, le=20)
    cut_to: int = Field(2000, ge=100)  # a text over data.max_chars reaches annotators as its first cut_to chars

    @model_validator(mode="before")
    @classmethod
    def _no_secret(cls, value: Any) -> Any:
        if isinstance(value, dict) and "api_key" in value:
            raise ValueError("argilla.api_key is not allowed in a config file; put the key in the environment "
                             "variable named by argilla.api_key_env (default ARGILLA_API_KEY)")
        return value

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError("must be the NAME of an environment variable (letters, digits, _), not the key itself")
        return value


# Defaults that differ by task kind (single-label, multi-label), filled in by ``Config`` when the key is unset.
# Multi-label: a random first batch and no weak labels (BENCHMARKS.md, "Multi-label": the zero-shot's most
# confident record per label is an easy positive, and its confident weak labels are mostly empty sets).
COLD_START_BY = {False: "confident", True: "random"}
WEAK_FRACTION = {False: 0.05, True: 0.0}
PRIOR_SHIFT = {False: 0.0, True: 50.0}  # issue 23: exact match and micro-F1 within 0.01 of random on 3 sets, 8 seeds
LEXICAL = {False: 0.0, True: 0.5}  # never below the embeddings alone on 3 multi-label sets; early dips single-label


class WeakLabelsConfig(_Model):
    """Weak labels as training rows: the ensemble's most confident ``fraction`` of each predicted class among
    unlabeled pool records, with sample weight ``weight``, until ``until`` human labels exist (null: always).
    ``fraction: 0`` turns them off. Used by every backend (``labeler train``/``round``), the fast queue model and
    ``labeler simulate``; never in gold or calibration."""

    fraction: float | None = Field(None, ge=0.0, le=1.0)  # unset: 0.05 single-label, 0 multi-label
    weight: float = Field(0.3, gt=0.0, le=1.0)
    until: int | None = Field(None, ge=1)


class TrainingConfig(_Model):
    """Fine-tuning on the human labels (``labeler train`` / ``labeler round``) and how the run joins the loop.

    ``params`` go to the backend's parameter dataclass (``training.setfit_backend.SetFitParams`` for setfit and
    logreg, ``training.transformers_backend.TransformersParams``); an unknown key is reported by ``train``. ``mode``:
    ``join`` adds the current run to the signals with ensemble weights fitted on held-out (gold) labels; ``replace``
    makes the run the only weighted signal once it beats the zero-shot ensemble on gold (the paired 95% CI of the
    accuracy difference above zero, as ``compare``'s), else falls back to ``join`` and says why. ``runs_dir`` defaults
    to ``<project.dir>/runs``. ``verdict_metric``: the metric ``compare``'s verdict decides on (accuracy, macro_f1,
    micro_f1; multi-label accuracy is exact match); unset, accuracy for single-label and micro_f1 for multi-label.
    ``retrain_after`` g: a SetFit or transformers run (scoring it encodes the pool again) is retrained by ``labeler
    round`` once the human training labels grew by g since it trained, ``labeler watch``'s background fine-tune of any
    backend likewise; a logreg run at every change.
    """

    backend: str = "setfit"
    min_per_class: int = Field(8, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    weak_labels: WeakLabelsConfig = Field(default_factory=lambda: WeakLabelsConfig())
    calib_share: float = Field(1 / 3, ge=0.0, lt=1.0)
    min_gold: int = Field(50, ge=1)
    mode: Literal["replace", "join"] = "join"
    runs_dir: Path | None = None
    verdict_metric: Literal["accuracy", "macro_f1", "micro_f1"] | None = None
    retrain_after: float = Field(0.25, ge=0.0)  # was watch.retrain_after (still read: config.loading.MOVED)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {value!r}; valid: {', '.join(BACKEND_NAMES)}")
        return value


class WatchConfig(_Model):
    """``labeler watch``: the continuous loop. Every ``refresh_every`` new submitted answers the fast model is
    refitted and the pending records' suggestions and priorities refreshed. ``mode``: ``auto`` listens for
    Argilla webhooks when the server is local (127.0.0.1 / localhost) and polls otherwise; ``webhook`` or
    ``polling`` force one. ``poll_seconds``: the polling interval (also the safety net under webhooks).
    ``fine_tune``: train the configured backend in a background process once the training threshold is met
    and the human training labels grew by ``training.retrain_after`` (a fraction) since the current run."""

    refresh_every: int = Field(10, ge=1)
    mode: Literal["auto", "webhook", "polling"] = "auto"
    poll_seconds: float = Field(5.0, gt=0.0)
    fine_tune: bool = True
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)


class ProjectConfig(_Model):
    """State folder (caches, pool, rejects, labels) and a display name."""

    dir: Path | None = None
    name: str | None = None


class Config(_Model):
    data: DataConfig
    task: TaskConfig
    signals: list[SignalSpec] = Field(default_factory=list)
    ensemble: EnsembleConfig = Field(default_factory=EnsembleConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    argilla: ArgillaConfig = Field(default_factory=ArgillaConfig)
    project: ProjectConfig = Field(default_factory=ProjectConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)

    @field_validator("signals")
    @classmethod
    def _unique_names(cls, value: list[SignalSpec]) -> list[SignalSpec]:
        seen: set[str] = set()
        for i, spec in enumerate(value):
            if spec.name in seen:
                raise ValueError(f"duplicate signal name {spec.name!r} at signals.{i}; give each signal a distinct name")
            seen.add(spec.name)
        return value

    @model_validator(mode="after")
    def _fill_defaults(self, info: ValidationInfo) -> "Config":
        try:
            self.queue.strategy = strategy_for(self.task.multi_label, self.queue.strategy)
        except LabelerError as exc:
            raise ValueError(f"queue.strategy: {exc}") from None
        ml = self.task.multi_label
        self.queue.cold_start_by = self.queue.cold_start_by or COLD_START_BY[ml]
        if self.queue.warmup_per_label and self.queue.cold_start_by != "random":
            raise ValueError("queue.warmup_per_label needs queue.cold_start_by: random")
        for section, key, default in ((self.queue, "prior_shift", PRIOR_SHIFT), (self.queue, "lexical", LEXICAL),
                                      (self.training.weak_labels, "fraction", WEAK_FRACTION)):
            setattr(section, key, default[ml] if getattr(section, key) is None else getattr(section, key))
        source = (info.context or {}).get("path")
        base = Path(source).resolve().parent if source else Path.cwd()
        stem = Path(source).stem if source else "labeler"
        self.data.path = _resolve(self.data.path, base)
        self.project.name = self.project.name or stem
        self.project.dir = _resolve(self.project.dir or Path(".labeler") / stem, base)
        self.argilla.dataset = self.argilla.dataset or stem
        if self.training.runs_dir is not None:  # unset: <project.dir>/runs, wherever project.dir later points
            self.training.runs_dir = _resolve(self.training.runs_dir, base)
        return self

    # -- conveniences -------------------------------------------------------------------------------
    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.task.labels]

    @property
    def label_descriptions(self) -> dict[str, str | None]:
        return {label.name: label.description for label in self.task.labels}


def _resolve(path: Path, base: Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else (base / path).resolve()
