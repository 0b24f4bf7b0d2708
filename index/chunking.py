"""Article → sentence-aware chunks sized with the model's own tokenizer.

Pure functions: a chunk records character offsets into `Article.text`, so every stored passage
is the article's own text and every sentence can be quoted back exactly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import blingfire

TokenCounter = Callable[[Sequence[str]], list[int]]
TITLE_CHARS = 200

LINE = re.compile(r"[^\n]+")
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkerSettings:
    """How articles are cut; stored in the manifest so an update chunks like the full build."""

    target_tokens: int = 240
    max_tokens: int = 256
    overlap_sentences: int = 1
    splitter: str = "blingfire"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]
    tokens: int


def chunk_id(article_id: str, start: int, end: int) -> int:
    """A stable 63-bit id: the same article span gets the same id in every build."""
    digest = hashlib.sha1(f"{article_id}\x00{start}\x00{end}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def embedding_text(title: str, passage: str) -> str:
    """What the model sees: the headline gives a passage its context."""
    return f"{title[:TITLE_CHARS]}\n{passage}" if title else passage


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans over `text`; line breaks always end a sentence (headings, bylines)."""
    spans: list[tuple[int, int]] = []
    for line in LINE.finditer(text):
        if not line.group().strip():
            continue
        _, offsets = blingfire.text_to_sentences_and_offsets(line.group())
        for start, end in offsets:
            start, end = _strip(text, line.start() + start, line.start() + end)
            if end > start:
                spans.append((start, end))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long_sentence(
    text: str, span: tuple[int, int], budget: int, count_tokens: TokenCounter
) -> list[tuple[int, int]]:
    """Cut a sentence longer than the model's window at word boundaries (tables, lists)."""
    offset = span[0]
    words = [(m.start() + offset, m.end() + offset) for m in WORD.finditer(text[offset : span[1]])]
    word_tokens = count_tokens([text[a:b] for a, b in words])
    pieces: list[tuple[int, int]] = []
    piece_start, used = words[0][0], 0
    previous_end = words[0][1]
    for (start, end), tokens in zip(words, word_tokens, strict=True):
        cost = tokens - 2  # each count includes [CLS] and [SEP]
        if used and used + cost > budget:
            pieces.append((piece_start, previous_end))
            piece_start, used = start, 0
        used += cost
        previous_end = end
    pieces.append((piece_start, previous_end))
    return pieces


def chunk_article(
    article_id: str,
    title: str,
    text: str,
    count_tokens: TokenCounter,
    settings: ChunkerSettings = ChunkerSettings(),
) -> list[Chunk]:
    """Pack whole sentences into chunks of about `target_tokens`, never over `max_tokens`.

    The budget covers the embedded text (title + passage + special tokens), so the model never
    truncates. Consecutive chunks share `overlap_sentences` sentences.
    """
    sentences = split_sentences(text)
    if not sentences:
        return []
    title_cost = count_tokens([title[:TITLE_CHARS]])[0] - 1 if title else 0
    hard_budget = settings.max_tokens - 2 - title_cost - 1
    target = min(settings.target_tokens, hard_budget)
    if hard_budget < 8:
        raise ValueError(f"title of {article_id!r} leaves no room for text in the model window")
    costs = [count - 2 for count in count_tokens([text[a:b] for a, b in sentences])]

    units: list[tuple[tuple[int, int], int]] = []
    for span, cost in zip(sentences, costs, strict=True):
        if cost <= target:
            units.append((span, cost))
        else:
            pieces = _split_long_sentence(text, span, target, count_tokens)
            piece_costs = [c - 2 for c in count_tokens([text[a:b] for a, b in pieces])]
            units.extend(zip(pieces, piece_costs, strict=True))

    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, used = first, 0
        while last < len(units) and (last == first or used + units[last][1] <= target):
            used += units[last][1]
            last += 1
        members = units[first:last]
        start, end = members[0][0][0], members[-1][0][1]
        chunks.append(
            Chunk(
                id=chunk_id(article_id, start, end),
                article_id=article_id,
                ordinal=len(chunks),
                start=start,
                end=end,
                sentences=tuple(span for span, _ in members),
                tokens=used,
            )
        )
        if last >= len(units):
            break
        first = max(first + 1, last - settings.overlap_sentences)
    return _enforce_window(chunks, title, text, count_tokens, settings.max_tokens)


def _enforce_window(
    chunks: list[Chunk], title: str, text: str, count_tokens: TokenCounter, max_tokens: int
) -> list[Chunk]:
    """Token counts of joined sentences can differ from their sum; check the real embedded text."""
    exact = count_tokens([embedding_text(title, text[c.start : c.end]) for c in chunks])
    for chunk, tokens in zip(chunks, exact, strict=True):
        if tokens > max_tokens:
            raise ValueError(
                f"chunk {chunk.ordinal} of {chunk.article_id!r} has {tokens} tokens "
                f"(model window {max_tokens})"
            )
    return chunks
