"""Links that open an article at the quoted sentence: URL text fragments (`#:~:text=…`).

A browser that supports text fragments (https://wicg.github.io/scroll-to-text-fragment/)
scrolls to and highlights the first stretch of the page that matches the directive, so the
directive must match the quote and nothing before it. A short quote goes whole
(`text=quote`); a longer one as its first and last words (`text=start,end`). When the start
words occur earlier in the article, a few words before the quote go along as a prefix
(`text=prefix-,start,end`), and failing that a few after it as a suffix, until the browser's
search — simulated here over the article text by `find_text` — lands on the quote itself.

The page an outlet serves holds more than the article text (headline, navigation), so this is
the best the article alone can tell; a directive that matches nothing still opens the article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote as percent_encode
from urllib.parse import unquote, urlsplit

SHORT_QUOTE_WORDS = 8  # a quote of at most this many words goes whole: `text=quote`
EDGE_WORDS = 4  # words in the start and end terms of a longer quote: `text=start,end`
MAX_CONTEXT_WORDS = 6  # most words of prefix or suffix tried before giving up on uniqueness
_CONTEXT_WINDOW = 600  # characters read either side of a quote for its context words

_WORD = re.compile(r"\S+")
_BLOCK_BREAK = re.compile(r"\n[^\S\n]*\n")  # a blank line: a paragraph on the page
# Within one term, words are apart by whitespace holding at most one line break: the browser
# matches a term inside one block, never across paragraphs.
_TERM_GAP = re.compile(r"[^\S\n]*(?:\n[^\S\n]*)?")
_OTHER_SPACE = re.compile(r"[^\S \n]")  # whitespace but a space or a line break
_OTHER_ASCII_SPACE = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
_LEADING_SPACE = re.compile(r"\s*")
_NOWHERE = (-1, -1)  # what `_match_end` says when the directive cannot match at all


@dataclass(frozen=True)
class TextDirective:
    """The parts of `text=[prefix-,]start[,end][,-suffix]`, unencoded."""

    start: str
    end: str | None = None
    prefix: str | None = None
    suffix: str | None = None

    def encoded(self) -> str:
        """`text=…` with every term percent-encoded as the spec asks (`-`, `,`, `&` too)."""
        terms = [encode_term(self.prefix) + "-"] if self.prefix else []
        terms.append(encode_term(self.start))
        if self.end:
            terms.append(encode_term(self.end))
        if self.suffix:
            terms.append("-" + encode_term(self.suffix))
        return "text=" + ",".join(terms)

    @classmethod
    def parse(cls, directive: str) -> TextDirective | None:
        """The directive of `text=…` (as a browser reads it: split at commas, then decode);
        None when it is not a well-formed text directive."""
        if not directive.startswith("text="):
            return None
        terms = directive[len("text=") :].split(",")
        prefix = unquote(terms.pop(0)[:-1]) if terms and terms[0].endswith("-") else None
        suffix = unquote(terms.pop()[1:]) if terms and terms[-1].startswith("-") else None
        if not 1 <= len(terms) <= 2 or not all(terms):
            return None
        return cls(
            unquote(terms[0]), unquote(terms[1]) if len(terms) == 2 else None, prefix, suffix
        )


def encode_term(term: str) -> str:
    """A term percent-encoded: UTF-8 bytes of everything but letters, digits and `._~`, and
    `-` as `%2D` (it would otherwise mark a prefix or suffix)."""
    return percent_encode(term, safe="").replace("-", "%2D")


def deep_url(url: str | None, article_text: str, start: int, end: int) -> str | None:
    """`url` with a text fragment for `article_text[start:end]`; None when `url` is not an
    http(s) link or the span holds no words. An existing fragment is kept (`#frag:~:text=…`)
    and an existing directive replaced."""
    if not url or not (url := url.strip()):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    directive = text_directive(article_text, start, end)
    if directive is None:
        return None
    base, _, fragment = url.partition("#")
    kept = fragment.split(":~:", 1)[0]
    return f"{base}#{kept}:~:{directive.encoded()}"


def text_directive(article_text: str, start: int, end: int) -> TextDirective | None:
    """The shortest directive (by the order tried) that a browser would match at exactly the
    quote's words; when none does (the same words in the same context twice), the plain one."""
    words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(article_text[start:end])]
    if not words:
        return None
    target = (words[0][0], words[-1][1])
    plain = _plain_directive(article_text, words)
    # A range that starts at an earlier, alike sentence runs on to the quote's end; the whole
    # quote as one term cannot, so it is the next try when context alone does not tell them apart.
    whole = TextDirective(" ".join(article_text[a:b] for a, b in words))
    for base in dict.fromkeys((plain, whole)):
        for directive in _disambiguated(base, article_text, target):
            if find_text(article_text, directive) == target:
                return directive
    return plain


