"""Answer → plain text (terminal), Telegram HTML (split below 4096 characters) and JSON.

All article text is escaped with `html.escape` before it goes near a Telegram message, and only
http(s) URLs become links; the splitter cuts only between tokens (never inside a tag or an
entity), preferring paragraph and citation boundaries, and closes/reopens any tag that spans a
cut so every part is valid HTML. Text for a terminal has its control characters replaced, so an
article cannot send escape sequences to the reader's terminal.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from retrieval.schema import Answer, Citation

TELEGRAM_LIMIT = 4096
"""Telegram refuses messages longer than this (in UTF-16 code units, after entity parsing)."""

_TOKEN = re.compile(r"<[^<>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]+);|[^<&]+|[<&]", re.S)
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")
_VOID_TAGS = frozenset({"br"})
# C0 and C1 control characters and DEL, except tab and newline: ESC would start a terminal
# escape sequence (colours, cursor moves, window titles, OSC 8 links, clipboard writes).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def render_json(answer: Answer) -> dict[str, Any]:
    """The one answer schema as a JSON-ready dict (same shape for CLI `--json`, HTTP, Telegram)."""
    return answer.to_dict()


def source_label(citation: Citation) -> str:
    """'Bloomberg, 2023-11-03' — outlet and date, whichever are known."""
    return ", ".join(part for part in (citation.source, citation.date) if part) or "unknown source"


def speaker_note(speakers: Iterable[str | None]) -> str:
    """' · quoting Antony Blinken' — whose words a source line's quotes are (each name once,
    in order), or '' when none is an attributed statement. The one wording every edge uses."""
    names = list(dict.fromkeys(name.strip() for name in speakers if name and name.strip()))
    if not names:
        return ""
    people = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f" · quoting {people}"


def also_note(citation: Citation) -> str:
    """' · also reported by Reuters, AP and 3 more' — the other articles of the cited story
    (wire copies, other versions), by outlet, or '' when no other article tells it."""
    if not citation.also_in:
        return ""
    sources = [other.source or "an unnamed outlet" for other in citation.also_in]
    named = list(dict.fromkeys(sources))[:2]
    more = sum(1 for source in sources if source not in named)
    if more:
        return f" · also reported by {', '.join(named)} and {more} more"
    return " · also reported by " + " and ".join(named)


def by_article(citations: Iterable[Citation]) -> list[tuple[str, Citation, str]]:
    """('[1, 3]', first citation, speaker note) per cited article, in order of first use: an
    article quoted twice is listed once, naming everyone quoted from it."""
    numbers: dict[str, list[int]] = {}
    first: dict[str, Citation] = {}
    speakers: dict[str, list[str | None]] = {}
    for citation in citations:
        numbers.setdefault(citation.article_id, []).append(citation.n)
        first.setdefault(citation.article_id, citation)
        speakers.setdefault(citation.article_id, []).append(citation.speaker)
    return [
        (f"[{', '.join(map(str, numbers[a]))}]", first[a], speaker_note(speakers[a])) for a in first
    ]


def timeline_note(answer: Answer) -> str:
    """ "5 more dates follow." under a timeline that has more lines than it shows, else ""."""
    more = answer.timeline.more if answer.timeline is not None else 0
    if not more:
        return ""
    return f"{more} more {'date follows' if more == 1 else 'dates follow'}."


def render_text(answer: Answer, *, quotes: bool = False) -> str:
    """A readable answer for a terminal: the answer, then numbered sources with their links
    (each article once), or with `quotes` every citation with the sentence quoted from it."""
    lines = [answer.answer.strip()]
    if note := timeline_note(answer):
        lines.append(note)
    if answer.citations:
        lines += ["", "Sources:"]
        listed = (
            [(f"[{c.n}]", c, speaker_note([c.speaker])) for c in answer.citations]
            if quotes
            else by_article(answer.citations)
        )
        for marker, citation, quoting in listed:
            title = citation.title or "Untitled"
            also = also_note(citation)
            lines.append(f"{marker} {title} — {source_label(citation)}{quoting}{also}")
            if citation.url:
                lines.append(f"    {citation.url}")
            if quotes:
                lines.append(f"    “{citation.quote.strip()}”")
    return terminal_safe("\n".join(lines))


def terminal_safe(text: str) -> str:
    """`text` with control characters (ESC above all) shown as U+FFFD instead of obeyed."""
    return _CONTROL.sub("\ufffd", text)


def safe_href(url: str | None) -> str | None:
    """The URL, attribute-escaped, if it is a plain http(s) link; otherwise None (no link)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return html.escape(url.strip(), quote=True)


def _linked_title(citation: Citation) -> str:
    """The title linked to the article, at the quoted sentence where a text fragment can say so."""
    title = html.escape(citation.title.strip() or "Untitled", quote=False)
    href = safe_href(citation.deep_url) or safe_href(citation.url)
    return f'<a href="{href}">{title}</a>' if href else title


def source_line_html(
    citation: Citation, *, quote: bool = False, marker: str = "", quoting: str | None = None
) -> str:
    """'[1] <a href=URL>Title</a> — Bloomberg, 2023-11-03 · quoting Antony Blinken', optionally
    with the quote below; `quoting` is the speaker note (by default the citation's own)."""
    marker = marker or f"[{citation.n}]"
    quoting = speaker_note([citation.speaker]) if quoting is None else quoting
    label = html.escape(source_label(citation) + quoting + also_note(citation))
    line = f"{marker} {_linked_title(citation)} — {label}"
    if quote and citation.quote.strip():
        line += f"\n<i>“{html.escape(citation.quote.strip())}”</i>"
    return line


