"""SetFit: contrastive fine-tuning of a sentence-transformers body, then a class-balanced linear head.

Cost is bounded however many labels there are: ``max_steps`` caps the contrastive steps (and so the pairs
seen, ``max_steps * batch_size``); ``num_iterations`` (pairs per example, SetFit's pre-1.0 knob) can bound the
pair set instead. The head is ``training.head.LinearModel``: a logistic regression whose row weights are the
sample weights times the "balanced" class weights of the weighted class totals, so a small, skewed label set
does not collapse onto the majority class (with unit weights it equals sklearn's ``class_weight="balanced"``).
Multi-label uses ``multi_target_strategy``: one-vs-rest and multi-output both fit one balanced binary model
per label; classifier-chain chains them (``training.head.ChainModel``). The same seed gives the same model.

Label texts: ``label_texts`` (one text per label, in label order, e.g. SetFit's templated ``"This sentence is
{description}"``) adds each as one more training example of its label, body and head alike, weight 1.0 (an empty
text adds nothing; off by default, ``None``).

Weak labels: ``sample_weight`` weights the head's rows; SetFit's contrastive body step uses only the rows of
weight 1.0 (the human labels), since a pair of two down-weighted guesses is not a trustworthy signal.

The ``logreg`` backend is the same model with the contrastive step skipped: the balanced head (C=10) on
frozen embeddings (``FrozenBodyClassifier``: the head saved, the untouched body referenced by name, not copied),
a text past ``max_length`` read whole (``long_texts``, ``training.windows``; SetFit's contrastive step learns from
every window of a long text, its head reads their mean).

The pool's words: ``lexical`` (a fitted ``training.lexical.Lexical``) puts the texts' TF-IDF rows beside the
body's embeddings as the head's features, both backends; the run keeps the vocabulary (``lexical.pkl``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from training import lexical as words
from training.body import DEFAULT_BODY, drop_printer, load_body, quiet, resolve_body
from training.errors import TrainingError
from training.head import ChainModel, LinearModel, head_features, head_proba
from training.windows import LONG_TEXTS, encode_sentences, window_texts

STRATEGIES = ("one-vs-rest", "multi-output", "classifier-chain")
SAMPLING = ("oversampling", "undersampling", "unique")


@dataclass
class SetFitParams:
    body: str = DEFAULT_BODY
    max_steps: int = 48
    num_iterations: int | None = None
    batch_size: int = 16
    num_epochs: int = 1
    body_learning_rate: float = 2e-5
    warmup_proportion: float = 0.1
    max_length: int | None = 128
    long_texts: str = "whole"  # a text past max_length: every window, for the body and the head | "start"
    multi_target_strategy: str = "one-vs-rest"
    head_c: float = 10.0
    class_weight: str | None = "balanced"
    sampling_strategy: str = "oversampling"
    label_texts: list[str] | None = None
    self_pairs: bool = True  # False: no positive pair of a text with itself (see pairs_without_self)

    def validate(self, multi_label: bool) -> None:
        if multi_label and self.multi_target_strategy not in STRATEGIES:
            raise ValueError(f"multi_target_strategy {self.multi_target_strategy!r} is not one of {', '.join(STRATEGIES)}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(f"max_steps must be positive (or -1 for no cap), got {self.max_steps}")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be 'balanced' or null, got {self.class_weight!r}")
        for name, allowed in (("sampling_strategy", SAMPLING), ("long_texts", LONG_TEXTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} {getattr(self, name)!r} is not one of {', '.join(allowed)}")
        if self.label_texts is not None and (isinstance(self.label_texts, str)
                                             or not all(isinstance(t, str) for t in self.label_texts)):
            raise ValueError("label_texts must be a list of strings, one per label")


HEAD_MAX_ITER = 2000


def pairs_without_self(x, y, multilabel, num_iterations=None, sampling_strategy="oversampling", max_pairs=-1):
    """SetFit 1.2's ``ContrastiveDataset`` with no positive pair of a text with itself. SetFit draws pairs with
    replacement, so about a quarter of the positive pairs at 8 labels per class are (x, x), whose two embeddings
    differ only by dropout: they teach dropout invariance, not the classes. Without them the pairs of two
    different texts of a class fill those slots."""
    import setfit.sampler as sampler

    class NoSelfPairs(sampler.ContrastiveDataset):
        def generate_pairs(self) -> None:
            self._without_replacement(super().generate_pairs)

        def generate_multilabel_pairs(self) -> None:
            self._without_replacement(super().generate_multilabel_pairs)

        @staticmethod
        def _without_replacement(generate) -> None:
            original = sampler.shuffle_combinations  # the generators call the module's function by name
            sampler.shuffle_combinations = lambda items, replacement=True: original(items, replacement=False)
            try:
                generate()
            finally:
                sampler.shuffle_combinations = original

    return NoSelfPairs(x, y, multilabel, num_iterations, sampling_strategy, max_pairs=max_pairs)


def _trainer_class(self_pairs: bool):
    """SetFit's Trainer, or (``self_pairs=False``) one whose pairs come from ``pairs_without_self``."""
    from setfit import Trainer

    if self_pairs:
        return Trainer
    from datasets import Dataset
    from sentence_transformers.losses import CosineSimilarityLoss

    class NoSelfPairsTrainer(Trainer):
        def get_dataset(self, x, y, args, max_pairs=-1):
            if args.loss is not CosineSimilarityLoss:
                return super().get_dataset(x, y, args, max_pairs)
            pairs = pairs_without_self(x, y, self.model.multi_target_strategy, args.num_iterations,
                                       args.sampling_strategy, max_pairs)
            if not pairs.pos_pairs:  # every class a single text: only self-pairs are positive
                return super().get_dataset(x, y, args, max_pairs)
            return Dataset.from_list(list(pairs)), args.loss(self.model.model_body)

    return NoSelfPairsTrainer


