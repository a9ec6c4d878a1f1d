"""Fixtures for signal tests: tiny random-weight NLI models built offline, the packaged MiniLM, data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared").resolve()
SENTENCES = [
    "The team won the championship game last night.",
    "Stocks fell sharply as investors worried about inflation.",
    "Scientists discovered a new planet orbiting a distant star.",
    "The president met foreign leaders to discuss the war.",
    "This example is sports. This example is business news.",
    "Apple released a new phone with a faster chip.",
    "It was a terrible movie and I want my money back!",
]
NLI_LABELS = {0: "contradiction", 1: "neutral", 2: "entailment"}


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared data sets (../shared next to the repo) are absent")
    return path


def build_tiny_bert_nli(out: Path, id2label: dict[int, str] = NLI_LABELS, seed: int = 0) -> Path:
    """A 2-layer random BertForSequenceClassification with a WordPiece vocab written from SENTENCES."""
    import re

    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted({w for s in SENTENCES for w in re.findall(r"\w+|[^\w\s]", s.lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    vocab += list("abcdefghijklmnopqrstuvwxyz0123456789")
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tok = BertTokenizerFast(vocab_file=str(out / "vocab.txt"), do_lower_case=True, model_max_length=128)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=128, initializer_range=0.2, id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )
    model = BertForSequenceClassification(config).eval()  # initializer_range 0.2: labels differ visibly
    tok.save_pretrained(out)
    model.save_pretrained(out)
    return out


def build_bpe_tokenizer(out: Path, texts: list[str], vocab_size: int, model_max_length: int = 1024):
    """A byte-level BPE tokenizer with BART's special tokens and pair format, trained offline on ``texts``."""
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe.post_processor = RobertaProcessing(("</s>", 2), ("<s>", 0))
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=model_max_length,
    )
    tok.model_input_names = ["input_ids", "attention_mask"]
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    return tok


def build_tiny_bart_nli(out: Path, seed: int = 0) -> Path:
    """A 1+1-layer random BartForSequenceClassification with a byte-level BPE trained on SENTENCES."""
    import torch
    from transformers import BartConfig, BartForSequenceClassification

    tok = build_bpe_tokenizer(out, SENTENCES * 3, vocab_size=400, model_max_length=128)
    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id, forced_eos_token_id=tok.eos_token_id,
        id2label=NLI_LABELS, label2id={v: k for k, v in NLI_LABELS.items()},
    )
    model = BartForSequenceClassification(config).eval()
    with torch.no_grad():
        model.classification_head.out_proj.weight.mul_(30.0)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_bert_nli(tmp_path_factory) -> Path:
    return build_tiny_bert_nli(tmp_path_factory.mktemp("tiny-bert-nli"))


@pytest.fixture(scope="session")
def tiny_bert_nli_entail_first(tmp_path_factory) -> Path:
    """label2id with entailment at 0: the pipeline then reads contradiction at -1."""
    return build_tiny_bert_nli(tmp_path_factory.mktemp("tiny-bert-nli-e0"),
                               {0: "entailment", 1: "neutral", 2: "contradiction"}, seed=1)


@pytest.fixture(scope="session")
def tiny_bart_nli(tmp_path_factory) -> Path:
    return build_tiny_bart_nli(tmp_path_factory.mktemp("tiny-bart-nli"))


@pytest.fixture(scope="session")
def minilm_path() -> str:
    from labeler.signals.embedding import default_model_path

    return default_model_path()
