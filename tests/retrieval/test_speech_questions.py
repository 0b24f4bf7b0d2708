"""Which questions ask what someone said, about what, and which ask who said something."""

from __future__ import annotations

import pytest

from retrieval.conversation import rewrite_follow_up
from retrieval.speech_questions import SpeechQuestion, speech_question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Blinken say about a multinational force?",
         SpeechQuestion("said", "Blinken", "a multinational force")),
        ("What has Jerome Powell said on inflation?",
         SpeechQuestion("said", "Jerome Powell", "inflation")),
        ("Did Zelensky comment on the price of Norwegian salmon?",
         SpeechQuestion("said", "Zelensky", "the price of Norwegian salmon")),
        ("What is Powell's view on interest rates?",
         SpeechQuestion("said", "Powell", "interest rates")),
        ("What did the State Department say about visas?",
         SpeechQuestion("said", "the State Department", "visas")),
        ("What did Jens Stoltenberg call Russia's invasion of Ukraine?",
         SpeechQuestion("said", "Jens Stoltenberg", "Russia's invasion of Ukraine", True)),
        ("How did Powell describe the jobs report?",
         SpeechQuestion("said", "Powell", "the jobs report", True)),
        ("What did Blinken say?", SpeechQuestion("said", "Blinken", "")),
        ("What else did Blinken say? (Gaza)", SpeechQuestion("said", "Blinken", "Gaza")),
        ("Who said a two-state solution was the only viable path forward?",
         SpeechQuestion("who_said", None, "a two-state solution was the only viable path forward")),
        ("Who called the verdict a disgrace?",
         SpeechQuestion("who_said", None, "the verdict a disgrace")),
    ],
)  # fmt: skip
def test_speech_questions_are_recognised(question: str, expected: SpeechQuestion):
    assert speech_question(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Who won Super Bowl 57?",
        "Who claimed victory in Italy's general election?",  # a win, not a statement
        "What did he say?",  # a pronoun the conversation has not resolved
        "How many people were killed in the Hamas attack on Oct. 7?",
        "What is the average yearly pay for an author in the UK, according to a new report?",
        "Why did it take the winners two months to claim the jackpot?",
    ],
)
def test_other_questions_are_not_speech_questions(question: str):
    assert speech_question(question) is None


def test_follow_ups_keep_asking_about_the_same_person():
    first = "What did Powell say about interest rates?"
    assert rewrite_follow_up("What else did he say?", first) == "What else did Powell say?"
    assert (
        rewrite_follow_up("And about inflation?", first) == "What did Powell say about inflation?"
    )
    assert speech_question(rewrite_follow_up("And about inflation?", first) or "") == (
        SpeechQuestion("said", "Powell", "inflation")
    )