def _head(multi_label: bool, params: SetFitParams, seed: int, n_labels: int) -> LinearModel | ChainModel:
    balanced = params.class_weight == "balanced"
    if multi_label and params.multi_target_strategy == "classifier-chain":
        return ChainModel(n_labels, params.head_c, seed, HEAD_MAX_ITER, balanced)
    return LinearModel(n_labels, multi_label, params.head_c, seed, HEAD_MAX_ITER, balanced)


def _weights(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w <= 0).any():
        raise TrainingError(f"sample_weight must be {n} positive numbers, one per training text")
    return w


def add_label_texts(texts: Sequence[str], y: np.ndarray, w: np.ndarray | None, label_texts: Sequence[str] | None,
                    n_labels: int, multi_label: bool) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """``texts``, ``y`` and ``w`` with one example per non-empty label text appended (label ``k`` for the
    k-th text; a one-hot row when multi-label; weight 1.0). ``None`` leaves them as they are."""
    if label_texts is None:
        return list(texts), np.asarray(y), w
    if len(label_texts) != n_labels:
        raise TrainingError(f"label_texts has {len(label_texts)} texts; expected one per label ({n_labels})")
    ks = [k for k, t in enumerate(label_texts) if t.strip()]
    extra = np.eye(n_labels, dtype=np.asarray(y).dtype)[ks] if multi_label else np.asarray(ks, dtype=np.asarray(y).dtype)
    y = np.concatenate([np.asarray(y).reshape((-1, n_labels) if multi_label else -1), extra])
    w = None if w is None else np.concatenate([w, np.ones(len(ks))])
    return list(texts) + [label_texts[k] for k in ks], y, w


