"""Reading tenants' SMS answers to a hot satisfaction survey: a score, work not done, STOP."""

from __future__ import annotations

import random

import pytest

from contractors.survey_answers import AnswerKind, SurveyReading, read_survey_answer
from notifications import callbacks

SCORE = AnswerKind.SCORE
NOT_DONE = AnswerKind.NOT_DONE
STOP = AnswerKind.STOP
START = AnswerKind.START
UNCLEAR = AnswerKind.UNCLEAR

# (answer as typed, expected kind, expected score)
ANSWERS: list[tuple[str, AnswerKind, int | None]] = [
    # A number alone, however typed.
    ("4", SCORE, 4),
    (" 5 ", SCORE, 5),
    ("1", SCORE, 1),
    ("5.", SCORE, 5),
    ("5!!!", SCORE, 5),
    ("5 5", SCORE, 5),
    ("\n3\n", SCORE, 3),
    ("５", SCORE, 5),  # full-width
    ("\u00a04\u202f", SCORE, 4),  # no-break spaces
    ("4️⃣", SCORE, 4),  # keycap emoji
    ("②", SCORE, 2),  # circled digit
    # Score forms.
    ("4/5", SCORE, 4),
    ("４/５", SCORE, 4),
    ("4 / 5", SCORE, 4),
    ("4 sur 5", SCORE, 4),
    ("4 (sur 5)", SCORE, 4),
    ("quatre sur cinq", SCORE, 4),
    ("un sur cinq", SCORE, 1),
    ("5 out of 5", SCORE, 5),
    ("note 4", SCORE, 4),
    ("Note : 4", SCORE, 4),
    ("note 4/5", SCORE, 4),
    ("je mets un 4", SCORE, 4),
    ("Je dirais 3", SCORE, 3),
    ("4 étoiles", SCORE, 4),
    ("4 étoiles sur 5", SCORE, 4),
    ("cinq étoiles", SCORE, 5),
    ("five stars", SCORE, 5),
    ("2 stars", SCORE, 2),
    # Number words.
    ("quatre", SCORE, 4),
    ("Cinq", SCORE, 5),
    ("CINQ !", SCORE, 5),
    ("deux", SCORE, 2),
    ("trois", SCORE, 3),
    ("Une", SCORE, 1),
    ("un", SCORE, 1),
    ("one", SCORE, 1),
    ("Four", SCORE, 4),
    ("five thanks", SCORE, 5),
    # Stars: counted when 2 to 5 of them and nothing else says otherwise.
    ("5⭐", SCORE, 5),
    ("4 ⭐", SCORE, 4),
    ("⭐⭐⭐⭐", SCORE, 4),
    ("⭐ ⭐ ⭐", SCORE, 3),
    ("★★★☆☆", SCORE, 3),
    ("5 étoiles ⭐⭐⭐⭐⭐", SCORE, 5),
    ("⭐⭐⭐ super", SCORE, 3),
    ("⭐", UNCLEAR, None),  # a "bravo" as much as a one-star rating
    ("⭐⭐⭐⭐⭐⭐", UNCLEAR, None),
    ("5 ⭐⭐⭐", UNCLEAR, None),
    ("★★★☆", UNCLEAR, None),
    # A score with words around it.
    ("5 merci beaucoup", SCORE, 5),
    ("3, un peu long", SCORE, 3),  # "un" is an article here
    ("merci 5", SCORE, 5),
    ("Très bien 5 merci", SCORE, 5),
    ("Merci,\n4", SCORE, 4),
    ("4\n\nMerci pour tout", SCORE, 4),
    ("Bonjour, 5. Cordialement Mme Dupont", SCORE, 5),
    ("5 thanks a lot", SCORE, 5),
    ("3/5 a bit slow", SCORE, 3),
    ("5/5 👍", SCORE, 5),
    ("4 👍", SCORE, 4),
    ("1 👎", SCORE, 1),
    ("je mets 4 car le technicien était en retard de 2h", SCORE, 4),
    ("very good 5", SCORE, 5),
    ("not bad 4", SCORE, 4),
    ("super rapide 5", SCORE, 5),
    ("5 (tout à fait)", SCORE, 5),
    ("1 (pas du tout)", SCORE, 1),
    ("4 pas tout à fait", SCORE, 4),
    # Negations that are not "the work was not done".
    ("rien à redire 5", SCORE, 5),
    ("pas de souci 5", SCORE, 5),
    ("pas mal 4", SCORE, 4),
    ("plus de fuite, merci 5", SCORE, 5),
    ("ça ne fuit plus 5", SCORE, 5),
    ("pas déçu 5", SCORE, 5),
    ("pas top 2", SCORE, 2),
    ("pas satisfait 1", SCORE, 1),
    ("ne s'est pas fait attendre, 5", SCORE, 5),
    ("le problème est réglé 5", SCORE, 5),
    ("Bof 2", SCORE, 2),
    ("RAS 5", SCORE, 5),
    ("encore merci 5", SCORE, 5),
    # Dates, times, references, phone numbers, quantities: never a score.
    ("R-2026-000123 5", SCORE, 5),
    ("GRC R-2026-000123 : 4", SCORE, 4),
    ("venu le 3", UNCLEAR, None),
    ("venu le cinq", UNCLEAR, None),
    ("le 4/5", UNCLEAR, None),
    ("04/05", UNCLEAR, None),
    ("3/4", UNCLEAR, None),
    ("5 mai", UNCLEAR, None),
    ("du 3 au 5", UNCLEAR, None),
    ("passé à 14h", UNCLEAR, None),
    ("R-2026-000123", UNCLEAR, None),
    ("appelez au 06 12 34 56 78", UNCLEAR, None),
    ("5, venu le 3 mars à 14h", SCORE, 5),
    ("Réparé le 3, merci 5", SCORE, 5),
    ("Le 12/03 à 14h le plombier est passé. 4", SCORE, 4),
    ("intervention du 12 mars 5", SCORE, 5),
    ("le 5/5 4", SCORE, 4),
    ("Bâtiment 3, 5", UNCLEAR, None),
    ("appt 12 bat B, 5", UNCLEAR, None),
    ("5 rappelez moi au 06 12 34 56 78", SCORE, 5),
    ("venu en 2 jours, 5", SCORE, 5),
    ("2 techniciens, 5", SCORE, 5),
    ("5 ans que j'attends", UNCLEAR, None),
    ("il a fallu 3 passages", UNCLEAR, None),
    ("100 % satisfait", UNCLEAR, None),
    ("1er passage raté, 2eme ok 4", SCORE, 4),
    # A number inside a sentence is not clearly the answer.
    ("le technicien est venu avec 2 collègues et tout est bien", UNCLEAR, None),
    ("Bonjour le plombier a mis 3 jours avant de venir mais bon", UNCLEAR, None),
    ("je pense que 4 ça ira pour cette fois", UNCLEAR, None),
    # Several numbers.
    ("3 ou 4", UNCLEAR, None),
    ("entre 2 et 3", UNCLEAR, None),
    ("4-5", UNCLEAR, None),
    ("4 à 5", UNCLEAR, None),
    ("1 2 3 4 5", UNCLEAR, None),
    ("4 5", UNCLEAR, None),
    ("45", UNCLEAR, None),
    ("3️⃣ 4️⃣", UNCLEAR, None),
    ("5 pour le plombier 2 pour le ménage", UNCLEAR, None),
    ("5 10/10", UNCLEAR, None),
    # Out of range or another scale: never rescaled.
    ("10/10", UNCLEAR, None),
    ("20 sur 20", UNCLEAR, None),
    ("3 out of 10", UNCLEAR, None),
    ("0", UNCLEAR, None),
    ("6", UNCLEAR, None),
    ("10", UNCLEAR, None),
    ("six", UNCLEAR, None),
    ("0/5", UNCLEAR, None),
    ("🔟", UNCLEAR, None),
    # Not a whole number.
    ("4,5", UNCLEAR, None),
    ("4.5/5", UNCLEAR, None),
    ("5+", UNCLEAR, None),
    # Words that contradict the score: a scale read backwards.
    ("1 parfait", UNCLEAR, None),
    ("super 1", UNCLEAR, None),
    ("5 nul", UNCLEAR, None),
    ("5 😡", UNCLEAR, None),
    ("1/5 👍", UNCLEAR, None),
    ("5 (pas du tout)", UNCLEAR, None),
    ("1 tout à fait", UNCLEAR, None),
    ("5 very disappointed", UNCLEAR, None),
    # The work was not done, with a score only when one is clear and not contradictory.
    ("pas fait", NOT_DONE, None),
    ("Rien fait", NOT_DONE, None),
    ("personne n'est venu", NOT_DONE, None),
    ("Personne n’est venue", NOT_DONE, None),
    ("personne est venu", NOT_DONE, None),
    ("1 personne n'est venue", NOT_DONE, 1),
    ("1 jamais venu", NOT_DONE, 1),
    ("Il est venu 2 fois et toujours une fuite", NOT_DONE, None),
    ("le technicien doit repasser pour finir", NOT_DONE, None),
    ("3 mais il faut revenir pour la peinture", NOT_DONE, 3),
    ("2 pas fait", NOT_DONE, 2),
    ("toujours une fuite", NOT_DONE, None),
    ("ça fuit encore", NOT_DONE, None),
    ("Ca fuit toujours !", NOT_DONE, None),
    ("le problème est toujours là", NOT_DONE, None),
    ("la fuite persiste", NOT_DONE, None),
    ("pas réparé", NOT_DONE, None),
    ("toujours pas réparé 1", NOT_DONE, 1),
    ("pas encore terminé", NOT_DONE, None),
    ("Il n'est pas venu", NOT_DONE, None),
    ("ils ne sont pas passés", NOT_DONE, None),
    ("ça fonctionne toujours pas", NOT_DONE, None),
    ("aucune intervention", NOT_DONE, None),
    ("not fixed", NOT_DONE, None),
    ("nobody came", NOT_DONE, None),
    ("no one came", NOT_DONE, None),
    ("nobody came 1", NOT_DONE, 1),
    ("still leaking", NOT_DONE, None),
    ("it's still leaking 1", NOT_DONE, 1),
    ("nothing was done", NOT_DONE, None),
    ("5 pas fait", NOT_DONE, None),  # 5 with "not done": the scale read backwards?
    ("3 ou 4 pas fait", NOT_DONE, None),
    ("personne n'est venu le 3", NOT_DONE, None),
    # Emoji alone, blank, punctuation, words without a score.
    ("👍", UNCLEAR, None),
    ("😀", UNCLEAR, None),
    ("😡", UNCLEAR, None),
    ("👍🏽", UNCLEAR, None),
    ("", UNCLEAR, None),
    ("   ", UNCLEAR, None),
    ("\n\t", UNCLEAR, None),
    ("...", UNCLEAR, None),
    ("?", UNCLEAR, None),
    ("merci", UNCLEAR, None),
    ("Oui", UNCLEAR, None),
    ("non", UNCLEAR, None),
    ("ok", UNCLEAR, None),
    ("Parfait 👌", UNCLEAR, None),
    ("*****", UNCLEAR, None),
    ("pas du tout satisfait", UNCLEAR, None),
    # Opt-out and opt-in keywords, as the SMS webhook reads them.
    ("STOP", STOP, None),
    ("Stop", STOP, None),
    ("STOP ", STOP, None),
    ("stop.", STOP, None),
    ("STOP SMS", STOP, None),
    ("ARRÊT", STOP, None),
    ("Arret sms", STOP, None),
    ("ＳＴＯＰ", STOP, None),
    ("unsubscribe", STOP, None),
    ("START", START, None),
    ("start ", START, None),
    ("yes", START, None),
    ("stop aux fuites", UNCLEAR, None),
    ("5 stop", UNCLEAR, None),
    ("arrêtez les SMS svp", UNCLEAR, None),
    ("Merci de ne plus m'envoyer de SMS", UNCLEAR, None),
]


