"""Random-weight NLI models with a real architecture, built offline for speed benchmarks.

The hub is unreachable here, so the tokenizer is a byte-level BPE with BART's special tokens trained on
the given corpus (the local data sets' texts); the model is ``BartForSequenceClassification`` with the
facebook/bart-large-mnli sizes (407 M parameters) and random weights: speed does not depend on the
weights, labels do (random weights give near-ties). ``size="tiny"`` builds a 1+1-layer, 64-wide model for
smoke-testing the bench scripts in seconds; ``size="small"`` (2+2 layers, 128 wide, 256 positions) is the
model bench/bench_nli_int8.py trains.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

SIZES = {
    "bart-large": dict(vocab_size=50265, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                       decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024),
    # bench/bench_nli_int8.py trains this one on NLI-style pairs (labels need trained weights, speed does not)
    "small": dict(vocab_size=8000, d_model=128, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                  decoder_attention_heads=4, encoder_ffn_dim=512, decoder_ffn_dim=512, max_position_embeddings=256),
    "tiny": dict(vocab_size=2000, d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=1024),
}


def build_random_bart_mnli(out: Path, corpus: list[str], size: str = "bart-large") -> dict:
    """Write a tokenizer and a random ``size`` BART NLI model to ``out``; returns what was built."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import BartConfig, BartForSequenceClassification, PreTrainedTokenizerFast

    sizes = dict(SIZES[size])
    t0 = time.perf_counter()
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=sizes["vocab_size"], min_frequency=2,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe.post_processor = RobertaProcessing(("</s>", 2), ("<s>", 0))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                  cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                  model_max_length=min(1024, sizes["max_position_embeddings"]))
    tok.model_input_names = ["input_ids", "attention_mask"]
    tok.save_pretrained(out)
    id2label = {0: "contradiction", 1: "neutral", 2: "entailment"}
    sizes["vocab_size"] = max(sizes["vocab_size"], len(tok))
    config = BartConfig(
        **sizes, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
        id2label=id2label, label2id={v: k for k, v in id2label.items()}, scale_embedding=False,
    )
    torch.manual_seed(0)
    model = BartForSequenceClassification(config).eval()
    model.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    del model
    return {"architecture": size, "tokenizer_vocab": len(tok), "params_m": round(n_params / 1e6, 1),
            "build_s": round(time.perf_counter() - t0, 1)}


TRAINED_META = "training.json"  # written beside a trained NLI model by bench/bench_nli_int8.py --keep
TRAINED_TEMPLATE = "This text is about {}."


def trained_nli_meta(model_dir: Path, default_template: str = TRAINED_TEMPLATE) -> tuple[dict, str]:
    """What bench/bench_nli_int8.py --keep recorded about a trained NLI model ({} when nothing), and the
    hypothesis template it was trained with (``default_template`` when nothing was recorded)."""
    path = Path(model_dir) / TRAINED_META
    meta = json.loads(path.read_text()) if path.exists() else {}
    return meta, meta.get("template", default_template)


def pipeline_loop(pipe, texts: list[str], labels: list[str], **kwargs):
    """The classic recipe: ``pipeline("zero-shot-classification")`` called once per text; an (N, K) matrix
    of its scores in ``labels`` order."""
    import numpy as np

    rows = []
    for text in texts:
        out = pipe(text, candidate_labels=labels, **kwargs)
        by = dict(zip(out["labels"], out["scores"]))
        rows.append([by[lab] for lab in labels])
    return np.array(rows)
