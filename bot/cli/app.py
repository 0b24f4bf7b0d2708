"""The `newsdesk` command: index, ask, coverage, timeline, chat, eval, serve, telegram."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from bot.cli.eval_command import evaluate_command
from bot.cli.index_commands import index_app
from bot.cli.support import (
    IndexDirOption,
    JsonOption,
    ModelOption,
    configure_logging,
    fail,
    friendly_errors,
    load_service,
    load_settings,
    log_service_events,
)
from bot.render import render_text, terminal_safe
from retrieval.coverage import coverage_text
from retrieval.search import SearchFilters

app = typer.Typer(
    help="Ask questions of a folder of news articles and get answers with cited sources.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(index_app, name="index")
console = Console()

KOption = Annotated[int, typer.Option("--k", min=1, max=20, help="Passages to retrieve.")]
SourceOption = Annotated[
    list[str] | None, typer.Option("--source", help="Only these outlets (repeatable).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only articles on or after YYYY-MM-DD.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Only articles on or before YYYY-MM-DD.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Answer as of YYYY-MM-DD: reports from around and before that "
                 "day come first (nothing is left out). Default: today.", show_default=False),
]  # fmt: skip
HostOption = Annotated[str, typer.Option(envvar="NEWSDESK_HOST", help="Interface to bind.")]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False):
    """newsdesk: cited answers from your news articles."""
    configure_logging(verbose)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2023-11-03, not {value!r}.")


def _filters(source: list[str] | None, since: str | None, until: str | None) -> SearchFilters:
    sources = tuple(name.strip() for name in source or ())
    if not all(sources):
        fail("--source needs an outlet's name, like --source Bloomberg.")
    filters = SearchFilters(sources, _date(since, "--since"), _date(until, "--until"))
    if filters.since and filters.until and filters.since > filters.until:
        fail("--since is after --until; nothing could match.")
    return filters


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    k: KOption = 5,
    source: SourceOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    index_dir: IndexDirOption = None,
    model: ModelOption = None,
) -> None:
    """Answer one question with numbered, cited sources."""
    day = _date(as_of, "--as-of")
    if not question.strip():
        fail("the question is empty.")
    filters = _filters(source, since, until)
    service = load_service(index_dir, model)
    with friendly_errors():
        answer = service.ask(question, k=k, filters=filters, as_of=day)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(render_text(answer), highlight=False, markup=False, soft_wrap=True)


@app.command()
def coverage(
    topic: Annotated[str, typer.Argument(help="What to count articles on, in quotes.")],
    source: SourceOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
    index_dir: IndexDirOption = None,
) -> None:
    """How many articles mention a topic, by outlet and month, with the top headlines."""
    if not topic.strip():
        fail("the topic is empty.")
    filters = _filters(source, since, until)
    service = load_service(index_dir)
    with friendly_errors():
        found = service.coverage(topic.strip(), filters)
    if as_json:
        typer.echo(json.dumps(asdict(found), ensure_ascii=False, indent=2))
    else:
        console.print(coverage_text(found), highlight=False, markup=False, soft_wrap=True)


@app.command()
def timeline(
    topic: Annotated[str, typer.Argument(help="The story, in quotes (or a question about it).")],
    source: SourceOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many lines (the next page).")
    ] = 0,
    as_json: JsonOption = False,
    index_dir: IndexDirOption = None,
    model: ModelOption = None,
) -> None:
    """How a story unfolded: its dated events, one cited line per day, earliest first."""
    if not topic.strip():
        fail("the topic is empty.")
    filters = _filters(source, since, until)
    service = load_service(index_dir, model)
    with friendly_errors():
        answer = service.timeline(topic, filters=filters, offset=offset)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(render_text(answer), highlight=False, markup=False, soft_wrap=True)
    if answer.timeline is not None and answer.timeline.more:
        next_page = offset + len(answer.timeline.events)
        console.print(f"(--offset {next_page} shows the next ones)", highlight=False, markup=False)


CHAT_HELP = "Ask anything. Follow-ups use the conversation. Commands: more, /sources, /reset, quit."


@app.command()
def chat(
    k: KOption = 5,
    as_of: AsOfOption = None,
    index_dir: IndexDirOption = None,
    model: ModelOption = None,
) -> None:
    """An interactive conversation in the terminal (follow-ups, `more`, /sources, /reset)."""
    day = _date(as_of, "--as-of")
    service = load_service(index_dir, model)
    summary = service.summary()
    answering_as_of = f"Answering as of {day.isoformat()}. " if day else ""
    console.print(
        f"newsdesk — {summary.articles} articles ({summary.first_date} – {summary.last_date}). "
        + answering_as_of
        + CHAT_HELP,
        highlight=False,
    )
    session_id, last = None, None
    while True:
        try:
            line = console.input("[bold]> [/]").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if line.lower() in {"quit", "exit", "/quit"}:
            break
        if not line:
            continue
        with friendly_errors():
            if line == "/reset":
                if session_id:
                    service.reset_session(session_id)
                session_id, last = None, None
                console.print("Conversation cleared.")
                continue
            if line == "/sources":
                if last is None or not last.citations:
                    console.print(
                        "No answer yet." if last is None else "That answer has no sources."
                    )
                else:
                    console.print(
                        render_text(last, quotes=True), highlight=False, markup=False,
                        soft_wrap=True,
                    )  # fmt: skip
                continue
            if line.startswith("/") and line.lower() != "/more":
                console.print(f"Unknown command {line.split()[0]}. {CHAT_HELP}", markup=False)
                continue
            if line.lower() in {"more", "/more"}:
                if session_id is None:
                    console.print("Ask a question first.")
                    continue
                last = service.more(session_id)
            else:
                last = service.ask(line, session_id=session_id, k=k, as_of=day)
            session_id = last.session_id
        if last.rewritten_query:
            searching = Text(f"(searching for: {terminal_safe(last.rewritten_query)})", style="dim")
            console.print(searching, highlight=False)
        console.print(render_text(last), highlight=False, markup=False, soft_wrap=True)


app.command("eval")(evaluate_command)  # registered here: --help lists it after chat


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="NEWSDESK_PORT", help="TCP port.")] = 8000,
    index_dir: IndexDirOption = None,
    telegram: Annotated[
        bool, typer.Option("--telegram", help="Run the Telegram bot in the same process.")
    ] = False,
    webhook_url: Annotated[
        str | None,
        typer.Option(
            "--webhook-url",
            show_default=False,
            help="With --telegram: receive updates by webhook at this public https URL (its "
            "path is served here; needs NEWSDESK_TELEGRAM_WEBHOOK_SECRET) instead of polling. "
            r"\[env var: NEWSDESK_TELEGRAM_WEBHOOK_URL]",
        ),
    ] = None,
) -> None:
    """Run the HTTP API and the chat page (http://HOST:PORT/), optionally the Telegram bot."""
    from bot.cli.edges import serve_http

    settings = load_settings(index_dir=index_dir, telegram_webhook_url=webhook_url)
    if webhook_url and not telegram:
        fail("--webhook-url receives Telegram updates: give --telegram with it.")
    log_service_events()
    with friendly_errors():
        serve_http(settings, host, port, telegram=telegram)


@app.command()
def telegram(index_dir: IndexDirOption = None) -> None:
    """Run the Telegram bot (long polling); needs NEWSDESK_TELEGRAM_TOKEN."""
    from bot.telegram.app import run_telegram

    settings = load_settings(index_dir=index_dir)
    log_service_events()
    with friendly_errors():
        run_telegram(settings)


if __name__ == "__main__":
    app()
