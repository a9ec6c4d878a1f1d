"""The project config: pydantic models for ``configs/*.yaml`` and ``load_config(path, overrides)``.

Every model forbids unknown keys, so a typo is an error. Every error is one ``LabelerError`` line that
names the file and the key as a dotted path (list items by index, the same spelling ``--set`` takes):

    configs/demo.yaml: unknown key 'queue.batch_sise' (did you mean 'batch_size'? valid keys: ...)
    configs/demo.yaml: queue.batch_size = -3: Input should be greater than 0

Paths in the file are relative to the file's folder. Defaults that depend on the file:
``argilla.dataset`` and ``project.name`` are the file's stem, ``project.dir`` is ``.labeler/<stem>``
in the file's folder.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from labeler.errors import LabelerError

DEFAULT_MAX_CHARS = 20_000


class _Model(BaseModel):
    # coerce_numbers_to_str: YAML reads `dataset: 2024` as an int; names may be numbers
    model_config = ConfigDict(extra="forbid", protected_namespaces=(), coerce_numbers_to_str=True)


# -- sections -----------------------------------------------------------------------------------------
class DataConfig(_Model):
    """Where the texts come from. ``format: auto`` picks by suffix (.csv, .jsonl/.json, .parquet) or a folder (hf)."""

    path: Path
    text_fields: list[str] = Field(default_factory=lambda: ["text"], min_length=1)
    id_field: str | None = None
    format: Literal["auto", "csv", "jsonl", "parquet", "hf"] = "auto"
    max_chars: int = Field(DEFAULT_MAX_CHARS, gt=0)
    label_field: str | None = None

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
    """A label: its name (the Argilla value, case-sensitive) and an optional one-sentence description."""

    name: str
    description: str | None = None

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
    """The label set. Single-label needs >= 2 labels, multi-label >= 1; ``threshold`` cuts multi-label P."""

    labels: list[LabelSpec]
    multi_label: bool = False
    threshold: float = Field(0.5, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _check_labels(self) -> "TaskConfig":
        names = [label.name for label in self.labels]
        need = 1 if self.multi_label else 2
        if len(names) < need:
            kind = "multi-label" if self.multi_label else "single-label"
            raise ValueError(f"a {kind} task needs at least {need} labels, got {len(names)}")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate label names: {', '.join(map(repr, dupes))}")
        return self


class SignalSpec(_Model):
    """One weak-label signal. ``params`` are checked by ``labeler.signals.registry`` when it is importable."""

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
    method: Literal["weighted_mean", "stacked"] = "weighted_mean"
    min_labels_for_stacking: int = Field(30, ge=2)
    cv_folds: int = Field(5, ge=2)


class QueueConfig(_Model):
    """The labelling policy's queue half (``labeler.policy.Policy`` reads it; ``simulate`` measures it).

    ``strategy`` defaults to ``margin`` (single-label) or ``threshold_distance`` (multi-label); ``random``
    draws uniformly. ``cold_start``: before any human label, the zero-shot ensemble's most confident record
    per predicted class opens the queue. ``queue_with``: once human labels exist, the queue ranks by the fast
    model (a logistic head on the cached embeddings, refitted every round: ``model``), by its mean with the
    ensemble (``join``), or by the ensemble alone (``ensemble``). ``coverage``: while some class is short of
    ``training.min_per_class`` labels, this share of each batch goes to records predicted to be in the short
    classes (most uncertain first). ``gold_share``: this share of each batch is drawn uniformly at random from
    the pool and kept out of training: the unbiased gold (and calibration) set ``compare`` reports on.
    """

    strategy: str | None = None
    batch_size: int = Field(50, gt=0)
    exploration: float = Field(0.0, ge=0.0, le=1.0)
    diversity: float = Field(0.0, ge=0.0, le=1.0)
    cold_start: bool = True
    queue_with: Literal["model", "join", "ensemble"] = "model"
    coverage: float = Field(0.5, ge=0.0, le=1.0)
    gold_share: float = Field(0.2, ge=0.0, lt=1.0)
    seed: int = 0

    @field_validator("strategy")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        from labeler.queue import check_strategy_name

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
    else 12; the suggestion is always shown and pre-selected).

    The API key never lives in YAML: ``api_key_env`` names the environment variable that holds it.
    """

    url: str | None = None
    api_key_env: str = "ARGILLA_API_KEY"
    workspace: str | None = None
    dataset: str | None = None
    candidates: int = Field(3, ge=0, le=20)
    label_order: Literal["config", "alphabetical", "frequency"] = "config"
    visible_labels: int | None = Field(None, ge=3)

    @model_validator(mode="before")
    @classmethod
    def _no_secret(cls, value: Any) -> Any:
        if isinstance(value, dict) and "api_key" in value:
            raise ValueError(
                "argilla.api_key is not allowed in a config file; put the key in the environment "
                "variable named by argilla.api_key_env (default ARGILLA_API_KEY)"
            )
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