@pytest.mark.parametrize(("text", "kind", "score"), ANSWERS, ids=[repr(a[0]) for a in ANSWERS])
def test_answer_is_read(text: str, kind: AnswerKind, score: int | None) -> None:
    reading = read_survey_answer(text)

    assert (reading.kind, reading.score) == (kind, score), reading.reason


def test_the_table_is_large_and_has_no_duplicates() -> None:
    texts = [text for text, _, _ in ANSWERS]
    assert len(texts) >= 60
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        ("4", ""),
        ("4/5", ""),
        ("note 4", ""),
        ("4️⃣", ""),
        ("⭐⭐⭐⭐", ""),
        ("5 merci beaucoup", "merci beaucoup"),
        ("3, un peu long", "un peu long"),
        ("merci, 5", "merci"),
        ("5  très\n bien   fait !", "très bien fait !"),
        ("Bonjour, 5. Cordialement", "Bonjour, Cordialement"),
        ("5/5 👍", "👍"),
        ("2 pas fait", "pas fait"),
        ("R-2026-000123 5", "R-2026-000123"),
        ("Très bien 5 merci", "Très bien merci"),
        ("4 étoiles, rapide et propre", "rapide et propre"),
    ],
)
def test_comment_is_the_rest_as_written(text: str, comment: str) -> None:
    assert read_survey_answer(text).comment == comment


