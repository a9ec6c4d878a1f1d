"""Embedding path speed (issue 14.3): sentence-transformers (torch) vs ONNX Runtime encoders, CPU.

On AG News and BANKING77 pool texts (``labeler.simulate.dataset_data``), interleaved with the harness
(A B C ... repeated, median and spread of each variant's speed-up over the baseline):

* ``st encode`` (baseline): raw ``SentenceTransformer.encode``, fp32, batch 64, normalised;
* ``signal, torch (cache off)``: the embedding signal end to end on the torch backend (texts encoded
  again every repeat, label vectors once per process), ``predict_proba``;
* ``onnx fp32, input order``: the exported MiniLM on onnxruntime (ORT_ENABLE_ALL), batches in input order;
* ``onnx fp32, length-bucketed``: the same, texts sorted by token count before batching;
* ``onnx fp32 fused, length-bucketed``: exported with eager attention and passed through
  ``onnxruntime.transformers.optimizer`` (BERT fusions: Attention, EmbedLayerNorm, SkipLayerNorm, BiasGelu);
* ``onnx int8, length-bucketed``: ``quantize_dynamic`` (int8 weights, per channel) of the export;
* ``signal, auto backend (cache off)``: the signal end to end with ``backend: auto`` (when the signal
  has the param).

Fidelity, per variant, against the torch path: max abs difference of the embeddings and the share of
identical top labels of the embedding zero-shot (label vectors from the data set's descriptions, each
variant encoding its own label prompts). Prints a Markdown table per data set; writes
bench/results/embedding_speed.json (with the load average before and after every repeat).

    python bench/bench_embedding_speed.py --texts 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from common import RESULTS, wait_for_quiet, write_json
from harness import compare, core_count, machine_info

# -- the ONNX encoder (kept here: not adopted into labeler/signals, see BENCHMARKS.md) ------------------
OPSET = 17
_SESSIONS: dict[tuple, "OnnxEncoder"] = {}


def onnx_cache_dir() -> Path:
    return Path(os.environ.get("LABELER_ONNX_CACHE") or Path.home() / ".cache" / "labeler" / "onnx")


def onnx_supported(st) -> bool:
    """Whether ``st`` is Transformer -> mean Pooling [-> Normalize] (what :class:`OnnxEncoder` computes)."""
    mods = list(st)
    names = [type(m).__name__ for m in mods]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    pooling = mods[1].get_config_dict()
    return pooling.get("pooling_mode") == "mean" and hasattr(mods[0], "auto_model")


def _features(st, texts: Sequence[str]) -> dict[str, np.ndarray]:
    feats = st.preprocess(list(texts)) if hasattr(st, "preprocess") else st.tokenize(list(texts))
    return {k: v.numpy().astype(np.int64, copy=False) for k, v in feats.items() if hasattr(v, "numpy")}


def export_onnx(st, path: Path) -> Path:
    """Export ``st``'s transformer (input ids, masks -> last hidden state) to ``path``; returns it."""
    import torch

    class _Wrap(torch.nn.Module):
        def __init__(self, model, names):
            super().__init__()
            self.model, self.names = model, names

        def forward(self, *args):
            return self.model(**dict(zip(self.names, args))).last_hidden_state

    feats = _features(st, ["an example sentence to trace", "another one"])
    names = list(feats)
    model = st[0].auto_model.to("cpu").eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.onnx")
    axes = {n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Wrap(model, names), tuple(torch.from_numpy(feats[n]) for n in names), str(tmp),
                          dynamo=False, input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    os.replace(tmp, path)
    return path


def fuse_onnx(st, path: Path) -> Path:
    """Export with eager attention, then onnxruntime.transformers' BERT fusions (Attention, EmbedLayerNorm,
    SkipLayerNorm, BiasGelu); cached as ``<stem>.fused.onnx``."""
    out = path.with_name(f"{path.stem}.fused.onnx")
    if not out.exists():
        from onnxruntime.transformers import optimizer

        model = st[0].auto_model
        before = model.config._attn_implementation
        model.set_attn_implementation("eager")  # the SDPA export is a pattern the fuser does not know
        try:
            raw = export_onnx(st, path.with_name(f"{path.stem}.eager.onnx"))
        finally:
            model.set_attn_implementation(before)
        cfg = model.config
        opt = optimizer.optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads,
                                       hidden_size=cfg.hidden_size, opt_level=1)
        tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.onnx")
        opt.save_model_to_file(str(tmp))
        os.replace(tmp, out)
    return out