class SetFitClassifier:
    """A trained SetFit model with ``predict_proba(texts) -> (N, K)`` in label order."""

    def __init__(self, model, label_names: Sequence[str], multi_label: bool, backend: str = "setfit",
                 long_texts: str = "start", lexical=None):
        self.model, self.long_texts = model, long_texts  # "whole": the head reads windows' means (training.windows)
        self.labels = list(label_names)
        self.multi_label = multi_label
        self.backend = backend
        self.lexical = lexical  # the vocabulary whose rows the head reads beside the embeddings (None: embeddings)

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if self.long_texts == "whole":
            return encode_sentences(self.model.model_body, texts, batch_size=batch_size,
                                    normalize_embeddings=self.model.normalize_embeddings)
        return self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=False)

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return self.predict_proba_from_embeddings(self.embed(texts, batch_size), texts)

    def predict_proba_from_embeddings(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """The head alone on (N, dim) embeddings this model's body would give (a ``logreg`` run's body is frozen:
        the embedding signal's cached vectors of the same model are those); ``texts`` too when it reads words."""
        return head_proba(self.model.model_head, head_features(self.lexical, embeddings, texts), len(self.labels),
                          self.multi_label)

    def save(self, path: str | Path) -> Path:
        """``SetFitModel.save_pretrained`` format: loadable by ``SetFitModel.from_pretrained(path)`` (the
        vocabulary, when the head reads words, beside it)."""
        self.model.save_pretrained(str(path))
        words.save(self.lexical, path)
        return Path(path)

    @classmethod
    def load(cls, path, label_names: Sequence[str], multi_label: bool, backend="setfit", long_texts="start"):
        quiet(setfit=True)
        from setfit import SetFitModel

        return cls(SetFitModel.from_pretrained(str(path), local_files_only=True), label_names, multi_label, backend,
                   long_texts, words.load(path))


BODY_FILE = "body.json"  # a logreg run's reference to its frozen body, beside the head
SEEN_MAX = 20_000  # texts whose frozen-body vectors a process keeps (a round's training, calibration, gold texts)
# (resolved body, max_length, long_texts) -> text -> vector: a frozen body's output depends on the text alone, so a
# run loaded again in one process (``labeler round``'s comparison on gold after training) encodes nothing twice
_SEEN: dict[tuple[str, int | None, str], dict[str, np.ndarray]] = {}


class FrozenBodyClassifier:
    """A ``logreg`` model: the balanced head on an untouched pretrained body. ``save`` writes the head (SetFit's
    ``model_head.pkl``) and ``body.json`` (the body's name as configured, resolved by ``resolve_body`` when loaded,
    and its ``max_length``), not a copy of the body; the body loads only when texts must be encoded. Runs saved
    before, with a copied body, load as ``SetFitClassifier``."""

    def __init__(self, head, body: str, max_length: int | None, label_names: Sequence[str], multi_label: bool,
                 embed=None, encoder=None, long_texts: str = "start", lexical=None):
        self.head, self.body, self.max_length, self.long_texts = head, body, max_length, long_texts
        self.labels, self.multi_label, self.backend = list(label_names), multi_label, "logreg"
        self._embed, self._encoder = embed, encoder
        self.lexical = lexical  # the vocabulary whose rows the head reads beside the embeddings (None: embeddings)

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = load_body(self.body, self.max_length)
        return self._encoder

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """The body's (N, dim) vectors: those this process has seen for the body (``_SEEN``), then ``embed``'s, the
        rest encoded by the body (at the batch size SetFit's own encode used: the numbers a copied body gave)."""
        texts = list(texts)
        seen = _SEEN.setdefault((resolve_body(self.body), self.max_length, self.long_texts), {})
        rows = [seen.get(t) for t in texts]
        for source in ([lambda t, _: self._embed(t)] if self._embed is not None else []) + [self._encode]:
            todo = [i for i, v in enumerate(rows) if v is None]
            if todo:
                for i, v in zip(todo, np.asarray(source([texts[i] for i in todo], batch_size), dtype=np.float32)):
                    rows[i] = None if np.isnan(v).any() else v
        if len(seen) < SEEN_MAX:
            seen.update(zip(texts, rows))
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def _encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if self.long_texts == "whole":  # runs saved before long texts were read whole: "start"
            return encode_sentences(self.encoder, texts, batch_size=batch_size)
        return self.encoder.encode(texts, batch_size=batch_size, show_progress_bar=False)

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return self.predict_proba_from_embeddings(self.embed(texts, batch_size), texts)

    def predict_proba_from_embeddings(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        return head_proba(self.head, head_features(self.lexical, embeddings, texts), len(self.labels), self.multi_label)

    def save(self, path: str | Path) -> Path:
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.head, path / "model_head.pkl")
        words.save(self.lexical, path)
        (path / BODY_FILE).write_text(json.dumps({"body": self.body, "max_length": self.max_length,
                                                  "long_texts": self.long_texts}, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path, label_names: Sequence[str], multi_label: bool):
        import joblib

        try:
            ref = json.loads((Path(path) / BODY_FILE).read_text())
            return cls(joblib.load(Path(path) / "model_head.pkl"), ref["body"], ref.get("max_length"), label_names,
                       multi_label, long_texts=ref.get("long_texts", "start"), lexical=words.load(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TrainingError(f"run folder {path} holds no readable logreg head and {BODY_FILE} ({exc!r})") from None


def _new_model(body: str, head, label_names, multi_label: bool, params: SetFitParams):
    from setfit import SetFitModel

    return SetFitModel(
        model_body=load_body(body, params.max_length),
        model_head=head,
        multi_target_strategy=params.multi_target_strategy if multi_label else None,
        labels=list(label_names),
    )


def train_setfit(
    texts: Sequence[str],
    y: np.ndarray,
    label_names: Sequence[str],
    multi_label: bool = False,
    params: SetFitParams | None = None,
    seed: int = 0,
    output_dir: str | Path | None = None,
    sample_weight: np.ndarray | None = None,
    lexical=None,
) -> SetFitClassifier:
    """Contrastive fine-tuning (capped) then the balanced head. ``y``: indices (N,) or 0/1 (N, K). ``sample_weight``
    (N,): the head's row weights; the contrastive body step sees only the rows of weight 1.0 (the human labels).
    ``lexical``: a fitted vocabulary whose rows the head reads beside the embeddings (the body never sees them)."""
    params = params or SetFitParams()
    params.validate(multi_label)
    w = _weights(sample_weight, len(texts))
    if w is not None and not (w == 1.0).any():
        raise TrainingError("SetFit's contrastive step needs rows of weight 1.0 (human labels); none were given")
    texts, y, w = add_label_texts(texts, y, w, params.label_texts, len(label_names), multi_label)
    human = np.ones(len(texts), dtype=bool) if w is None else w == 1.0
    quiet(setfit=True)
    import tempfile

    import torch
    from datasets import Dataset
    from setfit import TrainingArguments
    from transformers import set_seed

    set_seed(seed)
    model = _new_model(params.body, None, label_names, multi_label, params)
    body_texts, body_y = [t for t, h in zip(texts, human) if h], np.asarray(y)[human].tolist()
    if params.long_texts == "whole":  # a long text's windows, each with its label: the body learns from all of it
        body_texts, owner = window_texts(model.model_body.tokenizer, body_texts, model.model_body.max_seq_length)
        body_y = [body_y[i] for i in owner]
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=str(output_dir or tmp),
            batch_size=(params.batch_size, params.batch_size),
            num_epochs=(params.num_epochs, params.num_epochs),
            max_steps=params.max_steps,
            num_iterations=params.num_iterations,
            body_learning_rate=(params.body_learning_rate, params.body_learning_rate),
            warmup_proportion=params.warmup_proportion,
            sampling_strategy=params.sampling_strategy,
            max_length=params.max_length,
            seed=seed,
            report_to="none",
            show_progress_bar=False,
            save_strategy="no",
            logging_strategy="no",
            use_amp=torch.cuda.is_available(),
        )
        trainer = _trainer_class(params.self_pairs)(model=model, args=args,
                                                    train_dataset=Dataset.from_dict({"text": body_texts, "label": body_y}))
        drop_printer(trainer)
        trainer.train_embeddings(body_texts, body_y, args=args)  # the body; the head is ours, below
    # as SetFit's own head step: the body's encode at its default batch size, normalised as the model says; a text
    # past max_length read whole
    kw = {"normalize_embeddings": model.normalize_embeddings}
    X = (encode_sentences(model.model_body, list(texts), **kw) if params.long_texts == "whole"
         else model.model_body.encode(list(texts), show_progress_bar=False, **kw))
    model.model_head = _head(multi_label, params, seed, len(label_names)).fit(head_features(lexical, X, texts),
                                                                                np.asarray(y), w)
    return SetFitClassifier(model, label_names, multi_label, "setfit", params.long_texts, lexical)


def fit_logreg_head(embeddings: np.ndarray, y: np.ndarray, multi_label: bool = False, C: float = 10.0, seed: int = 0,
                    strategy: str = "one-vs-rest", sample_weight: np.ndarray | None = None,
                    n_labels: int | None = None) -> LinearModel | ChainModel:
    """The balanced logistic-regression head on precomputed embeddings (the bench caches embeddings).

    ``n_labels`` defaults to the columns of ``y`` (multi-label) or ``max(y) + 1``; ``head_proba`` pads to K.
    """
    y = np.asarray(y)
    k = n_labels or (y.shape[1] if multi_label else int(y.max()) + 1)
    head = _head(multi_label, SetFitParams(head_c=C, multi_target_strategy=strategy), seed, k)
    return head.fit(embeddings, y, _weights(sample_weight, len(y)))


def train_logreg(
    texts: Sequence[str],
    y: np.ndarray,
    label_names: Sequence[str],
    multi_label: bool = False,
    params: SetFitParams | None = None,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
    embed=None,
    lexical=None,
) -> "FrozenBodyClassifier":
    """Frozen body + balanced logistic regression (C = ``params.head_c``, 10 by default), rows weighted by
    ``sample_weight`` (N,) when given. ``embed``: vectors the body would give, computed elsewhere (a cache):
    ``embed(texts) -> (N, dim)``, a row of NaN where it has none (the body encodes that text); the model keeps
    using it for its own ``predict_proba`` in this process. The run's body is referenced, not copied. ``lexical``: a
    fitted vocabulary whose rows the head reads beside the embeddings (kept with the run)."""
    params = params or SetFitParams()
    params.validate(multi_label)
    w = _weights(sample_weight, len(texts))
    clf = FrozenBodyClassifier(None, params.body, params.max_length, label_names, multi_label, embed=embed,
                               long_texts=params.long_texts, lexical=lexical)
    clf.head = _head(multi_label, params, seed, len(label_names)).fit(head_features(lexical, clf.embed(texts), texts),
                                                                      np.asarray(y), w)
    return clf