@pytest.mark.parametrize(
    "text", ["3 ou 4", "  pas   du\ntout  satisfait ", "😡", "toujours une fuite"]
)
def test_without_a_score_the_comment_is_the_whole_answer(text: str) -> None:
    assert read_survey_answer(text).comment == " ".join(text.split())


@pytest.mark.parametrize("text", ["STOP", "START", "", "  "])
def test_keywords_and_blanks_have_no_comment(text: str) -> None:
    assert read_survey_answer(text).comment == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("4", "score"),
        ("5 merci", "score with a comment"),
        ("pas fait", "work not done"),
        ("5 pas fait", "work not done; score contradicts the words"),
        ("3 ou 4", "several numbers"),
        ("10/10", "not on the 1 to 5 scale"),
        ("6", "out of range"),
        ("4,5", "not a whole number"),
        ("venu le 3", "date or time, no score"),
        ("merci", "no score"),
        ("👍", "emoji only"),
        ("...", "punctuation only"),
        ("", "empty"),
        ("1 parfait", "score contradicts the words"),
        ("je pense que 4 ça ira pour cette fois", "number inside a sentence"),
        ("STOP", "opt-out keyword"),
        ("stop aux fuites", "mentions stopping messages"),
    ],
)
def test_reason_says_why_in_a_few_words(text: str, reason: str) -> None:
    assert read_survey_answer(text).reason == reason