class WeakLabelsConfig(_Model):
    """Weak labels as training rows: the ensemble's most confident ``fraction`` of each predicted class among
    unlabeled pool records, with sample weight ``weight``, until ``until`` human labels exist (null: always).
    ``fraction: 0`` turns them off. Used by every backend (``labeler train``/``round``), the fast queue model
    and ``labeler simulate``; never in gold or calibration."""

    fraction: float = Field(0.05, ge=0.0, le=1.0)
    weight: float = Field(0.3, gt=0.0, le=1.0)
    until: int | None = Field(None, ge=1)


class TrainingConfig(_Model):
    """Fine-tuning on the human labels (``labeler train`` / ``labeler round``) and how the run joins the loop.

    ``params`` go to the backend's parameter dataclass (``training.setfit_backend.SetFitParams`` for setfit and
    logreg, ``training.transformers_backend.TransformersParams``); an unknown key is reported by ``train``.
    ``mode``: ``join`` adds the current run to the signals with ensemble weights fitted on held-out (gold)
    labels; ``replace`` makes the run the only weighted signal once it beats the zero-shot ensemble on gold
    (paired-bootstrap CI of the difference above zero), else falls back to ``join`` and says why.
    ``runs_dir`` defaults to ``<project.dir>/runs``.
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

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from training.backends import BACKEND_NAMES

        if value not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {value!r}; valid: {', '.join(BACKEND_NAMES)}")
        return value


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
        from labeler.queue import strategy_for

        try:
            self.queue.strategy = strategy_for(self.task.multi_label, self.queue.strategy)
        except LabelerError as exc:
            raise ValueError(f"queue.strategy: {exc}") from None
        source = (info.context or {}).get("path")
        base = Path(source).resolve().parent if source else Path.cwd()
        stem = Path(source).stem if source else "labeler"
        self.data.path = _resolve(self.data.path, base)
        self.project.name = self.project.name or stem
        self.project.dir = _resolve(self.project.dir or Path(".labeler") / stem, base)
        self.argilla.dataset = self.argilla.dataset or stem
        self.training.runs_dir = _resolve(self.training.runs_dir or self.project.dir / "runs", base)
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


# -- loading ------------------------------------------------------------------------------------------
def load_config(path: str | Path, overrides: Iterable[str] = ()) -> Config:
    """Read, override and validate a YAML config.

    ``overrides`` are ``"dotted.key=value"`` strings (``queue.batch_size=64``, ``signals.0.weight=2``);
    the value is parsed as YAML (``true``, ``3``, ``null``, ``[a, b]``). Missing intermediate mappings are
    created; list items are addressed by index. Raises ``LabelerError`` (one line) on any problem.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelerError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise LabelerError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LabelerError(f"{path}: invalid YAML{where}: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise LabelerError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    overrides = list(overrides)
    for item in overrides:
        _apply_override(raw, item, path)
    return validate_config(raw, path, overrides)


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"a.b.0=value"`` -> (``["a", "b", "0"]``, YAML-parsed value)."""
    key, sep, text = item.partition("=")
    keys = key.strip().split(".")
    if not sep or not all(k.strip() for k in keys):
        raise LabelerError(f"bad override {item!r}: expected dotted.key=value, e.g. queue.batch_size=64")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text
    return [k.strip() for k in keys], value


def _apply_override(raw: dict, item: str, path: Path) -> None:
    keys, value = parse_override(item)
    node: Any = raw
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise LabelerError(
                    f"{path}: --set {item!r}: {where} is not an item of the {len(node)}-item list "
                    f"{'.'.join(keys[:depth]) or 'config'}"
                )
            key = int(key)
        elif not isinstance(node, dict):
            raise LabelerError(f"{path}: --set {item!r}: {'.'.join(keys[:depth])} is not a mapping or list")
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = [] if keys[depth + 1].isdigit() else {}
            node = node[key]


def validate_config(raw: dict, path: str | Path, overrides: Iterable[str] = ()) -> Config:
    """Validate an already-parsed config mapping as if read from ``path`` (paths resolve against its folder)."""
    path, overrides = Path(path), list(overrides)
    try:
        config = Config.model_validate(raw, context={"path": str(path)})
    except ValidationError as exc:
        problems = [_describe(err, Config) for err in exc.errors()]
        raise LabelerError(_one_line(path, problems, overrides)) from None
    _check_signal_params(config, path)
    return config


def _describe(err: dict, root: type[BaseModel]) -> str:
    """One pydantic error -> ``key = value: message`` (or ``unknown key 'x.y' (...)``)."""
    loc = [str(p) for p in err["loc"]]
    where = ".".join(loc)
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        valid = _valid_keys(root, loc[:-1])
        hint = difflib.get_close_matches(loc[-1], valid, n=1)
        did = f"did you mean {hint[0]!r}? " if hint else ""
        return f"unknown key {where!r} ({did}valid keys: {', '.join(valid)})"
    if err["type"] == "missing":
        return f"missing key {where!r}"
    if not loc:
        return msg
    value = err.get("input")
    if isinstance(value, (dict, list)):
        return f"{where}: {msg}"
    return f"{where} = {value!r}: {msg}"


def _valid_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    """The fields of the model found at ``loc`` (list indices and dict keys skipped)."""
    model: Any = root
    for part in loc:
        if part.isdigit():
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
    return list(getattr(model, "model_fields", {}))


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _one_line(path: Path, problems: list[str], overrides: list[str]) -> str:
    extra = f" (with --set {', '.join(overrides)})" if overrides else ""
    head = f"{path}{extra}: "
    if len(problems) == 1:
        return head + problems[0]
    return head + f"{len(problems)} problems: " + "; ".join(problems)


def _check_signal_params(config: Config, path: Path) -> None:
    """Ask ``labeler.signals.registry`` to check each signal's type and params (skipped if it is absent)."""
    try:
        from labeler.signals import registry
    except ModuleNotFoundError as exc:
        if exc.name in ("labeler.signals.registry", "labeler.signals"):
            return
        raise
    for i, spec in enumerate(config.signals):
        try:
            registry.validate_params(spec.type, dict(spec.params))
        except ValidationError as exc:
            problems = [_describe(err, BaseModel) for err in exc.errors()]
            raise LabelerError(f"{path}: signals.{i} ({spec.type}): bad params: {'; '.join(problems)}") from None
        except (LabelerError, ValueError, KeyError, TypeError) as exc:
            message = " ".join(str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc).split())
            raise LabelerError(f"{path}: signals.{i} ({spec.type}): {message}") from None


# -- fingerprint --------------------------------------------------------------------------------------
def config_fingerprint(config: Config, sections: Iterable[str] | None = None) -> str:
    """16-hex sha256 of the (chosen) sections' canonical JSON; equal configs give equal fingerprints.

    ``sections=None`` covers every section except ``project`` and ``argilla`` (and ``training.runs_dir``),
    which never change results.
    """
    dump = config.model_dump(mode="json")
    names = list(sections) if sections is not None else [k for k in dump if k not in ("project", "argilla")]
    unknown = [n for n in names if n not in dump]
    if unknown:
        raise ValueError(f"unknown config sections {unknown}; valid: {list(dump)}")
    chosen = {n: dump[n] for n in names}
    if "training" in chosen:  # where runs are stored never changes results
        chosen["training"] = {k: v for k, v in chosen["training"].items() if k != "runs_dir"}
    payload = json.dumps(chosen, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
