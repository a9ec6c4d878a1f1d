"""The Signal contract and small helpers shared by every signal.

A signal scores texts against a fixed label set and returns a probability matrix ``P`` of shape
``(N, K)`` with columns in ``signal.labels`` order:

* single-label signals: each row sums to 1;
* multi-label signals: independent per-label probabilities in ``[0, 1]``;
* a row of NaN means the signal abstains on that text (rules, entity lexicons).

``fingerprint()`` is the cache key of the predictions: it changes whenever the model weights, the
parameters or the label set change. Nothing in this module imports torch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from labeler.errors import LabelerError
from training.device import resolve_device  # noqa: F401 - the one device choice; importable from here too


class SignalConfigError(LabelerError, ValueError):
    """Bad signal type or params: a one-line ``LabelerError`` that is also a ``ValueError``."""


@dataclass(frozen=True)
class LabelInfo:
    """A label as signals see it: the name (the column and the Argilla value) and an optional description."""

    name: str
    description: str | None = None


def as_label_infos(labels: Iterable[Any]) -> list[LabelInfo]:
    """Normalise labels given as strings, ``LabelInfo``, dicts or any object with ``.name`` (and ``.description``)."""
    out: list[LabelInfo] = []
    for label in labels:
        if isinstance(label, LabelInfo):
            info = label
        elif isinstance(label, str):
            info = LabelInfo(label)
        elif isinstance(label, dict):
            info = LabelInfo(str(label["name"]), label.get("description"))
        elif hasattr(label, "name"):
            info = LabelInfo(str(label.name), getattr(label, "description", None))
        else:
            raise LabelerError(f"a label must be a string or have a .name, got {label!r}")
        if info.description is not None and not str(info.description).strip():
            info = LabelInfo(info.name, None)
        out.append(info)
    names = [info.name for info in out]
    if not names:
        raise LabelerError("a signal needs at least one label")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LabelerError(f"duplicate label names: {dupes}")
    return out


class SignalParams(BaseModel):
    """Base of every signal's ``Params``: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class Signal(ABC):
    """Base class of all signals. Subclasses set ``type_name`` and ``Params`` and implement ``_predict``."""

    type_name: ClassVar[str] = ""
    Params: ClassVar[type[SignalParams]] = SignalParams

    def __init__(
        self,
        name: str,
        labels: Sequence[Any],
        multi_label: bool = False,
        params: SignalParams | dict | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        self.name = str(name)
        self.label_infos = as_label_infos(labels)
        self.labels = [info.name for info in self.label_infos]
        self.multi_label = bool(multi_label)
        if params is None:
            params = {}
        if isinstance(params, dict):
            params = parse_params(self.Params, params, self.type_name)
        self.params = params
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    # -- the contract -------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Hex digest of everything the predictions depend on: type, model revision, params, labels."""
        payload = {
            "type": self.type_name,
            "model": self._model_fingerprint(),
            "params": self.params.model_dump(mode="json"),
            "labels": [[i.name, i.description] for i in self.label_infos],
            "multi_label": self.multi_label,
        }
        return stable_hash(payload)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, K)`` float64 probabilities in ``self.labels`` order (NaN row = abstain)."""
        texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        return np.asarray(self._predict(texts), dtype=np.float64)

    @abstractmethod
    def _predict(self, texts: list[str]) -> np.ndarray: ...

    def _model_fingerprint(self) -> str:
        """Model id + revision (or weights hash); empty for model-free signals."""
        return ""

    @property
    def max_tokens(self) -> int | None:
        """Longest input (in the model's tokens) the signal reads in full; ``None`` for model-free signals."""
        return None

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Approximate token counts (words x 1.3) unless a signal knows its tokenizer."""
        return [int(len(t.split()) * 1.3) + 1 for t in texts]

    def fits(self, texts: Sequence[str], limit: int) -> np.ndarray:
        """(N,) bool: which texts take at most ``limit`` tokens (``count_tokens``; a signal that knows a cheaper
        bound for its tokenizer skips counting the texts it settles)."""
        return np.array([n <= limit for n in self.count_tokens(texts)], dtype=bool)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, labels={self.labels!r}, multi_label={self.multi_label})"


def parse_params(params_cls: type[SignalParams], params: dict, type_name: str) -> SignalParams:
    """Validate a params dict; a bad key or value becomes one LabelerError line."""
    from pydantic import ValidationError

    try:
        return params_cls.model_validate(params)
    except ValidationError as exc:
        problems = []
        valid = sorted(params_cls.model_fields)
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "params"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {where!r} (valid: {', '.join(valid)})")
            else:
                problems.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
        raise SignalConfigError(f"bad params for signal type {type_name!r}: " + "; ".join(problems)) from None


# -- helpers ----------------------------------------------------------------------------------------
def stable_hash(obj: Any, n: int = 16) -> str:
    """Short sha256 of a JSON-serialisable object (sorted keys), stable across runs and machines."""
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:n]


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


_FILE_HASHES: dict[tuple[str, int, int], str] = {}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".ckpt", ".h5", ".msgpack")
_SNAPSHOT_RE = re.compile(r"[/\\]snapshots[/\\]([0-9a-f]{40})(?:[/\\]|$)")


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoised per (path, size, mtime) so repeated fingerprints are free."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FILE_HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        _FILE_HASHES[key] = h.hexdigest()
    return _FILE_HASHES[key]


def model_revision(model: str) -> str:
    """A string that changes when the model's weights change.

    * a local directory: the sha256 of its weight files (``*.safetensors``, ``*.bin``, ...), or of its
      config files when it has none (spaCy packages hash ``meta.json`` + ``config.cfg``);
    * a hub id: the snapshot revision (commit sha) found in the local Hugging Face cache, else
      ``"unresolved"`` (loading will then fail or download, and the next fingerprint will be exact).
    """
    path = Path(model).expanduser()
    if path.exists():
        if _SNAPSHOT_RE.search(str(path.resolve())):
            return "rev:" + _SNAPSHOT_RE.search(str(path.resolve())).group(1)
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES
        )
        if not files and path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.name in ("meta.json", "config.cfg", "config.json"))
        return "sha256:" + stable_hash([[p.relative_to(path).as_posix() if p != path else p.name, file_sha256(p)]
                                        for p in files], n=32)
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "config.json")
        if isinstance(cached, str):
            match = _SNAPSHOT_RE.search(cached)
            if match:
                return "rev:" + match.group(1)
    except Exception:  # noqa: BLE001 - an unusual id is just "unresolved"
        pass
    return "unresolved"


def hub_unreachable_message(kind: str, model: str, exc: BaseException) -> str:
    """One line for a model that could not be loaded (no traceback)."""
    path = Path(model).expanduser()
    if path.exists():
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot load {kind} model {model!r} from {path}: {first}"
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    why = "HF_HUB_OFFLINE is set" if offline else "the Hugging Face hub is unreachable or has no such model"
    return (
        f"cannot load {kind} model {model!r}: not found locally and {why} "
        f"(give a local path, or download it once with network access)"
    )


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def quantize_int8(model, device: str):
    """int8 dynamic quantization of every ``nn.Linear`` (per-channel weights); CPU only."""
    if device != "cpu":
        raise LabelerError("quantize: true (int8 dynamic quantization) runs on the CPU only; set device: cpu")
    import warnings

    import torch

    with warnings.catch_warnings():  # torch marks quantized tensors deprecated
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig})


def model_device(device: str, quantize: bool) -> str:
    """The device a model signal runs on: int8-quantized models stay on the CPU under ``device: auto``."""
    return "cpu" if quantize and device == "auto" else resolve_device(device)


class ModelSignal(Signal):
    """A signal backed by a model whose params carry ``device`` (auto | cpu | cuda | ...) and ``quantize``."""

    @functools.cached_property
    def device(self) -> str:
        return model_device(self.params.device, self.params.quantize)
