"""Weak-label signals: each scores texts into an (N, K) probability matrix (see ``base.Signal``).

Light to import: models (torch, transformers, sentence-transformers, spaCy) load on first use.
"""

from labeler.signals.base import LabelInfo, Signal, as_label_infos

__all__ = ["LabelInfo", "Signal", "as_label_infos", "build_signal", "validate_params", "score_cached", "SIGNAL_TYPES"]


def __getattr__(name: str):
    if name in ("build_signal", "validate_params", "SIGNAL_TYPES", "signal_class"):
        from labeler.signals import catalog

        return getattr(catalog, name)
    if name == "score_cached":
        from labeler.signals.cache import score_cached

        return score_cached
    raise AttributeError(name)
