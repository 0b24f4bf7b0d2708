"""Follow-up rewriting and the session store (no model needed)."""

from __future__ import annotations

import time

import pytest

from retrieval.conversation import SessionStore, is_follow_up, named_entities, rewrite_follow_up

FIRST = "What did Blinken say about a multinational force?"


@pytest.mark.parametrize(
    ("question", "rewritten"),
    [
        (
            "And what about a two-state solution?",
            "What did Blinken say about a two-state solution?",
        ),
        ("Who did he meet with?", "Who did Blinken meet with?"),
        ("What else did he say?", "What else did Blinken say?"),
        ("What is his view on Iran?", "What is Blinken's view on Iran?"),
    ],
)
def test_follow_ups_are_rewritten_from_the_previous_turn(question, rewritten):
    assert rewrite_follow_up(question, FIRST) == rewritten


@pytest.mark.parametrize(
    ("question", "rewritten"),
    [
        ("Who succeeded her?", "Who succeeded Queen Elizabeth?"),
        ("Did anyone meet her in Paris?", "Did anyone meet Queen Elizabeth in Paris?"),
        ("What did her son say?", "What did Queen Elizabeth's son say?"),
    ],
)
def test_her_is_possessive_only_before_a_noun(question, rewritten):
    assert rewrite_follow_up(question, "When did Queen Elizabeth die?") == rewritten


def test_they_after_a_who_question_is_who_the_answer_named():
    answer = "Losers in the first final, Argentina finally won the World Cup. [1]"
    assert rewrite_follow_up("Who did they beat?", "Who won the World Cup final?", answer) == (
        "Who did Argentina beat? (World Cup)"
    )


def test_names_come_from_the_latest_turn_that_has_some():
    earlier = ["Who won the World Cup final?", "Who did Argentina beat? (World Cup)"]
    assert rewrite_follow_up("Who scored for them?", "What was the score?", "", earlier) == (
        "Who scored for Argentina? (World Cup)"
    )


def test_a_possessive_subject_is_carried_as_the_name():
    assert rewrite_follow_up("What is his next step?", "What is Musk's plan for Twitter?") == (
        "What is Musk's next step? (Twitter)"
    )
    assert rewrite_follow_up("And what about Tesla?", "What is Musk's plan?") == (
        "And what about Tesla? (Musk)"
    )


def test_a_question_with_no_content_of_its_own_asks_about_the_previous_one():
    musk = "What did Elon Musk say about Twitter layoffs?"
    why = rewrite_follow_up("Why?", musk)
    assert why == f"Why? ({musk})"
    assert rewrite_follow_up("And when?", why) == f"And when? ({musk})"  # not nested
    assert rewrite_follow_up("How many?", musk) == f"How many? ({musk})"
    assert rewrite_follow_up("What is inflation?", musk) is None  # a topic of its own
    assert rewrite_follow_up("Thanks", musk) is None


def test_questions_that_stand_alone_are_left_alone():
    assert rewrite_follow_up("What did Netanyahu say about hostages?", FIRST) is None
    assert not is_follow_up("How many people were killed in Gaza?")


def test_entities_are_carried_when_there_is_no_pronoun_to_replace():
    rewritten = rewrite_follow_up("And anything on Iran?", "Who did Blinken meet in Tel Aviv?")
    assert "Blinken" in rewritten and "Tel Aviv" in rewritten


@pytest.mark.parametrize(
    ("answer", "rewritten"),
    [
        ("Novak Djokovic beat Nick Kyrgios on Sunday. [1]", "What else did Novak Djokovic say?"),
        ("On Sunday, Serbia's Novak Djokovic won again. [1]", "What else did Novak Djokovic say?"),
        ("Wimbledon went to Novak Djokovic. [1]", "What else did Novak Djokovic say?"),
        (  # a capital that only starts a sentence, an acronym and an event are no person
            "Rain fell. With little match play, French Open champion Iga Swiatek leads. [1]",
            "What else did Iga Swiatek say?",
        ),
        (
            "London (CNN) Serena Williams returns to the court. [1]",
            "What else did Serena Williams say?",
        ),
        ("Both Anisimova and Fritz are Americans. [1]", "What else did Anisimova say?"),
        ("Britain's new leader replaces Novak Djokovic. [1]", "What else did Novak Djokovic say?"),
    ],
)
def test_he_after_a_who_question_is_the_person_the_answer_named(answer, rewritten):
    assert rewrite_follow_up("What else did he say?", "Who won Wimbledon?", answer) == (
        f"{rewritten} (Wimbledon)"
    )


def test_he_stays_the_person_asked_about_after_other_questions():
    blinken = rewrite_follow_up("What else did he say?", FIRST, "Netanyahu agreed. [1]")
    assert blinken == "What else did Blinken say?"  # not a "who" question: he is still Blinken


def test_named_entities_skip_question_words():
    assert named_entities("What did US Secretary of State Antony Blinken say in Tel Aviv?") == [
        "US Secretary of State Antony Blinken",
        "Tel Aviv",
    ]


def test_sessions_expire_after_their_time_to_live():
    store = SessionStore(ttl_s=0.05)
    conversation = store.get(None)
    assert store.find(conversation.id) is conversation
    time.sleep(0.1)
    assert store.find(conversation.id) is None
    assert store.get(conversation.id) is not conversation


def test_least_recently_used_sessions_are_evicted_at_capacity():
    store = SessionStore(capacity=2)
    first, second = store.get("a"), store.get("b")
    store.get("a")
    store.get("c")
    assert store.find("a") is first and store.find("b") is None and len(store) == 2
    assert second.id == "b"


def test_dropping_a_session_forgets_it():
    store = SessionStore()
    store.get("x")
    assert store.drop("x") and not store.drop("x") and store.find("x") is None
