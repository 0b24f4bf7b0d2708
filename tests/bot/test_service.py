"""The service: batched questions answer like single ones; conversations stay in order."""

from __future__ import annotations

from bot.service import make_embedder
from bot.settings import Settings
from index.embedder import cpu_has_bf16_units

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


def test_auto_encoder_uses_bfloat16_only_to_build_and_only_where_the_cpu_has_it(tmp_path):
    settings = Settings(_env_file=None, cache_dir=tmp_path)
    assert make_embedder(settings).backend == "onnx"  # questions: same vector in any batch
    expected = "bf16" if cpu_has_bf16_units() else "onnx"
    assert make_embedder(settings, for_indexing=True).backend == expected
    chosen = settings.model_copy(update={"encoder": "torch"})
    assert make_embedder(chosen, for_indexing=True).backend == "torch"
    assert make_embedder(settings).cache_dir == tmp_path
