"""Summarize-then-classify: long texts are shortened before an inner signal reads them.

Only texts longer than the budget (``max_tokens``, default: the inner signal's own limit, e.g. 256
word pieces for MiniLM, 1024 minus the hypothesis for BART-MNLI) are summarised; the others go to the
inner signal unchanged, so on short texts this signal equals its inner one.

* ``extractive`` (default, no extra model): split into sentences, embed them with the packaged MiniLM,
  rank them by cosine to the centroid of the text's sentence embeddings, keep the best ones while they
  fit the budget (counted with the inner signal's tokenizer), in their original order.
* ``abstractive``: a transformers summarization (seq2seq) model, ``model`` (local path or hub id),
  generating at most ``max_tokens`` new tokens with beam search off.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from labeler.errors import LabelerError
from labeler.signals.base import Signal, SignalParams, hub_unreachable_message, model_revision, resolve_device, stable_hash


class InnerSignal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class SummarizeParams(SignalParams):
    inner: InnerSignal
    max_tokens: int | None = Field(default=None, ge=8)
    method: Literal["extractive", "abstractive"] = "extractive"
    model: str | None = None
    embedding_model: str | None = None
    device: str = "auto"

    @model_validator(mode="after")
    def _abstractive_needs_model(self):
        if self.method == "abstractive" and not self.model:
            raise ValueError("method 'abstractive' needs a summarization model (model: <path or hub id>)")
        if self.inner.type == "summarize":
            raise ValueError("summarize cannot wrap another summarize signal")
        return self


_SENT_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n{2,}|\n(?=\s*[-*\u2022])")


def split_sentences(text: str) -> list[str]:
    """A light rule-based sentence splitter (end punctuation + capital, blank lines, bullets)."""
    parts = [p.strip() for p in _SENT_RE.split(text)]
    return [p for p in parts if p]


class SummarizeSignal(Signal):
    type_name: ClassVar[str] = "summarize"
    Params: ClassVar[type[SignalParams]] = SummarizeParams

    needs_builder: ClassVar[bool] = True  # the registry passes ``build`` (its build_signal) for the inner signal

    def __init__(self, *args, build=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if build is None:
            raise LabelerError("SummarizeSignal is built by labeler.signals.catalog.build_signal")
        self.inner = build(self.params.inner.type, self.name, self.label_infos, self.multi_label,
                           self.params.inner.params, cache_dir=self.cache_dir)
        self._encoder = None
        self._seq2seq = None

    def _model_fingerprint(self) -> str:
        parts = [self.inner.fingerprint()]
        if self.params.method == "abstractive":
            parts.append(f"{self.params.model}@{model_revision(self.params.model)}")
        else:
            parts.append(self._embedder()._model_fingerprint())
        return stable_hash(parts)

    @property
    def max_tokens(self) -> int | None:
        return self.inner.max_tokens

    def budget(self) -> int:
        if self.params.max_tokens:
            return self.params.max_tokens
        inner = self.inner.max_tokens
        if inner is None:
            raise LabelerError(
                f"signal {self.name!r}: inner signal type {self.params.inner.type!r} has no length limit; set max_tokens"
            )
        return int(inner)

    def _embedder(self):
        if self._encoder is None:
            from labeler.signals.embedding import EmbeddingSignal

            self._encoder = EmbeddingSignal(f"{self.name}/sentences", ["_"], params={
                "model": self.params.embedding_model, "device": self.params.device,
            }, cache_dir=None)
        return self._encoder

    # -- summaries -----------------------------------------------------------------------------------
    def summarize(self, texts: list[str]) -> list[str]:
        """Texts over the budget summarised, the others unchanged."""
        budget = self.budget()
        long_idx = np.flatnonzero(~self.inner.fits(texts, budget)).tolist()
        out = list(texts)
        if not long_idx:
            return out
        long_texts = [texts[i] for i in long_idx]
        if self.params.method == "abstractive":
            summaries = self.abstractive(long_texts, budget)
        else:
            summaries = [self.extractive(t, budget) for t in long_texts]
        for i, s in zip(long_idx, summaries):
            out[i] = s
        return out

    def extractive(self, text: str, budget: int) -> str:
        sentences = split_sentences(text)
        if len(sentences) <= 1:
            return text  # the inner signal truncates
        emb = self._embedder().encode(sentences)
        centroid = emb.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        order = np.argsort(-(emb @ centroid), kind="stable")
        sizes = self.inner.count_tokens(sentences)
        keep, used = [], 0
        for i in order:
            if used + sizes[i] <= budget or not keep:
                keep.append(int(i))
                used += sizes[i]
        return " ".join(sentences[i] for i in sorted(keep))

    def abstractive(self, texts: list[str], budget: int) -> list[str]:
        import torch

        tok, model, device = self._load_seq2seq()
        limit = getattr(tok, "model_max_length", 1024)
        limit = limit if limit and limit < 1_000_000 else 1024
        outs: list[str] = []
        with torch.inference_mode():
            for start in range(0, len(texts), 8):
                batch = tok(texts[start : start + 8], truncation=True, max_length=limit, padding=True,
                            return_tensors="pt").to(device)
                gen = model.generate(**batch, max_new_tokens=budget, num_beams=1, do_sample=False)
                outs.extend(s.strip() for s in tok.batch_decode(gen, skip_special_tokens=True))
        return outs

    def _load_seq2seq(self):
        if self._seq2seq is None:
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            device = resolve_device(self.params.device)
            try:
                tok = AutoTokenizer.from_pretrained(self.params.model)
                model = AutoModelForSeq2SeqLM.from_pretrained(self.params.model).eval().to(device)
            except Exception as exc:  # noqa: BLE001
                raise LabelerError(hub_unreachable_message("summarization", self.params.model, exc)) from None
            self._seq2seq = (tok, model, device)
        return self._seq2seq

    def _predict(self, texts: list[str]) -> np.ndarray:
        return self.inner.predict_proba(self.summarize(texts))
