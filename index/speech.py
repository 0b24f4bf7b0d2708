"""What every statement finder shares: the speech verbs, the statement records, trimming.

Direct quotes, reported speech and speaker resolution all read and write these, so they live
apart from each of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def word_set(text: str) -> frozenset[str]:
    """A word list written as one string, so long lists stay readable."""
    return frozenset(text.split())


SPEECH_VERBS = (
    r"said|says|say|told|tells|added|adds|warned|warns|argued|argues|noted|notes|insisted|"
    r"insists|explained|explains|stressed|stresses|emphasized|claimed|claims|stated|wrote|writes|"
    r"asked|asks|replied|responded|acknowledged|admitted|announced|declared|reiterated|"
    r"suggested|contended|maintained|predicted|recalled|tweeted|continued|cautioned|"
    r"ruled|confirmed|denied|asserted|criticized|reassured|reported|complained|complains|"
    r"alleged|alleges|revealed|conceded|testified|informed|called|calls|described|describes|"
    r"(?:declined|refused) to (?:comment|answer)(?: on| about)?|"
    # "records state the …", never "state police" or "Buckhorn Lake state resort parks"
    r"states?(?=\s+(?:that|the|a|an|his|her|their|its|this|these|those|it|he|she|they|we)\b|"
    r"\s*[,:.;]|\s*$)"
)
INVERTABLE = word_set(
    "said says added adds asked asks wrote writes continued explained noted recalled warned "
    "tweeted told reported"
)
AUX = (
    r"(?:(?:has|have|had|also|later|then|previously|again|further|repeatedly|publicly|once|"
    r"recently|reportedly|earlier|has since|would|will|simply|only|just|"
    r"(?!(?:famil|al|r?al|assemb|suppl|anoma|bul|bel)ly\b)[a-z]{2,}ly)\s+)*"
)


@dataclass(frozen=True)
class Statement:
    """Whose words (as written, and as a full name), and where they and their sentences lie."""

    speaker_as_written: str
    speaker: str
    verb: str
    kind: str  # "direct" (the speaker's own words, quote marks excluded) or "reported"
    content_start: int
    content_end: int
    sentence_start: int
    sentence_end: int


@dataclass(frozen=True)
class Found:
    """A statement before its speaker is resolved; `at` orders resolution through the text."""

    at: int
    subject: str
    verb: str
    kind: str
    start: int
    end: int
    attribution: tuple[int, int]


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Content without surrounding spaces, the comma before an attribution or a final period."""
    while start < end and text[start] in " \t":
        start += 1
    while end > start and text[end - 1] in " \t,;:":
        end -= 1
    if end > start and text[end - 1] == "." and not re.search(r"\b[A-Z]\.$", text[start:end]):
        end -= 1
    return start, end
