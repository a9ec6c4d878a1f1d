"""Fine-tune ``AutoModelForSequenceClassification`` with the transformers ``Trainer``.

Using the stock ``Trainer`` keeps ``accelerate launch`` and multi-GPU working unchanged. Single-label runs use
``problem_type="single_label_classification"`` with class-balanced cross-entropy; multi-label runs use
``multi_label_classification`` (sigmoid + BCE), each label's positives weighted by its negatives-to-positives
ratio (``positive_weights``; unweighted, a 48-label head learned to predict nothing). ``sample_weight``
(down-weighted weak rows, for example) weights each example's loss through a ``weight`` column in the dataset.
With a validation split (single-label, by default), the trainer evaluates every ``eval_steps``, stops early
(``EarlyStoppingCallback``) and reloads the best checkpoint (``load_best_model_at_end``). fp16/bf16 only on a GPU.
A text past ``max_length`` is read whole (``long_texts``): its windows are training rows (its label, an equal share
of its weight) and its prediction is their probabilities' mean weighted by tokens (``token_windows``,
``window_mean``). The saved folder loads with ``pipeline("text-classification", model=path)``: ``id2label`` and
``label2id`` are set (the pipeline reads a text's start).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from training.body import DEFAULT_BODY, drop_printer, quiet, resolve_body
from training.device import resolve_device
from training.errors import TrainingError
from training.windows import LONG_TEXTS, MAX_WINDOWS


@dataclass
class TransformersParams:
    body: str = DEFAULT_BODY
    num_epochs: float = 10.0  # the step count follows the data: ceil(num_epochs * n / batch_size) ...
    min_steps: int = 100  # ... but at least this many (tiny label sets need several passes to move the head) ...
    max_steps: int = 1000  # ... and at most this many, so cost stays bounded as labels grow; -1 = no cap
    batch_size: int = 16
    learning_rate: float = 1e-4  # the pretrained body
    head_learning_rate: float | None = 3e-3  # the fresh classification head; None = learning_rate
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 128
    long_texts: str = "whole"  # a text past max_length: windows, trained on and averaged (training.windows) | "start"
    eval_steps: int | None = None  # default: a fifth of the steps
    patience: int = 3
    class_weight: str | None = "balanced"  # single-label: class weights; multi-label: each label's pos_weight
    # stop early on the validation split's loss: None = single-label only (multi-label, a few dozen validation
    # records picked checkpoints that predicted almost nothing: BENCHMARKS.md "transformers on multi-label data")
    early_stopping: bool | None = None

    def validate(self, multi_label: bool) -> None:
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(f"max_steps must be positive (or -1 for no cap), got {self.max_steps}")
        if self.num_epochs <= 0 or self.min_steps < 1 or self.batch_size < 1:
            raise ValueError("num_epochs, min_steps and batch_size must be positive")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be 'balanced' or null, got {self.class_weight!r}")
        if self.long_texts not in LONG_TEXTS:
            raise ValueError(f"long_texts {self.long_texts!r} is not one of {', '.join(LONG_TEXTS)}")


def train_steps(n_examples: int, params: TransformersParams) -> int:
    """Optimizer steps for ``n_examples``: ``num_epochs`` passes, clamped to ``[min_steps, max_steps]``."""
    steps = max(params.min_steps, math.ceil(params.num_epochs * n_examples / params.batch_size))
    return steps if params.max_steps == -1 else min(steps, params.max_steps)


def _precision_flags() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"fp16": False, "bf16": False}
    bf16 = torch.cuda.is_bf16_supported()
    return {"fp16": not bf16, "bf16": bf16}


class TransformersClassifier:
    """A fine-tuned sequence classifier with ``predict_proba(texts) -> (N, K)`` in label order."""

    backend = "transformers"

    def __init__(self, model, tokenizer, label_names: Sequence[str], multi_label: bool, max_length: int = 128,
                 long_texts: str = "start"):
        self.model, self.tokenizer = model, tokenizer
        self.labels, self.multi_label, self.max_length = list(label_names), multi_label, max_length
        self.long_texts = long_texts  # "whole": a long text's windows' probabilities, averaged; runs saved before: start

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), len(self.labels)))
        order = np.argsort([len(t) for t in texts])  # similar lengths per batch: less padding
        self.model.eval()
        dev = next(self.model.parameters()).device
        with torch.no_grad():
            for s in range(0, len(texts), batch_size):
                idx = order[s : s + batch_size]
                enc, owner = token_windows(self.tokenizer, [texts[i] for i in idx], self.max_length,
                                           self.long_texts == "whole")
                rows = []
                for w in range(0, len(owner), batch_size):  # a batch of long texts: many windows, batch_size at once
                    part = self.tokenizer.pad({k: v[w:w + batch_size] for k, v in enc.items()}, return_tensors="pt")
                    logits = self.model(**{k: v.to(dev) for k, v in part.items()}).logits.float()
                    rows.append((torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)).cpu())
                out[idx] = window_mean(torch.cat(rows).numpy().astype(np.float64), owner, enc, len(idx))
        return out

    def save(self, path: str | Path) -> Path:
        self.model.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path, label_names: Sequence[str], multi_label: bool, max_length: int = 128,
             long_texts: str = "start") -> "TransformersClassifier":
        quiet()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(str(path)).to(resolve_device())
        return cls(model, AutoTokenizer.from_pretrained(str(path)), label_names, multi_label, max_length, long_texts)


def token_windows(tokenizer, texts: list[str], max_length: int, whole: bool) -> tuple[dict, np.ndarray]:
    """(encoding, owner): each text's windows of at most ``max_length`` tokens, special tokens included, at most
    ``MAX_WINDOWS`` a text (``whole``), or its first window only; ``owner[r]``: the text of row ``r``."""
    if not whole:
        return dict(tokenizer(texts, truncation=True, max_length=max_length)), np.arange(len(texts))
    enc = tokenizer(texts, truncation=True, max_length=max_length, return_overflowing_tokens=True)
    owner = np.asarray(enc.pop("overflow_to_sample_mapping"), dtype=np.int64)
    keep = np.concatenate([np.flatnonzero(owner == i)[:MAX_WINDOWS] for i in range(len(texts))]).astype(np.int64) \
        if len(owner) > len(texts) else np.arange(len(owner))
    return {k: [v[r] for r in keep] for k, v in enc.items()}, owner[keep]


def window_mean(P: np.ndarray, owner: np.ndarray, enc: dict, n: int) -> np.ndarray:
    """(n, K): each text's window rows of ``P``, averaged weighted by their tokens (one window: its row)."""
    if len(owner) == n:
        return P
    size = np.array([len(ids) for ids in enc["input_ids"]], dtype=np.float64)
    out = np.zeros((n, P.shape[1]))
    np.add.at(out, owner, P * size[:, None])
    return out / np.bincount(owner, weights=size, minlength=n)[:, None]


