"""How fast and how good are the zero-shot signals on this machine?

    .venv/bin/python bench/bench_signals.py                  # all parts, ~10-15 min on 2 cores
    .venv/bin/python bench/bench_signals.py --parts accuracy # one part (nli, speed, accuracy)

(1) nli: NLI signal speed on the facebook/bart-large-mnli ARCHITECTURE with random weights (BartConfig
    with bart-large sizes; weights do not change speed). The hub is unreachable here, so the tokenizer
    is a byte-level BPE with BART's special tokens trained offline on the local data sets' texts
    (vocab 50,265; it gives slightly fewer tokens than GPT-2's BPE on this in-domain text, reported as
    tokens/pair). 40 AG News texts x 4 labels: (a) the classic per-text pipeline loop, (b) our batched
    signal, (c) the same with int8 dynamic quantization. Pairs/s, speed-up over (a), % identical labels.
(2) speed: embedding zero-shot texts/s on AG News and BANKING77: sentence-transformers fp32 encode
    (batch 64) vs the signal end to end (fresh signal, no cache; fp32 and int8).
(3) accuracy: embedding zero-shot accuracy / macro-F1 on AG News eval (1,520), BANKING77 test (3,080),
    SMS spam eval (1,114): label names vs descriptions (bench/signal_descriptions.py) and prompt
    variants; NLL at the default vs a fitted temperature, and a fitted temperature + per-label bias
    (``fit_calibration``), both fitted on 64 labelled pool/train rows, never on evaluation rows.

Prints tables and writes bench/results/signals.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
DATA = (REPO / ".." / "shared" / "datasets").resolve()

from signal_descriptions import AG_NEWS, AG_NEWS_EXTRA_PROMPTS, BANKING77, SMS_SPAM  # noqa: E402


def read_jsonl(path: Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f]


def datasets() -> dict:
    ag = read_jsonl(DATA / "ag_news" / "test_all.jsonl")
    sms = read_jsonl(DATA / "sms_spam" / "all.jsonl")
    b_test = read_jsonl(DATA / "banking77" / "test.jsonl")
    b_train = read_jsonl(DATA / "banking77" / "train.jsonl")
    rng = np.random.RandomState(0)

    def pick(rows, n):
        return [rows[i] for i in sorted(rng.choice(len(rows), n, replace=False))]

    return {
        "ag_news": dict(eval=[r for r in ag if r["split"] == "eval"], calib=pick([r for r in ag if r["split"] == "pool"], 64),
                        labels=["World", "Sports", "Business", "Sci/Tech"], desc=AG_NEWS, eval_name="eval (1,520)"),
        "banking77": dict(eval=b_test, calib=pick(b_train, 64), labels=list(BANKING77), desc=BANKING77,
                          eval_name="test (3,080)"),
        "sms_spam": dict(eval=[r for r in sms if r["split"] == "eval"], calib=pick([r for r in sms if r["split"] == "pool"], 64),
                         labels=["ham", "spam"], desc=SMS_SPAM, eval_name="eval (1,114)"),
    }


def table(rows: list[dict], cols: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    line = lambda vals: "| " + " | ".join(str(v).ljust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    return "\n".join([line(cols), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line([r.get(c, "") for c in cols]) for r in rows])


# -- (1) NLI speed ----------------------------------------------------------------------------------
def build_bart_large_mnli_random(out: Path, corpus: list[str]) -> dict:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import BartConfig, BartForSequenceClassification, PreTrainedTokenizerFast

    t0 = time.perf_counter()
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=50265, min_frequency=2,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe.post_processor = RobertaProcessing(("</s>", 2), ("<s>", 0))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                  cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                  model_max_length=1024)
    tok.model_input_names = ["input_ids", "attention_mask"]
    tok.save_pretrained(out)
    id2label = {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = BartConfig(
        vocab_size=50265, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
        decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
        id2label=id2label, label2id={v: k for k, v in id2label.items()}, scale_embedding=False,
    )
    torch.manual_seed(0)
    model = BartForSequenceClassification(config).eval()
    model.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    del model
    return {"tokenizer_vocab": len(tok), "params_m": round(n_params / 1e6, 1), "build_s": round(time.perf_counter() - t0, 1)}


def bench_nli(data: dict, n_texts: int, batch_size: int) -> dict:
    import torch
    from transformers import pipeline

    from labeler.signals.nli import NLISignal

    labels = data["ag_news"]["labels"]
    texts = [r["text"] for r in data["ag_news"]["eval"][:n_texts]]
    corpus = [r["text"] for d in data.values() for r in d["eval"]] + [r["text"] for r in read_jsonl(DATA / "ag_news" / "test_all.jsonl")]
    tmp = Path(tempfile.mkdtemp(prefix="bart-large-random-"))
    info = build_bart_large_mnli_random(tmp, corpus)
    n_pairs = len(texts) * len(labels)
    results: dict = {"model": info, "texts": len(texts), "labels": len(labels), "pairs": n_pairs,
                     "torch_threads": torch.get_num_threads()}

    pipe = pipeline("zero-shot-classification", model=str(tmp), device="cpu")
    pipe(texts[0], candidate_labels=labels)  # warm-up
    hyp_tokens = [len(pipe.tokenizer(t, f"This example is {lab}.")["input_ids"]) for t in texts for lab in labels]
    results["tokens_per_pair_mean"] = round(float(np.mean(hyp_tokens)), 1)
    t0 = time.perf_counter()
    ref = []
    for text in texts:
        out = pipe(text, candidate_labels=labels)
        by = dict(zip(out["labels"], out["scores"]))
        ref.append([by[lab] for lab in labels])
    t_loop = time.perf_counter() - t0
    ref = np.array(ref)
    del pipe
    rows = [{"method": "(a) pipeline, per-text loop", "seconds": round(t_loop, 1), "pairs/s": round(n_pairs / t_loop, 2),
             "x loop": "1.00", "identical labels": "100.0%", "max |dP|": "0"}]

    for tag, params in [(f"(b) signal, batched {batch_size}, length-sorted", {}),
                        (f"(c) signal, batched {batch_size} + int8 dynamic quantization", {"quantize": True})]:
        sig = NLISignal("nli", labels, False, {"model": str(tmp), "batch_size": batch_size, "device": "cpu", **params})
        sig.predict_proba(texts[:1])  # load + warm-up
        t0 = time.perf_counter()
        P = sig.predict_proba(texts)
        dt = time.perf_counter() - t0
        rows.append({"method": tag, "seconds": round(dt, 1), "pairs/s": round(n_pairs / dt, 2),
                     "x loop": f"{t_loop / dt:.2f}",
                     "identical labels": f"{100 * np.mean(P.argmax(1) == ref.argmax(1)):.1f}%",
                     "max |dP|": f"{np.abs(P - ref).max():.1e}"})
    # how close to ties the random model's labels are (explains label flips under quantization)
    srt = np.sort(ref, axis=1)
    results["ref_top2_margin_median"] = float(np.median(srt[:, -1] - srt[:, -2]))
    results["rows"] = rows
    print("\n## NLI zero-shot speed (bart-large-mnli architecture, random weights, CPU)\n")
    print(table(rows, ["method", "seconds", "pairs/s", "x loop", "identical labels", "max |dP|"]))
    print(f"\n{n_pairs} pairs, {results['tokens_per_pair_mean']} tokens/pair, {info}; torch threads {results['torch_threads']}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return results


# -- (2) embedding speed ----------------------------------------------------------------------------
def bench_embedding_speed(data: dict) -> dict:
    import torch

    from labeler.signals.embedding import EmbeddingSignal, default_model_path, load_sentence_transformer

    rows = []
    for ds in ("ag_news", "banking77"):
        d = data[ds]
        texts = [r["text"] for r in d["eval"]]
        st = load_sentence_transformer(default_model_path(), "cpu")
        st.encode(texts[:64], batch_size=64)
        t0 = time.perf_counter()
        with torch.inference_mode():
            st.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        t_enc = time.perf_counter() - t0
        tokens = np.mean([len(x) for x in st.tokenizer(texts)["input_ids"]])
        rows.append({"dataset": ds, "texts": len(texts), "tokens/text": f"{tokens:.0f}",
                     "method": "sentence-transformers encode fp32, batch 64", "texts/s": f"{len(texts) / t_enc:.0f}",
                     "x encode": "1.00", "identical labels": ""})
        ref = None
        for tag, params in [("signal end to end, fp32", {}), ("signal end to end, int8 dynamic", {"quantize": True})]:
            sig = EmbeddingSignal("emb", [{"name": k, "description": v} for k, v in d["desc"].items()], False,
                                  {"device": "cpu", **params})
            sig.predict_proba(texts[:8])  # load the model; label prompts are embedded once per signal
            sig._mem.clear()
            t0 = time.perf_counter()
            P = sig.predict_proba(texts)
            dt = time.perf_counter() - t0
            if ref is None:
                ref = P
            rows.append({"dataset": ds, "texts": len(texts), "tokens/text": f"{tokens:.0f}", "method": tag,
                         "texts/s": f"{len(texts) / dt:.0f}", "x encode": f"{t_enc / dt:.2f}",
                         "identical labels": f"{100 * np.mean(P.argmax(1) == ref.argmax(1)):.1f}%"})
    print("\n## Embedding zero-shot speed (packaged MiniLM, CPU)\n")
    print(table(rows, ["dataset", "texts", "tokens/text", "method", "texts/s", "x encode", "identical labels"]))
    return {"rows": rows, "torch_threads": torch.get_num_threads()}


# -- (3) embedding accuracy -------------------------------------------------------------------------
AG_VARIANTS = {
    # name: (label descriptions?, prompt_template)
    "names only": (False, "{name}"),
    "names, 'A news article about {name}'": (False, "A news article about {name}"),
    "names, '{name} news'": (False, "{name} news"),
    "descriptions, '{name}: {description}' (default template)": (True, "{name}: {description}"),
    "descriptions, '{description}'": (True, "{description}"),
    "descriptions, 'A news article about {name}: {description}'": (True, "A news article about {name}: {description}"),
    "descriptions, prompt ensemble of the 3 templates above": (True, ["{name}: {description}", "{description}",
                                                                     "A news article about {name}: {description}"]),
    "3 hand-written phrasings per label (label_prompts, picked on pool rows), mean embedding":
        (False, [], AG_NEWS_EXTRA_PROMPTS),
}
DEFAULT_VARIANTS = {
    "names only": (False, "{name}"),
    "descriptions, '{name}: {description}' (default template)": (True, "{name}: {description}"),
}
SMS_VARIANTS = {
    **DEFAULT_VARIANTS,
    "descriptions, '{description}'": (True, "{description}"),
    "descriptions, 'A text message: {name}, {description}'": (True, "A text message: {name}, {description}"),
    "descriptions, prompt ensemble of the 3 templates above": (True, ["{name}: {description}", "{description}",
                                                                     "A text message: {name}, {description}"]),
}
BANKING_VARIANTS = {
    **DEFAULT_VARIANTS,
    "descriptions, '{description}'": (True, "{description}"),
    "descriptions, prompt ensemble of '{name}: {description}' + '{description}'": (True, ["{name}: {description}", "{description}"]),
}


def bench_accuracy(data: dict, cache_dir: Path) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    from labeler.signals.embedding import DEFAULT_TEMPERATURE, EmbeddingSignal, fit_calibration, fit_temperature, scores_to_proba

    def nll(P, y):
        return float(-np.mean(np.log(np.clip(P[np.arange(len(y)), y], 1e-12, 1))))

    rows = []
    for ds, variants in (("ag_news", AG_VARIANTS), ("banking77", BANKING_VARIANTS), ("sms_spam", SMS_VARIANTS)):
        d = data[ds]
        labels = d["labels"]
        y = np.array([labels.index(r["label"]) for r in d["eval"]])
        yc = np.array([labels.index(r["label"]) for r in d["calib"]])
        for variant, (use_desc, template, *extra) in variants.items():
            infos = [{"name": k, "description": d["desc"][k] if use_desc else None} for k in labels]
            params = {"prompt_template": template}
            if extra:  # prompt_template [] + label_prompts: only the hand-written phrasings
                params["label_prompts"] = extra[0]
            sig = EmbeddingSignal("emb", infos, False, params, cache_dir=cache_dir)
            cos = sig.cosines([r["text"] for r in d["eval"]])
            cos_c = sig.cosines([r["text"] for r in d["calib"]])
            pred = cos.argmax(1)
            t_fit = fit_temperature(cos_c, yc)
            cal = fit_calibration(cos_c, yc)
            P_cal = scores_to_proba(cos, cal["temperature"], label_bias=cal["label_bias"])
            row = {
                "dataset": ds, "eval": d["eval_name"], "variant": variant,
                "acc": f"{accuracy_score(y, pred):.3f}", "macro-F1": f"{f1_score(y, pred, average='macro'):.3f}",
                "NLL T=0.05": f"{nll(scores_to_proba(cos, DEFAULT_TEMPERATURE), y):.3f}",
                "fitted T": f"{t_fit:.3f}", "NLL fitted T": f"{nll(scores_to_proba(cos, t_fit), y):.3f}",
                "acc T+bias": f"{accuracy_score(y, P_cal.argmax(1)):.3f}",
                "macro-F1 T+bias": f"{f1_score(y, P_cal.argmax(1), average='macro'):.3f}",
            }
            if ds == "sms_spam":
                spam = labels.index("spam")
                row["spam-F1"] = f"{f1_score(y == spam, pred == spam):.3f}"
                row["spam-F1 T+bias"] = f"{f1_score(y == spam, P_cal.argmax(1) == spam):.3f}"
            rows.append(row)
            print(f"  {ds:9s} {variant[:70]:70s} acc {row['acc']} F1 {row['macro-F1']} | T+bias acc {row['acc T+bias']}", flush=True)
    print("\n## Embedding zero-shot accuracy (packaged MiniLM; temperature/bias fitted on 64 labelled non-eval rows)\n")
    cols = ["dataset", "eval", "variant", "acc", "macro-F1", "spam-F1", "NLL T=0.05", "fitted T", "NLL fitted T",
            "acc T+bias", "macro-F1 T+bias", "spam-F1 T+bias"]
    print(table(rows, cols))
    return {"rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="nli,speed,accuracy")
    ap.add_argument("--nli-texts", type=int, default=40)
    ap.add_argument("--nli-batch-size", type=int, default=16)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "signals.json"))
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"shared data sets not found at {DATA}")
    import torch

    data = datasets()
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads()}
    parts = args.parts.split(",")
    if "accuracy" in parts:
        with tempfile.TemporaryDirectory() as cache:
            results["embedding_accuracy"] = bench_accuracy(data, Path(cache))
    if "speed" in parts:
        results["embedding_speed"] = bench_embedding_speed(data)
    if "nli" in parts:
        results["nli_speed"] = bench_nli(data, args.nli_texts, args.nli_batch_size)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2))
    os.replace(tmp, out_path)
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