def answer_html(answer: Answer, *, note: str | None = None) -> str:
    """One Telegram HTML document: answer sentences with [n] markers, then numbered sources."""
    blocks = [html.escape(answer.answer.strip() or "(no answer)")]
    if more := timeline_note(answer):
        blocks.append(html.escape(more))
    if note:
        blocks.append(f"<i>{html.escape(note)}</i>")
    if answer.citations and not answer.abstained:
        sources = "\n".join(
            source_line_html(c, marker=marker, quoting=quoting)
            for marker, c, quoting in by_article(answer.citations)
        )
        blocks.append(f"<b>Sources</b>\n{sources}")
    return "\n\n".join(blocks)


def sources_html(answer: Answer) -> str:
    """The full sources of an answer, each with the sentence quoted from it."""
    if not answer.citations:
        return "That answer has no sources."
    entries = "\n\n".join(source_line_html(c, quote=True) for c in answer.citations)
    return f"<b>Sources</b> for “{html.escape(answer.query)}”\n\n{entries}"


def citation_html(citation: Citation) -> str:
    """One citation shown in context: the quote in bold inside its passage."""
    passage, quote = citation.passage.strip(), citation.quote.strip()
    at = passage.find(quote) if quote else -1
    if at >= 0:
        body = (
            html.escape(passage[:at])
            + f"<b>{html.escape(quote)}</b>"
            + html.escape(passage[at + len(quote) :])
        )
    else:
        body = html.escape(passage)
        if quote:
            body = f"<b>{html.escape(quote)}</b>\n\n{body}"
    label = html.escape(source_label(citation) + speaker_note([citation.speaker]))
    header = f"<b>[{citation.n}]</b> {_linked_title(citation)}\n{label}"
    return f"{header}\n\n<blockquote>{body}</blockquote>"


def render_telegram(
    answer: Answer, *, note: str | None = None, limit: int = TELEGRAM_LIMIT
) -> list[str]:
    """The answer as Telegram HTML messages, each valid on its own and within `limit`."""
    return split_html(answer_html(answer, note=note), limit)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _tokens(markup: str) -> Iterator[str]:
    """Tags and entities whole; text cut into words and whitespace so a cut can fall between."""
    for match in _TOKEN.finditer(markup):
        token = match.group()
        if token[0] in "<&":
            yield token
        else:
            yield from re.findall(r"\n\n+|\n|[^\S\n]+|\S+", token)


def _tag_name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    return match.group(1).lower() if match else ""


def _break_rank(token: str, previous: str) -> int:
    """How good a cut right after `token` is: paragraph > line > sentence end > word."""
    if token.startswith("\n\n"):
        return 4
    if token == "\n":
        return 3
    if token.isspace():
        return 2 if previous.endswith((".", "!", "?", "]", "”", '"', ".)")) else 1
    return 0


def split_html(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split well-formed Telegram HTML into parts of at most `limit` UTF-16 units each.

    Cuts fall between tokens only; prefers a paragraph break, then a line break (one source line
    per line), then a sentence end, then a space, and only as a last resort the middle of a very
    long word. A tag open at a cut is closed at the end of the part and reopened in the next.
    """
    if limit < 256:
        raise ValueError("limit too small to split Telegram HTML sensibly")
    markup = markup.strip()
    if utf16_len(markup) <= limit:
        return [markup] if _visible(markup) else []
    tokens = list(_pieces(_tokens(markup), limit // 4))
    stacks = _open_tags_before_each(tokens)
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        if not stacks[i]:
            while i < len(tokens) and tokens[i].isspace():
                i += 1
            if i == len(tokens):
                break
        opening = "".join(tag for _, tag in stacks[i])
        size = utf16_len(opening)
        best: tuple[int, int] | None = None  # (rank, end) of the best cut seen
        end = i
        while end < len(tokens):
            grown = size + utf16_len(tokens[end])
            if grown + utf16_len(_closing(stacks[end + 1])) > limit and end > i:
                break
            size, end = grown, end + 1
            rank = _break_rank(tokens[end - 1], tokens[end - 2] if end - 2 >= i else "")
            if rank and size >= limit // 4 and (best is None or rank >= best[0]):
                best = (rank, end)
        if end < len(tokens) and best is not None:
            end = best[1]
        text = opening + "".join(tokens[i:end]).rstrip() + _closing(stacks[end])
        if _visible(text):
            parts.append(text)
        i = end
    return parts


def _pieces(tokens: Iterable[str], longest: int) -> Iterator[str]:
    """Cut any text token longer than `longest` (a run without spaces) into pieces."""
    for token in tokens:
        if token[0] in "<&" or len(token) <= longest // 2:
            yield token
        else:
            step = max(1, longest // 2)
            for start in range(0, len(token), step):
                yield token[start : start + step]


def _open_tags_before_each(tokens: list[str]) -> list[tuple[tuple[str, str], ...]]:
    """For each cut position 0..len(tokens): the (name, opening tag) pairs open there."""
    stack: list[tuple[str, str]] = []
    stacks = [()]
    for token in tokens:
        if token.startswith("<"):
            name = _tag_name(token)
            if token.startswith("</"):
                if stack and stack[-1][0] == name:
                    stack.pop()
            elif name not in _VOID_TAGS and not token.endswith("/>"):
                stack.append((name, token))
        stacks.append(tuple(stack))
    return stacks


def _closing(open_tags: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(open_tags))


def _visible(markup: str) -> bool:
    """True if the part shows any text once tags are removed (Telegram rejects empty messages)."""
    return bool(re.sub(r"<[^<>]*>", "", markup).strip())