def _plain_directive(text: str, words: list[tuple[int, int]]) -> TextDirective:
    """The quote whole, or its first `EDGE_WORDS` words and as many last words as it takes for
    the first match of the end term after the start term to be the quote's own end."""

    def joined(span: list[tuple[int, int]]) -> str:
        return " ".join(text[a:b] for a, b in span)

    if len(words) <= max(SHORT_QUOTE_WORDS, 2 * EDGE_WORDS):
        return TextDirective(joined(words))
    start_term = joined(words[:EDGE_WORDS])
    after_start = words[EDGE_WORDS - 1][1]
    for n in range(EDGE_WORDS, len(words) - EDGE_WORDS + 1):
        end_term = joined(words[-n:])
        own = words[-n][0]  # an earlier match of the end term would start before its own
        found = _find(text, end_term, after_start, start_bounded=True, end_bounded=True, last=own)
        if found is not None and found[1] == words[-1][1]:
            return TextDirective(start_term, end_term)
    return TextDirective(joined(words))


def _disambiguated(
    plain: TextDirective, text: str, target: tuple[int, int]
) -> Iterator[TextDirective]:
    """`plain`, then with one, two … words before the quote, then with all of those and one,
    two … words after it: longer context, fewer places it can match."""
    yield plain
    before = _context_before(text, target[0])
    for n in range(1, len(before) + 1):
        yield _with(plain, prefix=" ".join(before[-n:]))
    after = _context_after(text, target[1])
    for n in range(1, len(after) + 1):
        yield _with(plain, prefix=" ".join(before), suffix=" ".join(after[:n]))


def _with(
    directive: TextDirective, prefix: str | None = None, suffix: str | None = None
) -> TextDirective:
    return TextDirective(directive.start, directive.end, prefix or None, suffix or None)


def _context_before(text: str, at: int) -> list[str]:
    """Up to `MAX_CONTEXT_WORDS` words right before `at` within its paragraph, or, when it
    opens one, the last words of the paragraph before (read from a window that grows only
    while it holds too few words, not from the start of the article)."""
    size = _CONTEXT_WINDOW
    while True:
        window_start = max(0, at - size)
        paragraphs = _BLOCK_BREAK.split(text[window_start:at])
        used = 1 if paragraphs[-1].split() or len(paragraphs) == 1 else 2
        words = paragraphs[-used].split()
        whole = window_start == 0 or len(paragraphs) > used
        if not whole and not text[window_start - 1].isspace():
            words = words[1:]  # the window began inside a word
        if whole or len(words) >= MAX_CONTEXT_WORDS:
            return words[-MAX_CONTEXT_WORDS:]
        size *= 4


def _context_after(text: str, at: int) -> list[str]:
    """Up to `MAX_CONTEXT_WORDS` words right after `at` within its paragraph, or, when it
    closes one, the first words of the paragraph after (read from a growing window too)."""
    size = _CONTEXT_WINDOW
    while True:
        window_end = min(len(text), at + size)
        paragraphs = _BLOCK_BREAK.split(text[at:window_end])
        used = 0 if paragraphs[0].split() or len(paragraphs) == 1 else 1
        words = paragraphs[used].split()
        whole = window_end == len(text) or len(paragraphs) > used + 1
        if not whole and not text[window_end].isspace():
            words = words[:-1]  # the window ended inside a word
        if whole or len(words) >= MAX_CONTEXT_WORDS:
            return words[:MAX_CONTEXT_WORDS]
        size *= 4


def find_text(text: str, directive: TextDirective) -> tuple[int, int] | None:
    """Where a browser would match `directive` in `text` as (start, end), or None: the spec's
    "find a range from a text directive", with the text standing for the page (a blank line
    for a block boundary), case-insensitive, word boundaries as between letters and the rest."""
    search_from = 0
    while search_from < len(text):
        must_end_at_word = directive.end is not None or directive.suffix is None
        if directive.prefix is not None:
            prefix = _find(
                text, directive.prefix, search_from, start_bounded=True, end_bounded=False
            )
            if prefix is None:
                return None
            search_from = prefix[0] + 1
            at = _LEADING_SPACE.match(text, prefix[1]).end()
            if at >= len(text):
                return None
            match = _find(
                text,
                directive.start,
                at,
                start_bounded=False,
                end_bounded=must_end_at_word,
                anchored=True,
            )
            if match is None:
                continue
        else:
            match = _find(
                text, directive.start, search_from, start_bounded=True, end_bounded=must_end_at_word
            )
            if match is None:
                return None
            search_from = match[0] + 1
        found = _match_end(text, directive, match)
        if found is not None:
            return None if found == _NOWHERE else found
    return None