def test_reason_never_repeats_the_answer() -> None:
    # The reason goes to logs; the answer may hold a phone number or a name.
    for text in ["5 rappelez moi au 06 12 34 56 78", "Mme Dupont 3 ou 4", "pas fait Dupont"]:
        reading = read_survey_answer(text)
        assert "06" not in reading.reason
        assert "dupont" not in reading.reason.lower()


# --- the same keywords as the SMS webhook -----------------------------------------------------


def test_opt_out_and_opt_in_keywords_are_the_webhooks() -> None:
    from contractors import survey_answers

    assert survey_answers._STOP_KEYWORDS == callbacks._STOP_KEYWORDS
    assert survey_answers._START_KEYWORDS == callbacks._START_KEYWORDS


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        " stop ",
        "Stop!",
        "S T O P",
        "arrêt",
        "ARRET SMS",
        "stopall",
        "end",
        "quit",
        "start",
        "Yes.",
        "unstop",
        "stop aux fuites",
        "je ne veux pas que ça s'arrête",
        "5 stop",
        "stop 5",
        "STOPP",
        "4",
    ],
)
def test_keywords_are_read_exactly_as_the_webhook_reads_them(text: str) -> None:
    kind = read_survey_answer(text).kind

    assert (kind is STOP) == callbacks.is_stop_keyword(text)
    assert (kind is START) == callbacks.is_start_keyword(text)


