"""Long texts read whole (``training.windows``): the windows, their weighted mean, the embedding signal's cache keys
and reading note, and a logreg run's frozen body reading the same way."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labeler.signals.embedding import EmbeddingSignal
from training.body import load_body
from training.setfit_backend import FrozenBodyClassifier
from training.windows import encode_sentences, encode_whole, window_spans

TOPICS = ["Sports", "Business"]
SHORT = "The Lakers beat the Celtics."
LONG = ("The match went to overtime after a late goal. " * 6 + "Shares of the club's owner rose on the news.").strip()


def test_windows_end_between_words_and_stop_at_the_cap():
    # "alpha beta gamma delta" as six pieces: al ##pha | beta | gam ##ma | delta
    offsets = [(0, 2), (2, 5), (6, 10), (11, 14), (14, 16), (17, 22)]
    assert window_spans(offsets, 3, 10) == ([(0, 10, 3), (11, 22, 3)], False)
    assert window_spans(offsets, 2, 10) == ([(0, 5, 2), (6, 10, 1), (11, 16, 2), (17, 22, 1)], False)
    assert window_spans(offsets, 2, 3) == ([(0, 5, 2), (6, 10, 1), (11, 16, 2)], True)
    # no gap inside the last quarter: the window is cut at its size
    assert window_spans([(0, 1), (1, 2), (2, 3), (3, 4)], 2, 10) == ([(0, 2, 2), (2, 4, 2)], False)


@pytest.fixture(scope="module")
def tokenizer():
    return EmbeddingSignal("emb", TOPICS).load().tokenizer


def test_encode_whole_is_the_pieces_weighted_mean_and_a_fitting_text_is_encoded_as_is(tokenizer):
    def encode(xs):  # a fake encoder: (characters, 1), so the expected mean is plain arithmetic
        return np.array([[len(x), 1.0] for x in xs])

    read = encode_whole(encode, tokenizer, [SHORT, LONG], 16)
    offsets = tokenizer(LONG, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    spans, cut = window_spans(offsets, 14, 32)
    assert not cut and read.windows.tolist() == [1, len(spans)] and len(spans) == 6 and read.cut == 0
    np.testing.assert_array_equal(read.vectors[0], np.float32([len(SHORT), 1.0]))
    block = encode([LONG[a:b] for a, b, _ in spans])
    w = np.array([n for _, _, n in spans], dtype=float)
    mean = (w[:, None] * block).sum(axis=0) / w.sum()
    want = mean / np.linalg.norm(mean) * np.linalg.norm(block, axis=1).mean()
    np.testing.assert_allclose(read.vectors[1], want, rtol=1e-6)
    assert encode_whole(encode, tokenizer, [LONG], 16, max_windows=2).cut == 1


def test_the_signal_reads_long_texts_whole_under_keys_of_their_own(tmp_path):
    whole = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16}, cache_dir=tmp_path)
    start = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16, "long_texts": "start"}, cache_dir=tmp_path)
    w, s = whole.encode([SHORT, LONG]), start.encode([SHORT, LONG])
    np.testing.assert_array_equal(w[0], s[0])  # a text that fits: one vector, one key
    np.testing.assert_array_equal(s[1], start._encode_raw([LONG])[0])  # start: the model's own truncation
    np.testing.assert_array_equal(w[1], encode_whole(whole._encode_raw, whole.load().tokenizer, [LONG], 16).vectors[0])
    assert float(w[1] @ s[1]) < 0.99 and abs(float(np.linalg.norm(w[1])) - 1.0) < 1e-5
    np.testing.assert_array_equal(whole.encode([SHORT, LONG], use_cache=False), w)  # the same vectors uncached
    again = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16}, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode([LONG]), w[1:])  # read back from the disk cache
    assert whole._disk().count() == 3  # SHORT, LONG read whole, LONG's start


def test_the_reading_note_says_what_is_read_and_what_is_left_out():
    texts = [SHORT, LONG, LONG + " And more."]
    whole = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16})
    assert whole.reading_note([SHORT]) is None
    counts = whole.count_tokens(texts[1:])
    assert counts == [74, 77]  # [CLS] and [SEP] included: 72 and 75 pieces, 6 windows of 14 each
    assert whole.reading_note(texts) == ("emb: 2 of 3 texts are longer than the model's 16 word pieces (median 75): "
                                         "read whole, about 6.0 windows each")
    capped = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16, "max_windows": 3})
    assert capped.reading_note(texts) == ("emb: 2 of 3 texts are longer than the model's 16 word pieces (median 75): "
                                          "read whole, about 3.0 windows each; 2 past 3 windows (42 word pieces): "
                                          "the rest of each is left out (params.max_windows)")
    start = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16, "long_texts": "start"})
    assert start.reading_note(texts) == ("emb: 2 of 3 texts are longer than the model's 16 word pieces (median 75): "
                                         "only their first 16 are read (params.long_texts: whole reads them whole)")
    # one long text among many: its own count and windows, no median of one
    assert whole.reading_note(texts[:2]) == ("emb: 1 of 2 texts is longer than the model's 16 word pieces (74): "
                                             "read whole, in 6 windows")
    assert start.reading_note(texts[:2]) == ("emb: 1 of 2 texts is longer than the model's 16 word pieces (74): "
                                             "only its first 16 are read (params.long_texts: whole reads it whole)")


def test_a_logreg_runs_body_reads_whole_and_older_runs_keep_reading_the_start(tmp_path):
    body = load_body(None, 16)
    clf = FrozenBodyClassifier(None, "minilm", 16, TOPICS, False, long_texts="whole")
    np.testing.assert_array_equal(clf._encode([SHORT, LONG]), encode_sentences(body, [SHORT, LONG]))
    np.testing.assert_allclose(clf._encode([LONG])[0], EmbeddingSignal(
        "emb", TOPICS, params={"max_seq_length": 16}).encode([LONG])[0], atol=1e-5)
    clf.head = "head"
    clf.save(tmp_path / "new")
    assert json.loads((tmp_path / "new" / "body.json").read_text())["long_texts"] == "whole"
    assert FrozenBodyClassifier.load(tmp_path / "new", TOPICS, False).long_texts == "whole"
    (tmp_path / "new" / "body.json").write_text(json.dumps({"body": "minilm", "max_length": 16}))
    old = FrozenBodyClassifier.load(tmp_path / "new", TOPICS, False)
    assert old.long_texts == "start"
    np.testing.assert_array_equal(old._encode([LONG]), body.encode([LONG], show_progress_bar=False))


def test_a_setfit_run_reads_whole_for_its_head_and_the_loader_follows_the_runs_params(tmp_path):
    from setfit import SetFitModel

    from training.backends import get_backend
    from training.setfit_backend import SetFitClassifier, fit_logreg_head

    body = load_body(None, 16)
    X = encode_sentences(body, [SHORT, LONG], normalize_embeddings=False)
    model = SetFitModel(model_body=body, model_head=fit_logreg_head(X, np.array([0, 1])), labels=TOPICS)
    whole = SetFitClassifier(model, TOPICS, False, long_texts="whole")
    np.testing.assert_array_equal(whole.embed([SHORT, LONG]), X)
    start = SetFitClassifier(model, TOPICS, False)
    np.testing.assert_array_equal(start.embed([LONG]), body.encode([LONG], batch_size=64, show_progress_bar=False))
    assert float(start.embed([LONG])[0] @ X[1]) < 0.999 * float(np.linalg.norm(X[1])) ** 2
    whole.save(tmp_path / "run")
    load = get_backend("setfit").load
    assert load(tmp_path / "run", TOPICS, False, {"params": {"long_texts": "whole"}}).long_texts == "whole"
    assert load(tmp_path / "run", TOPICS, False, {"params": {}}).long_texts == "start"  # a run saved before


def test_windows_as_texts_of_their_own_for_a_models_training():
    from training.windows import window_texts

    tok = EmbeddingSignal("emb", TOPICS).load().tokenizer
    pieces, owner = window_texts(tok, [SHORT, LONG], 16)
    assert pieces[0] == SHORT and owner.tolist() == [0, 1, 1, 1, 1, 1, 1]  # LONG: 6 windows of 14 pieces at most
    assert " ".join(pieces[1:]) == LONG and all(len(tok(p)["input_ids"]) <= 16 for p in pieces)


def test_setfits_contrastive_step_learns_from_every_window(monkeypatch):
    import training.setfit_backend as sb

    seen = {}

    class Trainer:  # records what the contrastive step is given; trains nothing
        def __init__(self, model, args, train_dataset):
            pass

        def train_embeddings(self, texts, y, args):
            seen.update(texts=list(texts), y=list(y))

    monkeypatch.setattr(sb, "_trainer_class", lambda self_pairs: Trainer)
    monkeypatch.setattr(sb, "drop_printer", lambda trainer: None)
    params = sb.SetFitParams(max_length=16, max_steps=1)
    clf = sb.train_setfit([SHORT, LONG], np.array([0, 1]), TOPICS, params=params)
    assert seen["texts"][0] == SHORT and " ".join(seen["texts"][1:]) == LONG and seen["y"] == [0, 1, 1, 1, 1, 1, 1]
    assert clf.long_texts == "whole"
    sb.train_setfit([SHORT, LONG], np.array([0, 1]), TOPICS, params=sb.SetFitParams(max_length=16, long_texts="start"))
    assert seen["texts"] == [SHORT, LONG] and seen["y"] == [0, 1]


def test_cached_texts_long_or_short_need_no_model(tmp_path, monkeypatch):
    """``encode`` of cached texts reads which are long from the model folder's files and the cached token counts:
    `labeler push` encodes the whole pool and loaded torch and the model (5 s) for vectors it had on disk."""
    import labeler.signals.embedding as em

    first = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16}, cache_dir=tmp_path)
    want = first.encode([SHORT, LONG])
    plain = EmbeddingSignal("emb", TOPICS)
    assert plain._files() == {"max_seq_length": 256, "wordpiece": True}
    assert plain.max_tokens == int(plain.load().max_seq_length)
    monkeypatch.setattr(em, "_SHARED_TEXT_EMB", {})  # nothing in memory: the disk cache answers
    monkeypatch.setattr(em, "load_sentence_transformer", lambda *a, **k: pytest.fail("the model was loaded"))
    again = EmbeddingSignal("emb", TOPICS, params={"max_seq_length": 16}, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode([SHORT, LONG]), want)
    assert again.reading_note([SHORT, LONG]).startswith("emb: 1 of 2 texts is longer than the model's 16 word pieces")