def _dataset(tokenizer, texts, y, multi_label: bool, max_length: int, weight: np.ndarray | None = None,
             whole: bool = False):
    """The rows a run trains on: a text's windows (``token_windows``), each with its label and an equal share of
    its weight (a text weighs what it weighed, however many windows it has)."""
    from datasets import Dataset

    enc, owner = token_windows(tokenizer, list(texts), max_length, whole)
    labels = np.asarray(y, dtype=np.float32 if multi_label else np.int64)[owner].tolist()
    if len(owner) > len(texts):
        share = 1.0 / np.bincount(owner, minlength=len(texts))[owner]
        weight = share if weight is None else np.asarray(weight, dtype=np.float64)[owner] * share
    extra = {} if weight is None else {"weight": np.asarray(weight, dtype=np.float32).tolist()}
    return Dataset.from_dict({**enc, "labels": labels, **extra})


def positive_weights(Y: np.ndarray, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Multi-label "balanced": each label's ``pos_weight`` in the BCE, its (weighted) negatives over its positives,
    so a label's few positives weigh as much as its many negatives (what ``class_weight="balanced"`` does for each
    one-vs-rest head of ``training.head.LinearModel``); 1 for a label without positives or negatives."""
    Y = np.asarray(Y, dtype=np.float64)
    w = np.ones(len(Y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    pos, neg = w @ Y, w @ (1.0 - Y)
    return np.where((pos > 0) & (neg > 0), neg / np.maximum(pos, 1e-12), 1.0)


def class_weights(y: np.ndarray, n_labels: int, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Single-label "balanced" class weights, ``total / (K * class total)`` over the (weighted) class totals;
    a class without examples gets 0. With unit weights: the counts."""
    counts = np.bincount(np.asarray(y), weights=sample_weight, minlength=n_labels).astype(np.float64)
    return np.where(counts > 0, counts.sum() / (n_labels * np.maximum(counts, 1e-12)), 0.0)


def _trainer_class():
    import torch
    from transformers import Trainer

    class BalancedTrainer(Trainer):
        """``Trainer`` with optional per-class weights in the single-label cross-entropy and optional
        per-example weights (a ``weight`` column) in either loss.

        The loss is ``sum(w_i * c_i * l_i) / sum(w_i * c_i)`` (``c_i``: the example's class weight, 1 when
        none): with unit example weights exactly the class-weighted mean of ``cross_entropy(weight=...)``.
        """

        def __init__(self, *args, class_weights=None, multi_label=False, **kwargs):
            super().__init__(*args, **kwargs)
            self.class_weights, self.multi_label = class_weights, multi_label

        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            sw = inputs.pop("weight", None)
            if self.class_weights is None and sw is None:
                return super().compute_loss(model, inputs, return_outputs=return_outputs, **kwargs)
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits = outputs.logits.float()
            if self.multi_label:  # class weights: each label's positives weighed as much as its negatives
                pos = self.class_weights.to(logits.device) if self.class_weights is not None else None
                per = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, labels.float(), pos_weight=pos, reduction="none").mean(1)
                if sw is None:
                    return (per.mean(), outputs) if return_outputs else per.mean()
                c = torch.ones_like(per)
            elif sw is None:  # class weights alone: the stock weighted mean
                loss = torch.nn.functional.cross_entropy(logits, labels, weight=self.class_weights.to(logits.device))
                return (loss, outputs) if return_outputs else loss
            else:
                per = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
                c = self.class_weights.to(logits.device)[labels] if self.class_weights is not None else torch.ones_like(per)
            w = c * sw.to(logits.device).float()
            loss = (w * per).sum() / w.sum()
            return (loss, outputs) if return_outputs else loss

    return BalancedTrainer