# --- properties ---------------------------------------------------------------------------


def check_invariants(text: str, reading: SurveyReading) -> None:
    assert isinstance(reading.kind, AnswerKind), text
    if reading.kind in (UNCLEAR, STOP, START):
        assert reading.score is None, text
    if reading.kind is SCORE:
        assert reading.score is not None, text
        assert 1 <= reading.score <= 5, text
    if reading.kind is NOT_DONE and reading.score is not None:
        # A high score beside "not done" is a reversed scale: left to a person.
        assert 1 <= reading.score <= 3, text
    assert reading.reason, text
    assert reading.comment == reading.comment.strip(), text
    assert "  " not in reading.comment, text
    assert "\n" not in reading.comment, text


@pytest.mark.parametrize(("text", "kind", "score"), ANSWERS, ids=[repr(a[0]) for a in ANSWERS])
def test_the_reading_survives_case_spacing_and_wide_digits(
    text: str, kind: AnswerKind, score: int | None
) -> None:
    wide = str.maketrans({str(digit): chr(0xFF10 + digit) for digit in range(10)})
    variants = {
        text.upper(),
        text.lower(),
        f"  {text}\n",
        text.replace(" ", "\u00a0"),
        text.translate(wide),
    }
    for variant in variants:
        reading = read_survey_answer(variant)
        check_invariants(variant, reading)
        assert (reading.kind, reading.score) == (kind, score), variant


FRAGMENTS = [
    *[str(n) for n in range(8)],
    "10",
    "12",
    "2026",
    "4/5",
    "10/10",
    "3 sur 5",
    "4,5",
    "5+",
    "un",
    "une",
    "deux",
    "cinq",
    "six",
    "one",
    "five",
    "note",
    "étoiles",
    "⭐",
    "⭐⭐⭐",
    "☆",
    "4️⃣",
    "５",
    "👍",
    "😡",
    "🔟",
    "merci",
    "très bien",
    "parfait",
    "nul",
    "pas",
    "fait",
    "pas fait",
    "personne n'est venu",
    "toujours une fuite",
    "rien à redire",
    "le",
    "le 3",
    "à 14h",
    "12 mars",
    "R-2026-000123",
    "06 12 34 56 78",
    "2 jours",
    "stop",
    "STOP",
    "start",
    "ou",
    "et",
    "sur",
    "/",
    ",",
    ".",
    "!",
    "?",
    "(",
    ")",
    "-",
    "\n",
    "\u00a0",
    "\u202f",
    "\u200b",
]


def test_random_answers_never_give_an_impossible_reading() -> None:
    rng = random.Random(20261207)
    seen: set[AnswerKind] = set()
    for _ in range(4000):
        parts = rng.choices(FRAGMENTS, k=rng.randint(1, 7))
        text = rng.choice(["", " "]).join(parts)
        reading = read_survey_answer(text)
        check_invariants(text, reading)
        seen.add(reading.kind)
    assert seen == set(AnswerKind)


def test_several_different_scores_are_never_read_as_one() -> None:
    rng = random.Random(15)
    joins = [" ", " ou ", " et ", ", ", "-", " à ", "\n", " puis "]
    for _ in range(500):
        first, second = rng.sample(range(1, 6), 2)
        words = ["", "merci", "bien", "👍"]
        text = f"{rng.choice(words)} {first}{rng.choice(joins)}{second} {rng.choice(words)}"
        reading = read_survey_answer(text)
        assert reading.kind is UNCLEAR, text
        assert reading.score is None, text
