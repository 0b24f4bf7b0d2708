"""The service: batched questions answer like single ones; conversations stay in order."""

from __future__ import annotations

import weakref

import pytest

from bot.factories import make_embedder
from bot.settings import Settings
from index.embedder import openvino_bf16_available
from retrieval.search import SearchFilters

QUESTIONS = [
    "What did Blinken say about a multinational force?",
    "Which country backs Hezbollah?",
    "How many people did Hamas kill on Oct. 7?",
]


def test_ask_many_answers_like_ask(service):
    batched = service.ask_many([{"question": q} for q in QUESTIONS])
    for question, answer in zip(QUESTIONS, batched, strict=True):
        single = service.ask(question)
        assert answer.answer == single.answer
        assert [c.quote for c in answer.citations] == [c.quote for c in single.citations]
        assert answer.session_id != single.session_id


def test_ask_many_keeps_one_conversation_in_order(service):
    first = service.ask(QUESTIONS[0])
    results = service.ask_many(
        [
            {"question": "And what about a two-state solution?", "session_id": first.session_id},
            {"question": "Who did he meet with?", "session_id": first.session_id},
            {"question": "", "k": "not a number"},
        ]
    )
    assert "two-state solution" in results[0].answer
    assert results[1].rewritten_query == "Who did Blinken meet with?"
    assert isinstance(results[2], Exception)


def test_auto_encoder_uses_openvino_only_where_the_cpu_computes_bfloat16(tmp_path):
    settings = Settings(_env_file=None, cache_dir=tmp_path)
    expected = "openvino" if openvino_bf16_available() else "onnx"
    assert make_embedder(settings).backend == expected
    chosen = settings.model_copy(update={"encoder": "torch"})
    assert make_embedder(chosen).backend == "torch"
    assert make_embedder(settings).cache_dir == tmp_path


def test_reload_frees_the_previous_index_and_keeps_answering(service):
    previous = weakref.ref(service.retriever)
    service.reload()
    assert previous() is None  # the loaded objects are spared from GC scans, yet not leaked
    assert "multinational force" in service.ask(QUESTIONS[0]).answer


def test_filtered_and_unfiltered_questions_in_one_batch_answer_like_single_ones(service):
    elsewhere = SearchFilters(sources=("Reuters",))
    batched = service.ask_many(
        [{"question": QUESTIONS[0], "filters": elsewhere}, {"question": QUESTIONS[0]}]
    )
    single = [service.ask(QUESTIONS[0], filters=elsewhere), service.ask(QUESTIONS[0])]
    assert [a.answer for a in batched] == [a.answer for a in single]
    assert batched[0].abstained and not batched[1].abstained  # the seed is Bloomberg's


def test_a_stateless_question_reads_starts_and_keeps_no_conversation(service):
    first = service.ask(QUESTIONS[0])
    count = len(service.sessions)
    alone = service.ask("And what about a two-state solution?", stateless=True)
    timeline = service.ask("Timeline of the Gaza war", stateless=True)
    assert alone.session_id is None and timeline.session_id is None
    assert alone.rewritten_query is None  # no history to lean on
    assert len(service.sessions) == count
    assert len(service.sessions.find(first.session_id).turns) == 1
    with pytest.raises(ValueError):
        service.ask(QUESTIONS[0], session_id=first.session_id, stateless=True)
