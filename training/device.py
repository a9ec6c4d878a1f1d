"""Where a model runs: the one device choice shared by training and the ``labeler`` signals.

Nothing here imports torch until ``resolve_device("auto")`` is called.
"""

from __future__ import annotations


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible (``mps`` on Apple silicon), else ``cpu``."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