def _optimizer(model, params: TransformersParams):
    """AdamW with the fresh head at ``head_learning_rate`` and the pretrained body at ``learning_rate``.

    A randomly initialised head over many classes (77 intents) barely moves at a body-sized learning rate within
    a few hundred steps; a body-sized rate for the body keeps the pretrained weights from being wrecked. Biases
    and LayerNorm weights get no weight decay, as in the ``Trainer``'s own optimizer.
    """
    import torch

    prefix = model.base_model_prefix + "."
    groups: dict[tuple[float, float], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        lr = params.learning_rate if name.startswith(prefix) else (params.head_learning_rate or params.learning_rate)
        decay = 0.0 if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name else params.weight_decay
        groups.setdefault((lr, decay), []).append(p)
    return torch.optim.AdamW([{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()])


def train_transformers(
    texts: Sequence[str],
    y: np.ndarray,
    label_names: Sequence[str],
    multi_label: bool = False,
    params: TransformersParams | None = None,
    seed: int = 0,
    val_texts: Sequence[str] | None = None,
    val_y: np.ndarray | None = None,
    output_dir: str | Path | None = None,
    sample_weight: np.ndarray | None = None,
) -> TransformersClassifier:
    """Fine-tune the body with a fresh classification head; early stopping when a validation split is given.

    ``sample_weight`` (N,) weights each training example's loss (and, single-label, the balanced class
    weights are computed from the weighted class totals); the validation loss is unweighted by example.
    """
    params = params or TransformersParams()
    params.validate(multi_label)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (len(texts),) or not np.isfinite(sample_weight).all() or (sample_weight <= 0).any():
            raise TrainingError(f"sample_weight must be {len(texts)} positive numbers, one per training text")
    quiet()
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        TrainingArguments,
        set_seed,
    )

    set_seed(seed)
    body = resolve_body(params.body)
    label_names = list(label_names)
    tokenizer = AutoTokenizer.from_pretrained(body)
    model = AutoModelForSequenceClassification.from_pretrained(
        body,
        num_labels=len(label_names),
        id2label=dict(enumerate(label_names)),
        label2id={lab: i for i, lab in enumerate(label_names)},
        problem_type="multi_label_classification" if multi_label else "single_label_classification",
    )
    whole = params.long_texts == "whole"
    train_ds = _dataset(tokenizer, texts, y, multi_label, params.max_length, sample_weight, whole)
    stop_early = (not multi_label) if params.early_stopping is None else params.early_stopping
    has_val = stop_early and val_texts is not None and len(val_texts) > 0
    eval_ds = _dataset(tokenizer, val_texts, val_y, multi_label, params.max_length, whole=whole) if has_val else None
    steps = train_steps(len(train_ds), params)
    eval_steps = params.eval_steps or max(1, steps // 5)
    weights = None
    if params.class_weight == "balanced":
        weights = torch.tensor(positive_weights(y, sample_weight) if multi_label else
                               class_weights(y, len(label_names), sample_weight), dtype=torch.float32)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=str(output_dir or tmp),
            max_steps=steps,
            per_device_train_batch_size=params.batch_size,
            per_device_eval_batch_size=64,
            learning_rate=params.learning_rate,
            weight_decay=params.weight_decay,
            warmup_steps=params.warmup_ratio,
            seed=seed,
            data_seed=seed,
            eval_strategy="steps" if has_val else "no",
            save_strategy="steps" if has_val else "no",
            eval_steps=eval_steps,
            save_steps=eval_steps,
            save_total_limit=1,
            load_best_model_at_end=has_val,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            use_cpu=resolve_device() == "cpu",
            remove_unused_columns="weight" not in train_ds.column_names,  # keep it for compute_loss
            **_precision_flags(),
        )
        trainer = _trainer_class()(
            model=model,
            args=args,
            train_dataset=train_ds,
            eval_dataset=eval_ds,
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            callbacks=[EarlyStoppingCallback(early_stopping_patience=params.patience)] if has_val else [],
            class_weights=weights,
            multi_label=multi_label,
            optimizers=(_optimizer(model, params), None),  # the trainer adds its warm-up + linear-decay schedule
        )
        drop_printer(trainer)
        trainer.train()
        model = trainer.model
    return TransformersClassifier(model, tokenizer, label_names, multi_label, params.max_length, params.long_texts)