def quantize_onnx(path: Path) -> Path:
    """int8 dynamic quantisation of an exported file (cached as ``<stem>.int8.onnx``)."""
    out = path.with_name(f"{path.stem}.int8.onnx")
    if not out.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.onnx")
        quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, out)
    return out


class OnnxEncoder:
    """L2-normalised mean-pooled embeddings of texts from an exported transformer."""

    def __init__(self, st, path: Path, threads: int | None = None, sort_by_length: bool = True):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or core_count()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.st, self.path, self.sort_by_length = st, Path(path), sort_by_length

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = np.arange(len(texts))
        if self.sort_by_length:  # token counts without padding, longest first (as sentence-transformers)
            lengths = [len(ids) for ids in self.st.tokenizer(texts, add_special_tokens=True, truncation=True,
                                                             max_length=self.st.max_seq_length)["input_ids"]]
            order = np.argsort(-np.asarray(lengths), kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            feats = _features(self.st, [texts[i] for i in idx])
            hidden = self.session.run(None, {n: feats[n] for n in self.inputs})[0]
            mask = feats["attention_mask"][..., None].astype(np.float32)
            emb = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.empty((len(texts), emb.shape[1]), dtype=np.float32)
            out[idx] = emb
        return out


def load_onnx_encoder(st, fingerprint: str, quantize: bool = False, cache_dir: Path | None = None,
                      sort_by_length: bool = True, fused: bool = False) -> OnnxEncoder:
    """The ONNX encoder of ``st`` (exported once per ``fingerprint``), shared per process.

    Raises ``ImportError`` without onnxruntime/onnx, ``ValueError`` for an unsupported model, and
    whatever the exporter raises; the caller falls back to torch."""
    import onnxruntime  # noqa: F401 - fail early, before exporting

    key = (id(st), fingerprint, quantize, str(cache_dir), sort_by_length, fused)
    if key not in _SESSIONS:
        if not onnx_supported(st):
            raise ValueError("only Transformer -> mean Pooling [-> Normalize] models run on ONNX")
        path = (cache_dir or onnx_cache_dir()) / f"{fingerprint}.onnx"
        if not path.exists():
            export_onnx(st, path)
        if fused:
            path = fuse_onnx(st, path)
        if quantize:
            path = quantize_onnx(path)
        _SESSIONS[key] = OnnxEncoder(st, path, sort_by_length=sort_by_length)
    return _SESSIONS[key]


# -- the benchmark ------------------------------------------------------------------------------------

BASE = "st encode fp32, batch 64"


def bench_dataset(name: str, n_texts: int, repeats: int, warmup: int, onnx_dir: Path) -> dict:
    import torch

    from labeler.signals.embedding import EmbeddingParams, EmbeddingSignal, default_model_path, load_sentence_transformer
    from labeler.simulate import dataset_data

    data = dataset_data(name)
    texts = list(data.texts[:n_texts])
    labels = [{"name": lab.name, "description": lab.description} for lab in data.config.task.labels]
    st = load_sentence_transformer(default_model_path(), "cpu")
    tokens = float(np.mean([len(x) for x in st.tokenizer(texts)["input_ids"]]))
    sig = EmbeddingSignal("emb", labels, False, {"device": "cpu", "backend": "torch"}
                          if "backend" in EmbeddingParams.model_fields else {"device": "cpu"})
    prompts = [q for ps in sig.label_prompt_lists for q in ps]
    fp = sig._model_fingerprint().replace("/", "_").replace(":", "_")[-80:]

    t0 = time.perf_counter()
    encoders = {
        "onnx fp32, input order": load_onnx_encoder(st, fp, cache_dir=onnx_dir, sort_by_length=False),
        "onnx fp32, length-bucketed": load_onnx_encoder(st, fp, cache_dir=onnx_dir),
        "onnx fp32 fused, length-bucketed": load_onnx_encoder(st, fp, cache_dir=onnx_dir, fused=True),
        "onnx int8, length-bucketed": load_onnx_encoder(st, fp, quantize=True, cache_dir=onnx_dir),
    }
    setup_s = time.perf_counter() - t0

    def st_encode(xs):
        with torch.inference_mode():
            return st.encode(xs, batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                             show_progress_bar=False)

    def signal_run(s):
        def run():
            s._mem.clear()  # cache off: every text encoded again
            return s.predict_proba(texts)
        return run

    variants = {BASE: lambda: st_encode(texts), "signal, torch (cache off)": signal_run(sig)}
    variants.update({n: (lambda e=e: e.encode(texts, 64)) for n, e in encoders.items()})
    auto = None
    if "backend" in EmbeddingParams.model_fields:
        auto = EmbeddingSignal("emb", labels, False, {"device": "cpu", "backend": "auto"})
        variants["signal, auto backend (cache off)"] = signal_run(auto)
    few = texts[:32]  # warm-up: load weights, build sessions, fill label vectors (cheap on a busy machine)
    warm = {BASE: lambda: st_encode(few), **{n: (lambda e=e: e.encode(few, 64)) for n, e in encoders.items()},
            "signal, torch (cache off)": lambda: sig.predict_proba(few)}
    if auto is not None:
        warm["signal, auto backend (cache off)"] = lambda: auto.predict_proba(few)
    cmp = compare(variants, baseline=BASE, repeats=repeats, warmup=warmup, work=len(texts), unit="texts",
                  warmup_with=warm)

    # fidelity vs the torch path: embeddings and zero-shot top labels (each encoder embeds its own prompts)
    ref = st_encode(texts)
    ref_top = (ref @ _label_vectors(st_encode(prompts), sig.label_prompt_lists).T).argmax(1)
    extra: dict[str, dict] = {}
    for n, e in encoders.items():
        emb = e.encode(texts, 64)
        top = (emb @ _label_vectors(e.encode(prompts, 64), sig.label_prompt_lists).T).argmax(1)
        extra[n] = {"max abs diff": f"{np.abs(emb - ref).max():.1e}", "identical top labels": f"{100 * np.mean(top == ref_top):.1f}%"}
    extra["signal, torch (cache off)"] = {"identical top labels": f"{100 * np.mean(cmp.outputs['signal, torch (cache off)'].argmax(1) == ref_top):.1f}%"}
    if auto is not None:
        emb = auto.encode(texts, use_cache=False)
        extra["signal, auto backend (cache off)"] = {
            "max abs diff": f"{np.abs(emb - ref).max():.1e}",
            "identical top labels": f"{100 * np.mean(cmp.outputs['signal, auto backend (cache off)'].argmax(1) == ref_top):.1f}%"}
    print(f"\n## Embedding encode speed, {name} ({len(texts)} texts, {tokens:.1f} tokens/text, {len(labels)} labels; "
          f"packaged MiniLM, CPU)\n")
    print(cmp.table("method", extra=extra))
    return {"texts": len(texts), "tokens_per_text": tokens, "labels": len(labels), "onnx_setup_s": setup_s,
            "comparison": cmp.to_json(), "fidelity": extra}


def _label_vectors(emb: np.ndarray, prompt_lists: list[list[str]]) -> np.ndarray:
    out, start = [], 0
    for ps in prompt_lists:
        v = emb[start : start + len(ps)].mean(axis=0)
        out.append(v / max(float(np.linalg.norm(v)), 1e-12))
        start += len(ps)
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["ag_news", "banking77"])
    ap.add_argument("--texts", type=int, nargs="+", default=[1000], help="texts per data set (one number, or one each)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--max-load", type=float, default=2.5, help="wait for a 1-minute load below this")
    ap.add_argument("--max-wait", type=float, default=300, help="seconds to wait for it at most")
    ap.add_argument("--onnx-dir", default=None, help="where exports go (default: a temporary folder)")
    ap.add_argument("--out", default=str(RESULTS / "embedding_speed.json"))
    args = ap.parse_args()

    import onnxruntime

    load = wait_for_quiet(args.max_load, args.max_wait, poll_s=20)
    print(f"load average at start: {load}", flush=True)
    results = {"machine": machine_info(), "onnxruntime": onnxruntime.__version__, "load_at_start": load,
               "command": "python bench/bench_embedding_speed.py " + " ".join(sys.argv[1:])}
    with tempfile.TemporaryDirectory() as tmp:
        onnx_dir = Path(args.onnx_dir) if args.onnx_dir else Path(tmp)
        counts = args.texts * len(args.datasets) if len(args.texts) == 1 else args.texts
        for ds, n in zip(args.datasets, counts):
            results[ds] = bench_dataset(ds, n, args.repeats, args.warmup, onnx_dir)
            print(f"\nwrote {write_json(args.out, results)}")  # after each data set: a stopped run keeps its part


if __name__ == "__main__":
    main()
