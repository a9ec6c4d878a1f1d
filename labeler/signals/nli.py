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
dynamic quantization to the Linear layers (CPU only), and then scores again in fp32 every text int8 leaves
near a tie (``rescore_below``, default 0.1): only the contending pairs, the labels within that gap of the
text's top probability (multi-label: within half of it of 0.5), are run again, and the text's probabilities
are recomputed with their fp32 logits: int8 alone changes some of a trained NLI model's labels, the re-score
keeps them (how many, and the speed of each way: BENCHMARKS.md, "NLI speed options"). ``rescore_below: 0`` keeps
int8's labels as they are.

``candidates: {from: <signal name>, k: 10, rest: scaled | zero}`` scores only each text's top-k labels of
another (cheaper) signal, for long label sets: see ``labeler.signals.cascade``. The cascade keeps each
pair's logits on disk (``<cache_dir>/nli_pairs/``, keyed by text, hypothesis and model), so a change of the
candidate signal that keeps the candidates (a refitted embedding temperature) re-scores no pair.
``pairs_scored`` counts the (text, label) pairs this signal has run through the model.
"""

from __future__ import annotations

import inspect
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field, model_serializer, model_validator

from labeler.errors import LabelerError
from labeler.signals.base import (
    ModelSignal,
    SignalParams,
    hub_unreachable_message,
    model_revision,
    quantize_int8,
    softmax,
    stable_hash,
    text_key,
)
from labeler.signals.cascade import CandidateParams, CascadeMixin


DEFAULT_RESCORE_BELOW = 0.1  # chosen on a trained NLI model (BENCHMARKS.md, "NLI speed options")


class NLIParams(SignalParams):
    model: str
    hypothesis_template: str = "This example is {}."
    use_descriptions: bool = False
    batch_size: int = Field(default=16, ge=1)
    device: str = "auto"
    max_length: int | None = Field(default=None, ge=8)
    quantize: bool = False
    rescore_below: float | None = Field(default=None, ge=0, le=1)
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    candidates: CandidateParams | None = None

    @model_validator(mode="after")
    def _rescore_needs_quantize(self):
        if self.rescore_below is not None and not self.quantize:
            raise ValueError("rescore_below re-scores int8's near-ties in fp32: it needs quantize: true")
        return self

    @property
    def rescore_gap(self) -> float:
        """The near-tie gap below which an int8 score is redone in fp32 (0: never)."""
        if not self.quantize:
            return 0.0
        return DEFAULT_RESCORE_BELOW if self.rescore_below is None else self.rescore_below

    @model_serializer(mode="wrap")
    def _omit_unset_candidates(self, handler):
        data = handler(self)
        if data.get("candidates", 0) is None:  # keeps the fingerprints of configs without a cascade unchanged
            del data["candidates"]
        if data.get("rescore_below", 0) is None:  # likewise without int8; with it, the gap in effect
            if self.quantize:
                data["rescore_below"] = DEFAULT_RESCORE_BELOW
            else:
                del data["rescore_below"]
        return data


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


def contenders(probs: np.ndarray, gap: float, multi_label: bool) -> np.ndarray:
    """``(N, K)`` mask of the labels whose decision a small change of the probabilities could flip:
    single-label, the labels within ``gap`` of the text's top probability when there are two or more (a top-2
    gap below ``gap``); multi-label (or one label), the labels within ``gap / 2`` of 0.5."""
    probs = np.asarray(probs, dtype=np.float64)
    if gap <= 0 or probs.size == 0:
        return np.zeros(probs.shape, dtype=bool)
    if multi_label or probs.shape[1] == 1:
        return np.abs(probs - 0.5) < gap / 2
    close = probs > probs.max(axis=1, keepdims=True) - gap
    return close & (close.sum(axis=1, keepdims=True) > 1)


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


class NLISignal(CascadeMixin, ModelSignal):
    type_name: ClassVar[str] = "nli"
    Params: ClassVar[type[SignalParams]] = NLIParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        template = self.params.hypothesis_template
        if template.format("\x00") == template if "{}" in template else "{name}" not in template and "{description}" not in template:
            raise LabelerError(f"hypothesis_template {template!r} needs a {{}} where the label goes")
        self.hypotheses = [self._hypothesis(i.name, i.description) for i in self.label_infos]
        self.check_candidates()
        self.pairs_scored = 0
        self.texts_rescored = 0  # texts int8 left near a tie ...
        self.pairs_rescored = 0  # ... and their contending (text, label) pairs, scored again in fp32
        self._pair_cache = None

    def _hypothesis(self, name: str, description: str | None) -> str:
        template = self.params.hypothesis_template
        if "{name}" in template or "{description}" in template:
            return template.format(name=name, description=description or name)
        fill = description if (self.params.use_descriptions and description) else name
        return template.format(fill)

    def load(self, exact: bool = False):
        """(tokenizer, model); ``exact``: the fp32 model the int8 near-ties are re-scored with."""
        if exact:
            return load_nli(self.params.model, self.device)
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

    def logits(self, texts: Sequence[str], exact: bool = False) -> np.ndarray:
        """``(N, K, C)`` raw NLI logits for every (text, label) pair (``exact``: from the fp32 model)."""
        k = len(self.hypotheses)
        rows = np.repeat(np.arange(len(texts)), k)
        cols = np.tile(np.arange(k), len(texts))
        return self.pair_logits(texts, rows, cols, exact).reshape(len(texts), k, -1)

    def pair_logits(self, texts: Sequence[str], rows: Sequence[int], cols: Sequence[int],
                    exact: bool = False) -> np.ndarray:
        """``(P, C)`` raw NLI logits of the pairs ``(texts[rows[p]], label cols[p])`` (``exact``: fp32)."""
        import torch

        tok, net = self.load(exact)
        firsts = [texts[i] for i in rows]
        seconds = [self.hypotheses[j] for j in cols]
        n_classes = net.config.num_labels
        if not firsts:
            return np.zeros((0, n_classes), dtype=np.float32)
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
                self.pairs_scored += len(idx)
        return out

    def _pair_store(self):
        if self._pair_cache is None and self.cache_dir is not None:
            from labeler.signals.cache import KVStore

            p = self.params
            key = stable_hash([self._model_fingerprint(), p.max_length, p.quantize, p.dtype])
            self._pair_cache = KVStore(self.cache_dir / "nli_pairs" / f"{key}.sqlite", table="logits")
        return self._pair_cache

    def cached_pair_logits(self, texts: Sequence[str], rows: Sequence[int], cols: Sequence[int]) -> np.ndarray:
        """``pair_logits`` through the on-disk pair cache (when the signal has a ``cache_dir``)."""
        store = self._pair_store()
        if store is None:
            return self.pair_logits(texts, rows, cols)
        tkeys = [text_key(t) for t in texts]
        hkeys = [text_key(h)[:16] for h in self.hypotheses]
        keys = [f"{tkeys[i]}:{hkeys[j]}" for i, j in zip(rows, cols)]
        found = store.get_many(keys)
        todo: dict[str, tuple[int, int]] = {}
        for key, i, j in zip(keys, rows, cols):
            if key not in found and key not in todo:
                todo[key] = (int(i), int(j))
        if todo:
            pairs = list(todo.values())
            new = self.pair_logits(texts, [i for i, _ in pairs], [j for _, j in pairs])
            items = list(zip(todo, new))
            store.put_many(items)
            found.update(items)
        n_classes = len(next(iter(found.values()))) if found else 0
        return np.stack([found[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, n_classes), np.float32)

    def score_pairs(self, texts: Sequence[str], sets: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per text, the NLI probabilities over its label indices ``sets[i]`` (single-label: a softmax
        over that set, exactly as if they were the only labels; multi-label: per label)."""
        _, net = self.load()
        ent, contra = entailment_ids(net.config.label2id)
        rows = np.repeat(np.arange(len(texts)), [len(c) for c in sets])
        cols = np.concatenate([np.asarray(c, dtype=int) for c in sets]) if len(sets) else np.zeros(0, dtype=int)
        logits = self.cached_pair_logits(texts, rows, cols)
        bounds = list(zip(np.cumsum([0] + [len(c) for c in sets])[:-1], np.cumsum([len(c) for c in sets])))
        out = [nli_scores(logits[None, a:b], ent, contra, self.multi_label)[0] for a, b in bounds]
        gap = self.params.rescore_gap
        contending = np.concatenate([contenders(p[None], gap, self.multi_label)[0] for p in out] or [np.zeros(0, bool)])
        for i in self._rescore_contenders(texts, rows, cols, logits, contending):
            a, b = bounds[i]
            out[i] = nli_scores(logits[None, a:b], ent, contra, self.multi_label)[0]
        return out

    def _rescore_contenders(self, texts: Sequence[str], rows: np.ndarray, cols: np.ndarray, logits: np.ndarray,
                            contending: np.ndarray) -> np.ndarray:
        """int8 near-ties: the logits of the contending pairs (``contending``, a mask over the ``rows``/``cols``
        pairs) replaced in place by the fp32 model's. Returns the texts touched, whose scores need recomputing."""
        idx = np.flatnonzero(contending)
        if not len(idx):
            return idx
        logits[idx] = self.pair_logits(texts, rows[idx], cols[idx], exact=True)
        touched = np.unique(rows[idx])
        self.texts_rescored += len(touched)
        self.pairs_rescored += len(idx)
        return touched

    def _predict_full(self, texts: list[str]) -> np.ndarray:
        _, net = self.load()
        ent, contra = entailment_ids(net.config.label2id)
        logits = self.logits(texts)
        probs = nli_scores(logits, ent, contra, self.multi_label)
        n, k = probs.shape
        touched = self._rescore_contenders(texts, np.repeat(np.arange(n), k), np.tile(np.arange(k), n),
                                           logits.reshape(n * k, logits.shape[-1]),  # a view: written through
                                           contenders(probs, self.params.rescore_gap, self.multi_label).ravel())
        if len(touched):
            probs[touched] = nli_scores(logits[touched], ent, contra, self.multi_label)
        return probs

    def _predict(self, texts: list[str]) -> np.ndarray:
        if self.candidates is not None:
            return self.cascade_predict(texts)
        return self._predict_full(texts)
