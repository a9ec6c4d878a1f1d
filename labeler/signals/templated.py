"""Templated zero-shot: a SetFit model trained on synthetic "This sentence is {label text}" examples.

SetFit's zero-shot recipe (``setfit.get_templated_dataset``): each label's text is put into ``template``
``sample_size`` times, the body (the packaged MiniLM by default) is fine-tuned contrastively on those
sentences for at most ``max_steps`` steps (``num_iterations`` pairs per example) and a logistic-regression
head is fitted on them; ``predict_proba`` is that head on the fine-tuned body, one softmax over the labels.
``max_steps: 0`` fits the head alone on the untouched body (seconds instead of minutes, a few points lower).

* label text: the label's description when it has one, else its humanised name (``card_arrival`` ->
  ``card arrival``): what won in ``bench/bench_zeroshot_peers.py`` (AG News 0.815 accuracy against the
  embedding signal's 0.768; a tie on BANKING77).
* single-label only: the head's one softmax gives no per-label probabilities (micro-F1 0 on NLU++ in the
  bench); a multi-label task is refused in one line pointing at ``embedding``.
* cost: training runs once per (body revision, labels and descriptions, template, params) and the model is
  kept under ``<cache_dir>/templated/<key>/`` (SetFit's ``save_pretrained`` format, ~90 MB with MiniLM),
  written atomically under a file lock, so concurrent processes train it once and later runs load it.
  Without a ``cache_dir`` it is kept in memory for the process only. ``device`` does not enter the key.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
from pydantic import Field, field_validator

from labeler.errors import LabelerError
from labeler.signals.base import (ModelSignal, SignalConfigError, SignalParams, hub_unreachable_message, model_revision,
                                  resolve_device, stable_hash)
from labeler.signals.embedding import default_model_path, humanize_name, load_sentence_transformer
from training.body import drop_printer, quiet

DEFAULT_TEMPLATE = "This sentence is {}"  # setfit.get_templated_dataset's default, as in the bench


def label_text(name: str, description: str | None) -> str:
    """What a label is called in a templated sentence: its description, else its humanised name."""
    return description or humanize_name(name)
MODEL_INFO = "templated.json"

_MODELS: dict[tuple[str, str, str], Any] = {}  # (model key, device, cache folder) -> SetFitModel
TRAININGS: dict[str, int] = {}  # model key -> trainings in this process (tests: a reload trains nothing)


class TemplatedParams(SignalParams):
    model: str | None = None
    template: str = DEFAULT_TEMPLATE
    sample_size: int = Field(default=8, ge=1)
    num_iterations: int = Field(default=5, ge=1)
    max_steps: int = Field(default=60, ge=0)
    batch_size: int = Field(default=16, ge=1)
    seed: int = 0
    device: str = "auto"

    @field_validator("template")
    @classmethod
    def _one_slot(cls, value: str) -> str:
        try:
            ok = value.count("{}") == 1 and value.format("x") != value
        except (IndexError, KeyError, ValueError):
            ok = False
        if not ok:
            raise ValueError("template needs exactly one {} for the label text, e.g. 'This sentence is {}'")
        return value


class TemplatedSignal(ModelSignal):
    type_name: ClassVar[str] = "templated"
    Params: ClassVar[type[SignalParams]] = TemplatedParams
    single_label_only: ClassVar[bool] = True  # config loading refuses it in a multi-label task

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.multi_label:
            raise SignalConfigError(
                f"signal {self.name!r}: type templated is single-label only (one softmax over the labels); "
                f"use type: embedding for a multi-label task")
        self.model_path = self.params.model or default_model_path()
        self.label_texts = [label_text(i.name, i.description) for i in self.label_infos]
        self._model = None

    @property
    def device(self) -> str:
        return resolve_device(self.params.device)

    def _model_fingerprint(self) -> str:
        return f"{self.model_path if self.params.model else 'packaged:all-MiniLM-L6-v2'}@{model_revision(self.model_path)}"

    def model_key(self) -> str:
        """What the trained model depends on: body revision, labels (in order) with their texts, template, params."""
        p = self.params.model_dump(mode="json")
        p.pop("device")
        return stable_hash({"body": self._model_fingerprint(), "labels": [[i.name, i.description] for i in self.label_infos],
                            "texts": self.label_texts, "params": p}, n=24)

    def model_dir(self) -> Path | None:
        """Where the trained model is kept (``None`` without a ``cache_dir``)."""
        return None if self.cache_dir is None else self.cache_dir / "templated" / self.model_key()

    # -- the model ------------------------------------------------------------------------------------
    def load(self):
        """The trained SetFit model: from memory, from ``model_dir()``, or trained now (and saved there)."""
        if self._model is None:
            key = (self.model_key(), self.device, str(self.cache_dir))
            if key not in _MODELS:
                _MODELS[key] = self._load_or_train()
            self._model = _MODELS[key]
        return self._model

    def _load_or_train(self):
        quiet(setfit=True)
        target = self.model_dir()
        if target is None:
            return self._train()
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / f"{target.name}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process trains; the others wait, then load its model
            if not (target / MODEL_INFO).exists():
                start = time.perf_counter()
                model = self._train()
                tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
                try:
                    model.save_pretrained(str(tmp))
                    (tmp / MODEL_INFO).write_text(json.dumps({
                        "labels": self.labels, "label_texts": self.label_texts, "body": self._model_fingerprint(),
                        "params": self.params.model_dump(mode="json"), "device": self.device,
                        "train_seconds": round(time.perf_counter() - start, 1)}, indent=1))
                    if target.exists():  # an interrupted earlier save without its info file
                        shutil.rmtree(target)
                    os.replace(tmp, target)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                return model
        return self._from_pretrained(str(target), f"the trained templated model in {target} (delete the folder to retrain)")

    def _from_pretrained(self, path: str, what: str | None = None):
        from setfit import SetFitModel

        try:
            return SetFitModel.from_pretrained(path, local_files_only=True, device=self.device)
        except Exception as exc:  # noqa: BLE001 - any load failure is one line
            if what is not None:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise LabelerError(f"cannot load {what}: {first}") from None
            raise LabelerError(hub_unreachable_message("templated", self.model_path, exc)) from None

    def _train(self):
        """SetFit's templated recipe on the label texts (the bench's "descriptions" variant, same arguments)."""
        from setfit import Trainer, TrainingArguments, get_templated_dataset
        from transformers import set_seed

        p = self.params
        where = f"; kept in {self.model_dir()}" if self.cache_dir is not None else ""
        print(f"signal {self.name!r}: training the templated model on {len(self.labels) * p.sample_size} examples, "
              f"{p.max_steps} steps (once per label set{where})", file=sys.stderr, flush=True)
        set_seed(p.seed)
        model = self._from_pretrained(self.model_path)
        train = get_templated_dataset(candidate_labels=self.label_texts, template=p.template,
                                      sample_size=p.sample_size, multi_label=False)
        if p.max_steps == 0:  # the head alone on the untouched body
            model.model_head.fit(model.encode(list(train["text"])), np.array(list(train["label"])))
        else:
            with tempfile.TemporaryDirectory(prefix="labeler-templated-") as out:
                args = TrainingArguments(output_dir=out, batch_size=p.batch_size, num_epochs=1,
                                         num_iterations=p.num_iterations, max_steps=p.max_steps, seed=p.seed,
                                         save_strategy="no", report_to="none", show_progress_bar=False,
                                         logging_strategy="no")
                trainer = Trainer(model=model, args=args, train_dataset=train)
                drop_printer(trainer)
                with warnings.catch_warnings():  # torch: "'pin_memory' ... no accelerator is found" on a CPU
                    warnings.filterwarnings("ignore", message=".*pin_memory.*", category=UserWarning)
                    trainer.train()
        key = self.model_key()
        TRAININGS[key] = TRAININGS.get(key, 0) + 1
        return model

    # -- scores ---------------------------------------------------------------------------------------
    def _predict(self, texts: list[str]) -> np.ndarray:
        model = self.load()
        P = np.asarray(model.predict_proba(texts, as_numpy=True, show_progress_bar=False), dtype=np.float64)
        classes = np.asarray(getattr(model.model_head, "classes_", np.arange(P.shape[1])), dtype=int)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        out[:, classes] = P
        return out

    @property
    def max_tokens(self) -> int | None:
        return int(load_sentence_transformer(self.model_path, "cpu").max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        tok = load_sentence_transformer(self.model_path, "cpu").tokenizer
        return [len(ids) for ids in tok(list(texts), add_special_tokens=True)["input_ids"]]
