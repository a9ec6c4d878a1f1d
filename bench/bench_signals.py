"""How fast and how good are the zero-shot signals on this machine?

    .venv/bin/python bench/bench_signals.py                  # all parts, 5 interleaved repeats (long on 2 cores)
    .venv/bin/python bench/bench_signals.py --parts accuracy # one part (nli, speed, accuracy)
    .venv/bin/python bench/bench_signals.py --parts nli,speed --nli-arch tiny --nli-texts 3 --emb-texts 32 \
        --repeats 1 --out /tmp/signals_smoke.json               # smoke test, seconds

Speed ratios come from bench/harness.py: the variants run interleaved (A B C A B C ...) on the same
inputs, ``--repeats`` times after a warm-up, and each ratio is reported as the median over repeats with
its spread (min..max, IQR) and the load average before and after each repeat (warnings when the load
exceeds the cores or the spread is wide).

(1) nli: NLI signal speed on the facebook/bart-large-mnli ARCHITECTURE with random weights (BartConfig
    with bart-large sizes; weights do not change speed). The hub is unreachable here, so the tokenizer
    is a byte-level BPE with BART's special tokens trained offline on the local data sets' texts
    (vocab 50,265; it gives slightly fewer tokens than GPT-2's BPE on this in-domain text, reported as
    tokens/pair). 40 AG News texts x 4 labels (``--nli-texts``): (a) the classic per-text pipeline loop, (b) our batched
    signal, (c) the same with int8 dynamic quantization. Pairs/s, speed-up over (a), % identical labels.
(2) speed: embedding zero-shot texts/s on AG News and BANKING77: sentence-transformers fp32 encode
    (batch 64) vs the signal end to end (fresh signal, no cache; fp32 and int8).
(3) accuracy: embedding zero-shot accuracy / macro-F1 on AG News eval (1,520), BANKING77 test (3,080),
    SMS spam eval (1,114): label names vs descriptions (``labeler.simulate.descriptions``) and prompt
    variants; NLL at the default vs a fitted temperature, and a fitted temperature + per-label bias
    (``fit_calibration``), both fitted on 64 labelled pool/train rows, never on evaluation rows.

Prints tables and writes bench/results/signals.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from common import RESULTS, SHARED_DATASETS, dataset_rows, markdown_table, read_jsonl, require_shared_data, write_json
from harness import compare, machine_info
from nli_models import build_random_bart_mnli, pipeline_loop

from labeler.simulate.descriptions import AG_NEWS, BANKING77, SMS_SPAM

# Extra phrasings per label for a prompt ensemble (embedding param ``label_prompts``). Chosen on 1,520
# AG News POOL rows (pool accuracy: "World: ..." alone 0.770, keyword style alone 0.783, the three averaged
# 0.806), never on the eval split.
AG_NEWS_EXTRA_PROMPTS = {
    "World": ["World: international news about politics, governments, wars, elections and diplomacy",
              "World news: Iraq, president, killed, government, minister, election, police, troops",
              "A news article about world politics, international affairs, conflicts and governments"],
    "Sports": ["Sports: news about games, teams, players, matches and tournaments",
               "Sports news: game, team, win, season, coach, players, league, Olympics",
               "A news article about sports, athletes, teams and competitions"],
    "Business": ["Business: news about companies, markets, stocks, the economy and finance",
                 "Business news: company, stocks, profit, oil prices, sales, shares, economy, deal",
                 "A news article about business, companies, markets and the economy"],
    "Sci/Tech": ["Sci/Tech: news about science, technology, computers, software, the internet and space",
                 "Science and technology news: software, Microsoft, internet, computer, space, scientists, Google",
                 "A news article about science, technology, computers and the internet"],
}


def datasets() -> dict:
    """Per data set: the evaluation rows, 64 calibration rows drawn from the pool (train split), labels, descriptions."""
    (ag_pool, ag_eval), (b_train, b_test), (sms_pool, sms_eval) = (dataset_rows(n) for n in ("ag_news", "banking77", "sms_spam"))
    rng = np.random.RandomState(0)

    def pick(rows, n):
        return [rows[i] for i in sorted(rng.choice(len(rows), n, replace=False))]

    return {
        "ag_news": dict(eval=ag_eval, calib=pick(ag_pool, 64),
                        labels=["World", "Sports", "Business", "Sci/Tech"], desc=AG_NEWS, eval_name="eval (1,520)"),
        "banking77": dict(eval=b_test, calib=pick(b_train, 64), labels=list(BANKING77), desc=BANKING77,
                          eval_name="test (3,080)"),
        "sms_spam": dict(eval=sms_eval, calib=pick(sms_pool, 64),
                         labels=["ham", "spam"], desc=SMS_SPAM, eval_name="eval (1,114)"),
    }


# -- (1) NLI speed ----------------------------------------------------------------------------------
def bench_nli(data: dict, n_texts: int, batch_size: int, repeats: int, warmup: int, arch: str) -> dict:
    import shutil

    import torch
    from transformers import pipeline

    from labeler.signals.nli import NLISignal

    labels = data["ag_news"]["labels"]
    texts = [r["text"] for r in data["ag_news"]["eval"][:n_texts]]
    corpus = [r["text"] for d in data.values() for r in d["eval"]] + [r["text"] for r in read_jsonl(SHARED_DATASETS / "ag_news" / "test_all.jsonl")]
    tmp = Path(tempfile.mkdtemp(prefix="bart-random-"))
    info = build_random_bart_mnli(tmp, corpus, arch)
    n_pairs = len(texts) * len(labels)
    results: dict = {"model": info, "texts": len(texts), "labels": len(labels), "pairs": n_pairs,
                     "torch_threads": torch.get_num_threads()}

    pipe = pipeline("zero-shot-classification", model=str(tmp), device="cpu")
    hyp_tokens = [len(pipe.tokenizer(t, f"This example is {lab}.")["input_ids"]) for t in texts for lab in labels]
    results["tokens_per_pair_mean"] = round(float(np.mean(hyp_tokens)), 1)

    def loop():
        return pipeline_loop(pipe, texts, labels)

    sig = NLISignal("nli", labels, False, {"model": str(tmp), "batch_size": batch_size, "device": "cpu"})
    qsig = NLISignal("nli", labels, False, {"model": str(tmp), "batch_size": batch_size, "device": "cpu",
                                          "quantize": True, "rescore_below": 0})  # int8 alone
    a, b, c = ("(a) pipeline, per-text loop", f"(b) signal, batched {batch_size}, length-sorted",
               f"(c) signal, batched {batch_size} + int8 dynamic quantization")
    cmp = compare({a: loop, b: lambda: sig.predict_proba(texts), c: lambda: qsig.predict_proba(texts)}, baseline=a,
                  repeats=repeats, warmup=warmup, work=n_pairs, unit="pairs",
                  warmup_with={a: lambda: pipe(texts[0], candidate_labels=labels),  # load + warm-up on one text
                               b: lambda: sig.predict_proba(texts[:1]), c: lambda: qsig.predict_proba(texts[:1])})
    ref = cmp.outputs[a]
    fidelity = {name: {"identical labels": f"{100 * np.mean(P.argmax(1) == ref.argmax(1)):.1f}%",
                       "max |dP|": f"{np.abs(P - ref).max():.1e}"} for name, P in cmp.outputs.items()}
    # how close to ties the random model's labels are (explains label flips under quantization)
    srt = np.sort(ref, axis=1)
    results["ref_top2_margin_median"] = float(np.median(srt[:, -1] - srt[:, -2]))
    results["comparison"] = cmp.to_json()
    results["fidelity"] = fidelity
    print(f"\n## NLI zero-shot speed ({arch} architecture, random weights, CPU)\n")
    print(cmp.table("method", extra=fidelity))
    print(f"\n{n_pairs} pairs, {results['tokens_per_pair_mean']} tokens/pair, {info}; torch threads {results['torch_threads']}")
    del pipe
    shutil.rmtree(tmp, ignore_errors=True)
    return results


# -- (2) embedding speed ----------------------------------------------------------------------------
def bench_embedding_speed(data: dict, repeats: int, warmup: int, max_texts: int = 0) -> dict:
    import torch

    from labeler.signals.embedding import EmbeddingSignal, default_model_path, load_sentence_transformer

    out: dict = {"torch_threads": torch.get_num_threads()}
    for ds in ("ag_news", "banking77"):
        d = data[ds]
        texts = [r["text"] for r in d["eval"]][: max_texts or None]
        st = load_sentence_transformer(default_model_path(), "cpu")
        tokens = np.mean([len(x) for x in st.tokenizer(texts)["input_ids"]])

        def encode():
            with torch.inference_mode():
                st.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)

        labels = [{"name": k, "description": v} for k, v in d["desc"].items()]
        sigs = {"signal end to end, fp32": EmbeddingSignal("emb", labels, False, {"device": "cpu"}),
                "signal end to end, int8 dynamic": EmbeddingSignal("emb", labels, False, {"device": "cpu", "quantize": True})}

        def end_to_end(sig):
            def run():
                sig._mem.clear()  # no cache: every text is encoded again (label prompts once per signal)
                return sig.predict_proba(texts)
            return run

        base = "sentence-transformers encode fp32, batch 64"
        cmp = compare({base: encode, **{n: end_to_end(s) for n, s in sigs.items()}}, baseline=base,
                      repeats=repeats, warmup=warmup, work=len(texts), unit="texts",
                      warmup_with={base: lambda: st.encode(texts[:64], batch_size=64),
                                   **{n: (lambda s=s: s.predict_proba(texts[:8])) for n, s in sigs.items()}})
        ref = cmp.outputs["signal end to end, fp32"]
        extra = {n: {"identical labels": f"{100 * np.mean(P.argmax(1) == ref.argmax(1)):.1f}%"}
                 for n, P in cmp.outputs.items() if P is not None}
        print(f"\n## Embedding zero-shot speed, {ds} ({len(texts)} texts, {tokens:.0f} tokens/text; packaged MiniLM, CPU)\n")
        print(cmp.table("method", extra=extra))
        out[ds] = {"texts": len(texts), "tokens_per_text": float(tokens), "comparison": cmp.to_json(), "fidelity": extra}
    return out


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

    from labeler.signals.cosine_calibration import DEFAULT_TEMPERATURE, fit_calibration, fit_temperature, scores_to_proba
    from labeler.signals.embedding import EmbeddingSignal

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
    print(markdown_table(rows, cols))
    return {"rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="nli,speed,accuracy")
    ap.add_argument("--nli-texts", type=int, default=40)
    ap.add_argument("--nli-batch-size", type=int, default=16)
    ap.add_argument("--nli-arch", default="bart-large", choices=["bart-large", "tiny"],
                    help="tiny: a 1+1-layer model to smoke-test the script in seconds")
    ap.add_argument("--emb-texts", type=int, default=0, help="texts per data set for the speed part (0: all eval)")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved timed repeats per comparison")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up rounds per comparison")
    ap.add_argument("--out", default=str(RESULTS / "signals.json"))
    args = ap.parse_args()
    require_shared_data()
    data = datasets()
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["machine"] = machine_info()
    parts = args.parts.split(",")
    if "accuracy" in parts:
        with tempfile.TemporaryDirectory() as cache:
            results["embedding_accuracy"] = bench_accuracy(data, Path(cache))
    if "speed" in parts:
        results["embedding_speed"] = bench_embedding_speed(data, args.repeats, args.warmup, args.emb_texts)
    if "nli" in parts:
        results["nli_speed"] = bench_nli(data, args.nli_texts, args.nli_batch_size, args.repeats, args.warmup, args.nli_arch)
    write_json(out_path, results)
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
