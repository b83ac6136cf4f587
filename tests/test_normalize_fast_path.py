"""normalize()'s shortcut for tidy ASCII text returns exactly what the full normalization returns."""

import random

from grader.text import normalize, normalize_fully as _full_normalize


def test_normalize_matches_the_full_normalization_on_random_text():
    rng = random.Random(3)
    alphabet = list("ab .,'\"-") + [" ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r", "\r\n", "\x0b", "\x0c", "\x1c",
                                     "\x1f", "\x00", "\x7f", "\u00a0", "\u2019", "\u2014", "\ufb01", "\u200b", "é"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert normalize(text) == _full_normalize(text), repr(text)


def test_tidy_ascii_text_comes_back_unchanged():
    text = "Stakhanov mined 102 tons.\n\nIt was 14 times the norm: a record!"
    assert normalize(text) == text == _full_normalize(text)