def _match_end(
    text: str, directive: TextDirective, match: tuple[int, int]
) -> tuple[int, int] | None:
    """The match with its end term and suffix checked: the range, None to try the next start
    match, or `_NOWHERE` when no later start match can succeed either."""
    end_from = match[1]
    while True:
        end = match[1]
        if directive.end is not None:
            end_match = _find(
                text,
                directive.end,
                end_from,
                start_bounded=True,
                end_bounded=directive.suffix is None,
            )
            if end_match is None:
                return _NOWHERE
            end = end_match[1]
        if directive.suffix is None:
            return (match[0], end)
        at = _LEADING_SPACE.match(text, end).end()
        suffix = _find(text, directive.suffix, at, start_bounded=False, end_bounded=True)
        if suffix is None:
            return _NOWHERE
        if suffix[0] == at:
            return (match[0], end)
        if directive.end is None:
            return None
        end_from = end  # the next end term's match, which lies further on


def _find(
    text: str,
    term: str,
    at: int,
    *,
    start_bounded: bool,
    end_bounded: bool,
    anchored: bool = False,
    last: int | None = None,
) -> tuple[int, int] | None:
    """The first match of `term` in `text` from `at` (only at `at` when `anchored`, starting
    no later than `last` when given), as the browser matches: case-insensitive, any whitespace
    (within one paragraph) between words."""
    words = _fold(term).split()
    if not words:
        return None
    page = _page(text)
    needle = " ".join(words)
    position = at
    while True:
        if anchored:
            found = position if page.folded.startswith(words[0], position) else -1
        else:
            # In a regular text every gap inside a term is one space: look for the term whole.
            looked_for = needle if page.regular else words[0]
            stop = len(text) if last is None else last + len(looked_for)
            found = page.folded.find(looked_for, position, stop)
        if found < 0:
            return None
        end = _words_end(page, found, words)
        if (
            end is not None
            and (not start_bounded or _word_boundary(text, found))
            and (not end_bounded or _word_boundary(text, end))
        ):
            return found, end
        if anchored:
            return None
        position = found + 1


@dataclass(frozen=True)
class _Page:
    folded: str  # the article lower-cased, character for character
    regular: bool  # words apart by one space, paragraphs by blank lines: nothing else


@lru_cache(maxsize=16)
def _page(text: str) -> _Page:
    """The article as searched; kept for the few texts an answer cites, each searched often."""
    return _Page(_fold(text), _regular(text))


def _regular(text: str) -> bool:
    """Whether words are apart by one space and paragraphs by one blank line, and nothing else
    (most articles): then a term matches only as its words joined by single spaces."""
    if "  " in text or text.count("\n") != 2 * text.count("\n\n"):
        return False
    if text.isascii():  # a few scans in C, rather than a regular expression over every char
        return not any(space in text for space in _OTHER_ASCII_SPACE)
    return _OTHER_SPACE.search(text) is None


def _words_end(page: _Page, at: int, words: list[str]) -> int | None:
    """Where `words` end when they stand at `at`, apart by whitespace within one paragraph."""
    if page.regular:
        needle = " ".join(words)
        return at + len(needle) if page.folded.startswith(needle, at) else None
    position = at
    for n, word in enumerate(words):
        if n:
            gap = _TERM_GAP.match(page.folded, position).end()
            if gap == position:  # words need whitespace between them
                return None
            position = gap
        if not page.folded.startswith(word, position):
            return None
        position += len(word)
    return position


def _fold(text: str) -> str:
    """`text` lower-cased without changing its length (a letter whose lower case is longer,
    such as İ, stays as it is), so offsets into it are offsets into `text`."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _word_boundary(text: str, at: int) -> bool:
    """Whether `at` is not inside a word: not between two letters, digits or underscores."""
    return (
        at <= 0 or at >= len(text) or not (_is_word_char(text[at - 1]) and _is_word_char(text[at]))
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"
