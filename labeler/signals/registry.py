"""Signal types by name, their parameter models, and ``build_signal``.

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

SIGNAL_TYPES: dict[str, type[Signal]] = {
    cls.type_name: cls for cls in (EmbeddingSignal, NLISignal, KeywordSignal, EntitySignal, SummarizeSignal)
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


def validate_params(type_name: str, params: dict | None) -> dict:
    """Check a signal's params without loading anything; returns them with defaults filled in.

    Raises ``ValueError`` (a ``LabelerError``) naming unknown keys, bad values, or the valid types.
    """
    cls = signal_class(type_name)
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
    return cls(name, labels, multi_label=multi_label, params=params or {}, cache_dir=cache_dir)
