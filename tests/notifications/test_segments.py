"""SMS segment counting against the GSM 03.38 tables."""

from __future__ import annotations

import pytest

from notifications.base import _GSM7_BASIC, _GSM7_EXTENSION, sms_encoding, sms_segments


def test_tables_have_the_size_of_gsm_03_38() -> None:
    # 128 code points minus the escape; 10 extension characters (incl. form feed).
    assert len(_GSM7_BASIC) == 127
    assert len(_GSM7_EXTENSION) == 10
    assert not _GSM7_BASIC & _GSM7_EXTENSION


@pytest.mark.parametrize("char", list("éèùìòÇàÉÄÖÑÜäöñüØøÅåÆæß¤§¡¿£¥ΔΦΓΛΩΠΨΣΘΞ@$_\n\r"))
def test_in_gsm7_basic(char: str) -> None:
    assert sms_encoding("Bonjour " + char) == "GSM-7"
    assert sms_segments(char * 160) == 1


@pytest.mark.parametrize("char", list("êâîôûëïçÈÀÙœ’«»`"))
def test_french_characters_outside_gsm7(char: str) -> None:
    assert sms_encoding("Bonjour " + char) == "UCS-2"


@pytest.mark.parametrize("char", list("€{}[]~\\^|\f"))
def test_extension_characters_count_double(char: str) -> None:
    assert sms_encoding(char) == "GSM-7"
    assert sms_segments(char * 80) == 1  # 160 septets
    assert sms_segments(char * 81) == 2


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_lengths(length: int, segments: int) -> None:
    assert sms_segments("a" * length) == segments


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_lengths(length: int, segments: int) -> None:
    assert sms_segments("ê" * length) == segments


def test_one_non_gsm_character_switches_the_whole_message() -> None:
    text = "a" * 69 + "ç"
    assert sms_segments(text) == 1
    assert sms_segments("a" * 70 + "ç") == 2
    assert sms_segments("a" * 160) == 1


def test_extension_character_is_not_split_across_parts() -> None:
    # 152 septets then "€" (2 septets): it cannot straddle parts 1 and 2.
    text = "a" * 152 + "€" + "a" * 10
    assert sms_segments(text) == 2
    # 306 septets would fill exactly two parts if the escape pair could be split.
    assert sms_segments("a" * 152 + "€" + "a" * 152) == 3


def test_emoji_take_two_units_and_are_not_split() -> None:
    assert sms_segments("🙂" * 35) == 1  # 70 code units
    assert sms_segments("🙂" * 36) == 2
    assert sms_segments("a" * 66 + "🙂" + "a" * 60) == 2  # 66 | 2+60
    assert sms_segments("a" * 66 + "🙂" + "a" * 66) == 3  # the emoji moves to part 2


def test_a_degree_sign_triples_a_typical_notice() -> None:
    text = (
        "Habitat Exemple : votre demande {ref} est enregistrée. Un technicien passera "
        "le 14/05 entre 8h et 12h. Répondez STOP pour ne plus recevoir de SMS."
    )
    plain = text.format(ref="no 2024-0042")
    degree = text.format(ref="n° 2024-0042")  # ° is not in GSM 03.38

    assert (sms_encoding(plain), sms_segments(plain)) == ("GSM-7", 1)
    assert (sms_encoding(degree), sms_segments(degree)) == ("UCS-2", 3)


def _segments_by_definition(text: str) -> int:
    """Character by character, straight from the rules in sms_segments' docstring."""
    if not text:
        return 0
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        units, single, part = [2 if ch in _GSM7_EXTENSION else 1 for ch in text], 160, 153
    else:
        units, single, part = [2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for unit in units:
        if used + unit > part:
            segments, used = segments + 1, 0
        used += unit
    return segments


def test_counts_agree_with_the_definition_around_every_boundary() -> None:
    import random

    rng = random.Random(303)
    alphabet = "abc XYZ01é€[]^ê🙂\ud800" + "".join(sorted(_GSM7_BASIC))[:20]
    for _ in range(3000):
        length = rng.choice((rng.randrange(0, 340), 69, 70, 71, 152, 153, 159, 160, 161, 306))
        text = "".join(
            rng.choice(alphabet[: rng.randrange(1, len(alphabet) + 1)]) for _ in range(length)
        )
        assert sms_segments(text) == _segments_by_definition(text), repr(text)
