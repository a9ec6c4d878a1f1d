"""NLI zero-shot classification (the classic ``zero-shot-classification`` recipe), batched.

Every (text, label) pair becomes ``premise=text, hypothesis=hypothesis_template.format(label)``. The
numbers are those of transformers' ``pipeline("zero-shot-classification")``:

* single-label: softmax of the *entailment* logits across the labels of a text;
* multi-label (or a single label): per label, softmax over ``[contradiction, entailment]`` logits.

The entailment id is the first ``label2id`` entry whose name starts with ``entail``; the contradiction
id is ``0`` (``-1`` when entailment is ``0``), exactly as the pipeline reads them.

Unlike the pipeline (one text at a time, one pair per forward pass), all pairs of a call are tokenised
once, sorted by length and run in batches of ``batch_size`` with dynamic padding under
``torch.inference_mode`` on ``device`` (``auto``: CUDA when available). ``quantize: true`` applies int8
dynamic quantization to the Linear layers (CPU only): faster, labels nearly always identical.
"""

from __future__ import annotations

import inspect
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field

from labeler.errors import LabelerError
from labeler.signals.base import (
    ModelSignal,
    SignalParams,
    hub_unreachable_message,
    model_revision,
    quantize_int8,
    softmax,
)


class NLIParams(SignalParams):
    model: str
    hypothesis_template: str = "This example is {}."
    use_descriptions: bool = False
    batch_size: int = Field(default=16, ge=1)
    device: str = "auto"
    max_length: int | None = Field(default=None, ge=8)
    quantize: bool = False
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"


def entailment_ids(label2id: dict) -> tuple[int, int]:
    """(entailment id, contradiction id) the way the zero-shot pipeline finds them."""
    ent = -1
    for label, ind in label2id.items():
        if label.lower().startswith("entail"):
            ent = ind
            break
    if ent == -1:
        raise LabelerError(
            f"the model's config has no 'entailment' label in label2id {dict(label2id)}: it is not an NLI model"
        )
    return ent, (-1 if ent == 0 else 0)


def nli_scores(logits: np.ndarray, entailment_id: int, contradiction_id: int, multi_label: bool) -> np.ndarray:
    """``(N, K, C)`` pair logits -> ``(N, K)`` probabilities, as the zero-shot pipeline computes them."""
    logits = np.asarray(logits, dtype=np.float64)  # the pipeline's float32 exp overflows on large logits
    if multi_label or logits.shape[1] == 1:
        return softmax(logits[..., [contradiction_id, entailment_id]], axis=-1)[..., 1]
    return softmax(logits[..., entailment_id], axis=-1)


_LOADED: dict[tuple, tuple] = {}


def load_nli(model: str, device: str, quantize: bool = False, dtype: str = "float32"):
    """(tokenizer, model) from a local path or hub id, cached per process; one-line LabelerError on failure."""
    key = (model, device, quantize, dtype)
    if key in _LOADED:
        return _LOADED[key]
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
    except ImportError:
        raise LabelerError("the NLI signal needs torch and transformers: pip install labeler") from None
    try:
        tok = AutoTokenizer.from_pretrained(model)
        net = AutoModelForSequenceClassification.from_pretrained(model)
    except Exception as exc:  # noqa: BLE001 - any failure to load is one line for the user
        raise LabelerError(hub_unreachable_message("NLI", model, exc)) from None
    net.eval()
    if quantize:
        net = quantize_int8(net, device)
    elif dtype != "float32":
        net = net.to(getattr(torch, dtype))
    net.to(device)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    _LOADED[key] = (tok, net)
    return tok, net


class NLISignal(ModelSignal):
    type_name: ClassVar[str] = "nli"
    Params: ClassVar[type[SignalParams]] = NLIParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        template = self.params.hypothesis_template
        if template.format("\x00") == template if "{}" in template else "{name}" not in template and "{description}" not in template:
            raise LabelerError(f"hypothesis_template {template!r} needs a {{}} where the label goes")
        self.hypotheses = [self._hypothesis(i.name, i.description) for i in self.label_infos]

    def _hypothesis(self, name: str, description: str | None) -> str:
        template = self.params.hypothesis_template
        if "{name}" in template or "{description}" in template:
            return template.format(name=name, description=description or name)
        fill = description if (self.params.use_descriptions and description) else name
        return template.format(fill)

    def load(self):
        return load_nli(self.params.model, self.device, self.params.quantize, self.params.dtype)

    def _model_fingerprint(self) -> str:
        return f"{self.params.model}@{model_revision(self.params.model)}"

    def _max_length(self, tok, net) -> int:
        if self.params.max_length:
            return self.params.max_length
        limit = getattr(tok, "model_max_length", None)
        if limit and limit < 1_000_000:
            return int(limit)
        return int(getattr(net.config, "max_position_embeddings", 512))

    @property
    def max_tokens(self) -> int:
        tok, net = self.load()
        longest = max(len(tok(h, add_special_tokens=False)["input_ids"]) for h in self.hypotheses)
        return self._max_length(tok, net) - longest - 4

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        tok, _ = self.load()
        return [len(ids) for ids in tok(list(texts))["input_ids"]]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, K, C)`` raw NLI logits for every (text, label) pair."""
        import torch

        tok, net = self.load()
        k = len(self.hypotheses)
        firsts = [t for t in texts for _ in range(k)]
        seconds = self.hypotheses * len(texts)
        try:
            enc = tok(firsts, seconds, truncation="only_first", max_length=self._max_length(tok, net))
        except Exception as exc:  # noqa: BLE001 - the pipeline's fallback when a text cannot be truncated
            if "too short" not in str(exc):
                raise
            enc = tok(firsts, seconds, truncation=False)
        names = [n for n in tok.model_input_names if n in enc]
        features = [{n: enc[n][i] for n in names} for i in range(len(firsts))]
        order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
        use_cache = "use_cache" in inspect.signature(net.forward).parameters
        n_classes = net.config.num_labels
        out = np.empty((len(features), n_classes), dtype=np.float32)
        bs = self.params.batch_size
        with torch.inference_mode():
            for start in range(0, len(order), bs):
                idx = order[start : start + bs]
                batch = tok.pad([features[i] for i in idx], padding=True, return_tensors="pt")
                batch = {n: v.to(self.device) for n, v in batch.items()}
                if use_cache:
                    batch["use_cache"] = False
                out[idx] = net(**batch).logits.float().cpu().numpy()
        return out.reshape(len(texts), k, n_classes)

    def _predict(self, texts: list[str]) -> np.ndarray:
        _, net = self.load()
        ent, contra = entailment_ids(net.config.label2id)
        return nli_scores(self.logits(texts), ent, contra, self.multi_label)
