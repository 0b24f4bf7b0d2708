"""How a statement answer reads: each chosen statement quoted with its speaker, source and date
around it — `Antony Blinken declined to comment on … (Bloomberg, 3 Nov 2023) [1].` or `“…,”
Antony Blinken said (…) [1].` — with the framing words outside the cited span.

Kept apart from choosing the statements: this is the wording and the citations of the answer, and
it holds to one contract, that a citation's quote is `article text[start:end]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.backend import IndexBackend
from index.speech import word_set
from index.stored_statements import StoredStatement
from retrieval.dates import human_date
from retrieval.deep_links import deep_url
from retrieval.schema import Answer, Citation
from retrieval.search import also_in
from retrieval.statement_speakers import WORD

DIRECT_VERBS = word_set(
    "said added wrote warned argued noted insisted explained stressed claimed stated asked "
    "replied responded acknowledged admitted announced declared tweeted continued recalled "
    "cautioned confirmed denied asserted emphasized predicted suggested"
)
MAX_VERB_GAP = 40  # "told CNN on Tuesday that": what may stand between a verb and its content


@dataclass(frozen=True)
class ScoredStatement:
    """A statement chosen for the answer, with the share of the topic it holds and its score."""

    statement: StoredStatement
    coverage: float
    score: float


def framed_answer(chosen: Sequence[ScoredStatement], reader: IndexBackend) -> Answer:
    sentences, citations = [], []
    for n, scored in enumerate(chosen, start=1):
        statement = scored.statement
        text = reader.text(statement.article_id)
        article = reader.article(statement.article_id)
        start, end, framing = frame(statement, text)
        where = ", ".join(filter(None, (article.source, human_date(article.date))))
        sentences.append(framing(f" ({where})" if where else "") + f" [{n}].")
        chunk = reader.chunk(statement.chunk_id)
        citations.append(
            Citation(
                n=n,
                article_id=statement.article_id,
                title=article.title,
                source=article.source,
                date=article.date,
                url=article.url,
                passage=text[chunk.start : chunk.end],
                quote=text[start:end],
                start=start,
                end=end,
                score=round(scored.score, 4),
                speaker=statement.speaker,
                deep_url=deep_url(article.url, text, start, end),
                also_in=list(also_in(reader, statement.article_id)),
            )
        )
    return Answer(answer=" ".join(sentences), abstained=False, citations=citations)


def frame(statement: StoredStatement, text: str) -> tuple[int, int, Callable[[str], str]]:
    """(start, end) of the quote to cite, and a function that puts it in a sentence naming the
    speaker around a `where` ("(Bloomberg, 3 Nov 2023)") — the sentence without its marker."""
    speaker, start, end = statement.speaker, statement.content_start, statement.content_end
    if statement.kind == "direct":
        while end > start and text[end - 1] in ".,;: ":
            end -= 1
        quote = text[start:end]
        verb = statement.verb if statement.verb in DIRECT_VERBS else "said"
        comma = "" if quote.endswith(("?", "!")) else ","
        return start, end, lambda where: f"“{quote}{comma}” {speaker} {verb}{where}"
    verb_at = _verb_before(statement, text)
    if verb_at is not None:
        return verb_at, end, lambda where: f"{speaker} {text[verb_at:end]}{where}"
    quote = _lower_first(text[start:end], text)
    return start, end, lambda where: f"According to {speaker}{where}, {quote}"


def _verb_before(statement: StoredStatement, text: str) -> int | None:
    """Where the statement's verb stands between its sentence's start and its content ("…
    declined to comment on [content]"), when it does."""
    if statement.verb == "according to":
        return None
    pattern = re.compile(rf"\b{re.escape(statement.verb)}\b")
    found = list(pattern.finditer(text, statement.sentence_start, statement.content_start))
    if not found or statement.content_start - found[-1].end() > MAX_VERB_GAP:
        return None
    return found[-1].start()


def _lower_first(quote: str, text: str) -> str:
    """The quote with its first letter in lower case when that word is written so elsewhere in
    the article (a common word, not a name)."""
    first = WORD.match(quote)
    if first is None or first.group() == "I":
        return quote
    word = first.group()
    if re.search(rf"(?<![.!?]\s)\b{re.escape(word.lower())}\b", text):
        return word.lower() + quote[len(word) :]
    return quote
