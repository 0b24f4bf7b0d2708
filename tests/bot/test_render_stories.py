"""Other articles of a cited story, as the terminal and Telegram show them."""

from __future__ import annotations

from bot.render import also_note, answer_html, render_text
from retrieval.schema import AlsoIn
from tests.bot.test_render import answer, citation
from tests.telegram_standin import parse_telegram_html


def others(*sources: str | None) -> list[AlsoIn]:
    return [AlsoIn(source, "2023-11-04", None, f"copy{n}") for n, source in enumerate(sources)]


def test_two_outlets_are_named_and_the_rest_counted():
    assert also_note(citation(also_in=others("Reuters"))) == " · also reported by Reuters"
    assert also_note(citation(also_in=others("Reuters", "AP"))) == (
        " · also reported by Reuters and AP"
    )
    many = citation(also_in=others("Reuters", "AP", "BBC", "Reuters", None, "NPR"))
    assert also_note(many) == " · also reported by Reuters, AP and 3 more"
    assert also_note(citation()) == ""


def test_terminal_and_telegram_show_who_else_reported_it():
    shown = answer(citations=[citation(also_in=others("Reuters", "AP", "BBC"))])
    assert "— Bloomberg, 2023-11-03 · also reported by Reuters, AP and 1 more" in render_text(shown)
    telegram = answer_html(shown)
    parse_telegram_html(telegram)  # Telegram's parser accepts it
    assert "also reported by Reuters, AP and 1 more" in telegram
