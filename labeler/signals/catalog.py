"""Signal types by name, their parameter models, ``build_signal`` and ``build_signals`` (all of a config,
candidate cascades bound to their candidate signal).

>>> build_signal("keywords", "kw", ["spam", "ham"], False, {"keywords": {"spam": [r"\\bfree\\b"]}})
KeywordSignal(name='kw', labels=['spam', 'ham'], multi_label=False)
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from labeler.signals.base import Signal, SignalConfigError, parse_params
from labeler.signals.embedding import EmbeddingSignal
from labeler.signals.entities import EntitySignal
from labeler.signals.nli import NLISignal
from labeler.signals.rules import KeywordSignal
from labeler.signals.summarize import SummarizeSignal
from labeler.signals.templated import TemplatedSignal

SIGNAL_TYPES: dict[str, type[Signal]] = {
    cls.type_name: cls for cls in (EmbeddingSignal, NLISignal, KeywordSignal, EntitySignal, SummarizeSignal, TemplatedSignal)
}

try:  # the fine-tuned-run signal lives with the training code; register it when present
    from labeler.signals import finetuned as _finetuned
except ImportError:
    _finetuned = None
if _finetuned is not None:
    for _obj in vars(_finetuned).values():
        if isinstance(_obj, type) and issubclass(_obj, Signal) and _obj is not Signal and getattr(_obj, "type_name", ""):
            SIGNAL_TYPES.setdefault(_obj.type_name, _obj)


def signal_class(type_name: str) -> type[Signal]:
    try:
        return SIGNAL_TYPES[type_name]
    except KeyError:
        raise SignalConfigError(f"unknown signal type {type_name!r} (valid: {', '.join(sorted(SIGNAL_TYPES))})") from None


def validate_params(type_name: str, params: dict | None, multi_label: bool = False) -> dict:
    """Check a signal's params without loading anything; returns them with defaults filled in.

    Raises ``ValueError`` (a ``LabelerError``) naming unknown keys, bad values, the valid types, or a
    single-label-only type in a multi-label task.
    """
    cls = signal_class(type_name)
    if multi_label and getattr(cls, "single_label_only", False):
        raise SignalConfigError(f"type {type_name} is single-label only (one softmax over the labels) and "
                                f"task.multi_label is true: use type: embedding")
    parsed = parse_params(cls.Params, dict(params or {}), type_name)
    if type_name == "summarize":  # check the wrapped signal's params too
        validate_params(parsed.inner.type, parsed.inner.params)
    return parsed.model_dump(mode="json")


def build_signal(
    type: str,
    name: str,
    labels: Sequence[Any],
    multi_label: bool = False,
    params: dict | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Signal:
    """A ready signal (models load lazily, on first use). ``labels``: strings or objects with ``.name``
    and optional ``.description``. ``cache_dir``: where the embedding signal keeps text embeddings."""
    cls = signal_class(type)
    extra = {"build": build_signal} if getattr(cls, "needs_builder", False) else {}  # summarize wraps a signal
    return cls(name, labels, multi_label=multi_label, params=params or {}, cache_dir=cache_dir, **extra)


def _spec_fields(spec: Any) -> tuple[str, str, dict]:
    """(type, name, params) of a config ``SignalSpec``-like object or a dict; the name defaults to the type."""
    get = spec.get if isinstance(spec, dict) else (lambda key, default=None: getattr(spec, key, default))
    type_name = get("type")
    if not type_name:
        raise SignalConfigError(f"a signal spec needs a type, got {spec!r}")
    name = get("name") or type_name
    return str(type_name), str(name), dict(get("params") or {})


def _cascade_targets(signal: Signal) -> list[Signal]:
    """The signal itself and a wrapped inner signal (summarize), where they can take candidates."""
    out = [signal] + [getattr(signal, "inner", None)]
    return [s for s in out if s is not None and callable(getattr(s, "bind", None))]


def build_signals(
    specs: Sequence[Any],
    labels: Sequence[Any],
    multi_label: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> list[Signal]:
    """Every configured signal, built with ``build_signal``, then each candidate cascade
    (``candidates: {from: NAME}``) bound to the signal it names.

    ``specs``: the config's ``signals`` (objects with ``type``, ``name``, ``params``) or dicts with those
    keys. A duplicate name, a cascade naming a missing signal or itself, or cascades naming each other in
    a cycle, is one ``LabelerError`` line.
    """
    signals: list[Signal] = []
    for spec in specs:
        type_name, name, params = _spec_fields(spec)
        signals.append(build_signal(type_name, name, labels, multi_label, params, cache_dir=cache_dir))
    by_name: dict[str, Signal] = {}
    for sig in signals:
        if sig.name in by_name:
            raise SignalConfigError(f"duplicate signal name {sig.name!r}; give each signal a distinct name")
        by_name[sig.name] = sig
    source_of: dict[str, str] = {}
    for sig in signals:
        for target in _cascade_targets(sig):
            target.bind(by_name)
            spec = getattr(target, "candidates", None)
            if spec is not None:
                source_of[sig.name] = spec.source
    for start in source_of:  # a cascade may read a cascade, but never in a circle
        seen, name = [start], source_of[start]
        while name in source_of:
            if name in seen:
                cycle = " -> ".join(seen[seen.index(name):] + [name])
                raise SignalConfigError(f"candidate cascades form a cycle: {cycle}")
            seen.append(name)
            name = source_of[name]
    return signals


def embedding_signal(signals: Sequence[Signal], labels: Sequence[Any], multi_label: bool = False,
                     cache_dir: str | os.PathLike | None = None) -> Signal:
    """The embedding signal among ``signals`` (the one whose vectors the queue model, "Find similar", diversity
    and logreg runs share), or the default one built with the same cache when none is configured."""
    for sig in signals:
        if getattr(sig, "type_name", "") == "embedding":
            return sig
    return build_signal("embedding", "embedding", labels, multi_label, {}, cache_dir=cache_dir)
