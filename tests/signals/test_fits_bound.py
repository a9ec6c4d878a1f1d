"""``EmbeddingSignal.fits``: the non-whitespace bound settles most texts without tokenising, never wrongly, and
the texts it cannot settle are tokenised once per cache (issue 26.4: a round with a logreg run current)."""

from __future__ import annotations

import numpy as np

from labeler.signals.embedding import EmbeddingSignal, _covered

LABELS = ["sports", "business"]
MIXED = [
    "I still haven't received my card, it's been 2 weeks!!!", "Can I top up with Apple Pay?",
    "Café crème, naïve résumé: accents everywhere", "東京で両替できますか", "emoji 🙂🙂 and (brackets), commas, ...",
    "a-b-c-d-e-f-g-h-i-j", "tab\tand\nnew line\u00a0nbsp\u3000ideographic space", "İstanbul ŞİŞLİ ß ẞ ﬁ",
    "x" * 40, "why   so    many     spaces      here", "control\x1cchars\x1dhere\x1e\x1f", "",
]


def counting(sig):
    counted = []
    real = sig.count_tokens
    sig.count_tokens = lambda batch: counted.extend(batch) or real(batch)
    return counted


def test_the_bound_never_says_a_text_fits_that_does_not():
    sig = EmbeddingSignal("e", LABELS, False)
    truth = np.array(sig.count_tokens(MIXED))
    for limit in (3, 6, 10, 16, 24, 40):
        np.testing.assert_array_equal(sig.fits(MIXED, limit), truth <= limit)
        assert (truth <= np.array([_covered(t, limit - 2) for t in MIXED]) + 2).all()  # an upper bound, always


def test_texts_settled_by_their_non_whitespace_characters_are_not_tokenised(tmp_path):
    sig = EmbeddingSignal("e", LABELS, False)  # no cache: counted every time
    spaced = "a " * 100  # 200 characters, 100 of them not whitespace: fits 128 tokens (102 with [CLS], [SEP])
    control = "a\x1c" * 70  # Python calls U+001C whitespace, the tokenizer may not: counted
    long_text = "the match went to extra time and then to penalties " * 40
    counted = counting(sig)
    assert sig.fits([spaced, control, long_text, "short"], 128).tolist() == [True, True, False, True]
    assert counted == [control, long_text]
    assert sig.count_tokens([spaced])[0] == 102 and _covered(spaced, 126) == 100 and _covered(control, 126) == 140
    sig.fits([long_text], 128)
    assert counted[3:] == [long_text]  # without a cache, asked again


def test_counted_texts_are_kept_beside_the_embeddings(tmp_path):
    long_text = "the match went to extra time and then to penalties " * 40
    other = "interest rates rose again and the markets fell " * 40
    first = EmbeddingSignal("e", LABELS, False, cache_dir=tmp_path)
    counted = counting(first)
    assert first.fits([long_text, "short"], 128).tolist() == [False, True] and counted == [long_text]
    assert first.fits([long_text], 512).tolist() == [True] and counted == [long_text]  # the count, not the verdict
    again = EmbeddingSignal("e", LABELS, False, cache_dir=tmp_path)  # a new process reads them from disk
    counted_again = counting(again)
    assert again.fits([other, long_text], 128).tolist() == [False, False] and counted_again == [other]
    assert again._tokens.count() == 2 and again._disk().count() == 0  # no embedding written
