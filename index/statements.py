"""Who said what: quoted and reported statements in one article, with their speakers.

Answers to "What did X say about Y?" must quote X, so each statement records whose words it
holds. Pure rules over capitalised words and speech verbs (no NER model): a direct quote takes
the speaker named next to it, a reported clause the subject of its speech verb. Speakers are
resolved to the article's fullest form of the name: a surname to the full name ending with it,
a pronoun to the previous sentence's subject or the last speaker, "the secretary" to the last
person given that title. Offsets point into the article's text, as the index's chunks do.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from index.chunking import split_sentences


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SPEECH_VERBS = (
    r"said|says|say|told|tells|added|adds|warned|warns|argued|argues|noted|notes|insisted|"
    r"insists|explained|explains|stressed|stresses|emphasized|claimed|claims|stated|wrote|writes|"
    r"asked|asks|replied|responded|acknowledged|admitted|announced|declared|reiterated|"
    r"suggested|contended|maintained|predicted|recalled|tweeted|continued|cautioned|"
    r"ruled|confirmed|denied|asserted|criticized|reassured|state|states|"
    r"(?:declined|refused) to comment(?: on| about)?"
)
INVERTABLE = _words(
    "said says added adds asked asks wrote writes continued explained noted recalled warned "
    "tweeted told"
)
NEEDS_THAT = _words("announced predicted recalled declared asked asks continued state states")
AUX = (
    r"(?:(?:has|have|had|also|later|then|previously|again|further|repeatedly|publicly|once|"
    r"recently|reportedly|earlier|has since|would|will|simply|only|just)\s+)*"
)
SPEECH_AFTER = re.compile(rf"\b{AUX}(?P<verb>{SPEECH_VERBS})\b")
PRONOUNS = _words("he she they")
ABBREVIATION = (
    r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Jr|Sr|St|Rev|Prof|Adm|Capt|Maj|Inc|Co)\."
)
NAME_TOKEN = rf"(?:{ABBREVIATION}|(?:[A-Z]\.)+|[A-Z][\w’'-]*)"
CONNECTOR = r"(?:of|for|the|de|van|von|bin|al|la|le|du|del|da|and)"
NAME_RUN = re.compile(rf"{NAME_TOKEN}(?:[ \t]+(?:{CONNECTOR}[ \t]+)*{NAME_TOKEN})*")
TITLES = _words(
    "president vice secretary minister prime sen. senator rep. representative gov. governor "
    "mayor judge justice chief dr. mr. mrs. ms. miss gen. general adm. admiral col. lt. sgt. "
    "officer detective chancellor king queen prince princess pope speaker leader ambassador "
    "attorney ceo chairman chairwoman chair director commissioner coach pastor rev. professor "
    "prof. spokesman spokeswoman spokesperson sheriff executive former state defense foreign "
    "deputy senior analyst economist lawyer author journalist reporter editor founder host "
    "manager captain lord sir dame bishop archbishop cardinal premier lawmaker congressman "
    "congresswoman strategist expert researcher scientist commander official press u.s. us uk un"
)
ROLE_ALIASES = dict(
    pair.split(":")
    for pair in _words(
        "spokesman:spokesperson spokeswoman:spokesperson sen.:senator rep.:representative "
        "congressman:representative congresswoman:representative gov.:governor ceo:executive "
        "chairwoman:chairman chair:chairman prof.:professor gen.:general"
    )
)
ROLES = _words(
    "president secretary minister senator representative governor mayor judge spokesperson "
    "chancellor ambassador executive chairman director commissioner coach sheriff professor "
    "general premier leader analyst economist"
)
NON_PERSON = _words(
    "house department strip states union nations city university office ministry party court "
    "council force army news times post street bank company inc. corp. group capitol senate "
    "congress committee agency administration association institute center centre republic "
    "kingdom county district river sea ocean island islands east west north south america "
    "europe africa asia day week service school network media foundation organization "
    "commission police guard forces league club cup press journal magazine october november "
    "december january february march april june july august september monday tuesday "
    "wednesday thursday friday saturday sunday"
)
LEADING_WORDS = _words(
    "the a an but and then so yet still meanwhile however now later earlier also in on at for "
    "when while as after before if this that his her their both either neither"
)
INTRO_STARTS = LEADING_WORDS - _words("the a an this that his her their") | _words(
    "asked speaking during following responding writing addressing last since despite although "
    "though once with without separately instead previously recently yesterday today overall "
    "according by from under amid over it's"
)

TELL_OBJECT = re.compile(
    rf"\s*(?:{NAME_RUN.pattern}|reporters|journalists|lawmakers|"
    r"(?:the|a|an|his|her|their)\s+\w+(?:\s+\w+)?)"
)
THAT = re.compile(r"^[^,;“”\"]{0,80}?\bthat\s+")
CONJOINED = re.compile(rf",?\s+(?:and|but)\s+{AUX}(?P<verb>{SPEECH_VERBS})\b\s*(?:that\s+)?")
ACCORDING = re.compile(r"\b[Aa]ccording to\s+")
PREPOSITIONS = _words(
    "by of from with to in on at about against after before over under between than into for "
    "is was were are has had have will would could"
)
SPOKESPEOPLE = r"(?:spokesperson|spokesman|spokeswoman|representative|statement)"
SPOKESPERSON_FOR = re.compile(
    rf"(?:(?:the|a|an)\s+)?(?:[a-z]+\s+)?{SPOKESPEOPLE}\s+(?:for|from)\s+"
    rf"(?:the\s+)?(?P<org>{NAME_RUN.pattern})"
)
SPOKESPERSON_OF = re.compile(rf"(?:(?:the|a|an)\s+)?(?P<org>{NAME_RUN.pattern})\s+{SPOKESPEOPLE}")
PARTICIPLE = re.compile(
    r",\s+(?P<verb>saying|adding|arguing|noting|insisting|warning|explaining|claiming|stressing)"
    r"\s+(?:that\s+)?|,?\s+(?:but|and)\s+(?:also\s+)?(?P<said>said|says)\s+(?:that\s+)?"
)
LEADING_SUBJECT = re.compile(
    rf"(?:[^,“”\"]{{0,60}},\s+)?(?P<subj>{NAME_TOKEN}(?:[ \t]+{NAME_TOKEN})*"
    r"|[Hh]e|[Ss]he|[Tt]hey)\s+[a-z]"
)
GROUPS = _words(
    "sources officials authorities owners experts critics residents analysts police "
    "investigators prosecutors researchers scientists doctors witnesses lawmakers democrats "
    "republicans others many some both all most people observers supporters opponents"
)
DATE_WORDS = _words(
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "june july august september october november december"
)
CLAUSE_BREAK = re.compile(r"(?:^|[,;]\s+|\s+(?:but|while|as|because|that)\s+|\s+and\s+(?=[a-z]))")


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
class _Found:
    """A statement before its speaker is resolved; `at` orders resolution through the text."""

    at: int
    subject: str
    verb: str
    kind: str
    start: int
    end: int
    attribution: tuple[int, int]


def extract_statements(
    text: str, sentence_spans: Sequence[tuple[int, int]] | None = None
) -> list[Statement]:
    """Statements in `text`, in order; `sentence_spans` defaults to the index's own split."""
    sentences = list(sentence_spans) if sentence_spans is not None else split_sentences(text)
    quotes = _quotes(text)
    found = _direct(text, quotes, sentences)
    used = [f.attribution for f in found]
    found += _reported(text, sentences, quotes, used)
    found += _participles(text, sentences, quotes, found)
    found.sort(key=lambda f: (f.at, f.start))
    return _Resolver(text, sentences).resolve(found)


def _quotes(text: str) -> list[tuple[int, int]]:
    """Spans inside quote marks, paired within a paragraph; an unclosed quote runs to its end."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        opened: int | None = None
        for mark in re.finditer(r"[“”\"]", line.group()):
            at = line.start() + mark.start()
            if opened is None and mark.group() != "”":
                opened = at + 1
            elif opened is not None and mark.group() != "“":
                spans.append((opened, at))
                opened = None
            elif mark.group() == "“":
                opened = at + 1
        if opened is not None and line.end() - opened > 1:
            spans.append((opened, line.end()))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Content without surrounding spaces, the comma before an attribution or a final period."""
    while start < end and text[start] in " \t":
        start += 1
    while end > start and text[end - 1] in " \t,;:":
        end -= 1
    if end > start and text[end - 1] == "." and not re.search(r"\b[A-Z]\.$", text[start:end]):
        end -= 1
    return start, end


def _direct(
    text: str, quotes: list[tuple[int, int]], sentences: list[tuple[int, int]]
) -> list[_Found]:
    """Quotes with a speaker next to them, and the unattributed quotes that continue them."""
    found: list[_Found] = []
    previous: _Found | None = None
    for index, (start, end) in enumerate(quotes):
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        limit = quotes[index + 1][0] - 1 if index + 1 < len(quotes) else line_end
        limit = min(limit, line_end)
        content = _trim(text, start, end)
        statement = None
        if _opens_sentence(text, start):
            statement = _attributed_after(text, start, end, limit, content)
        if statement is None:
            statement = _attributed_before(text, start, end, content)
        if statement is None and previous is not None and _continues(text, previous, start):
            statement = _Found(
                previous.at, previous.subject, previous.verb, "direct", *content, (start, start)
            )
        if statement is not None and content[1] - content[0] > 1:
            found.append(statement)
            previous = statement
        elif text.count("\n", previous.end if previous else 0, start):
            previous = None
    return found


def _attributed_after(
    text: str, start: int, end: int, limit: int, content: tuple[int, int]
) -> _Found | None:
    tail_start = end + 1
    tail = text[tail_start:limit]
    closes_sentence = text[end - 1 : end] in (".", "!") and not tail.startswith(",")
    according = re.match(r"\s*,?\s*according to\s+([^,.;]+)", tail)
    if according:
        subject = according.group(1)
        return _Found(
            tail_start,
            subject,
            "according to",
            "direct",
            *content,
            (tail_start, tail_start + according.end()),
        )
    inverted = re.match(
        rf"\s*,?\s*(?P<verb>{SPEECH_VERBS})\s+(?P<subj>[^,;:“”\"]+?)\s*(?:[,.;]|$)", tail
    )
    subject = _inverted_subject(inverted.group("subj")) if inverted else None
    if inverted and inverted.group("verb") in INVERTABLE and subject:
        return _Found(
            tail_start + inverted.start("subj"),
            subject,
            inverted.group("verb"),
            "direct",
            *content,
            (tail_start, tail_start + inverted.end()),
        )
    plain = re.match(
        rf"\s*,?\s*(?P<subj>[^,;:“”\"]{{1,80}}?)(?:,[^,;“”\"]{{1,80}},)?\s+{AUX}"
        rf"(?P<verb>{SPEECH_VERBS})\b",
        tail,
    )
    if not plain or not _subject(plain.group("subj")):
        return None
    rest = tail[plain.end() :]
    if closes_sentence and not re.match(r"^[^.,;]{0,60}(?:[.,;]|$)", rest):
        return None  # a new sentence that merely starts with "X said ..."
    return _Found(
        tail_start + plain.start("subj"),
        plain.group("subj"),
        plain.group("verb"),
        "direct",
        *content,
        (tail_start, tail_start + plain.end()),
    )


def _attributed_before(text: str, start: int, end: int, content: tuple[int, int]) -> _Found | None:
    """`X said: "…"` or `X wrote at the rally, "…"`: the speech verb just before the quote."""
    head_start = max(text.rfind("\n", 0, start) + 1, start - 200)
    head = text[head_start : start - 1]
    match = re.search(
        rf"(?P<subj>[^,;:“”\"]{{1,80}}?)\s+{AUX}(?P<verb>{SPEECH_VERBS})\b[^,;:.“”\"]{{0,50}}[,:]\s*$",
        head,
    )
    if not match:
        return None
    clause = _last_clause(match.group("subj"))
    if not _subject(clause):
        return None
    subject_at = head_start + match.end("subj") - len(clause)
    return _Found(subject_at, clause, match.group("verb"), "direct", *content, (subject_at, start))


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the quote opening at `start` begins its sentence (not one quoted inside a clause)."""
    before = text[max(0, start - 200, text.rfind("\n", 0, start) + 1) : start - 1]
    return not before.strip() or re.search(r"[.?!:”\"(]\s*$", before) is not None


def _continues(text: str, previous: _Found, start: int) -> bool:
    """A quote opening a sentence right after the previous quoted statement: the same speaker's.

    Within a paragraph, or a paragraph that opens with a quote after one that ended with one.
    """
    between = text[max(previous.end, previous.attribution[1]) : start - 1]
    if len(between) > 120:
        return False
    if "\n" in between:
        return not between.strip(' \t\n.,;:!?”"')
    before = text[max(0, start - 3) : start - 1].strip()
    return before in ("", ".", ",", "?", "!") or before.endswith((".", ","))


def _reported(
    text: str,
    sentences: list[tuple[int, int]],
    quotes: list[tuple[int, int]],
    used: list[tuple[int, int]],
) -> list[_Found]:
    """`X said (that) …`, `…, X said.`, `according to X, …`, and verbs joined by `and`."""
    found: list[_Found] = []
    for s_start, s_end in sentences:
        sentence = text[s_start:s_end]
        if ACCORDING.search(sentence):
            found += _according(text, s_start, s_end, used)
        for verb in SPEECH_AFTER.finditer(sentence):
            at = s_start + verb.start("verb")
            if _inside(at, quotes) or _inside(at, used):
                continue
            statement = _leading_or_trailing(text, s_start, s_end, verb)
            if statement is None:
                continue
            found.append(statement)
            used.append(statement.attribution)
            found += _conjoined(text, statement, s_end, used)
    return found


def _leading_or_trailing(text: str, s_start: int, s_end: int, verb: re.Match[str]) -> _Found | None:
    prefix = text[s_start : s_start + verb.start()].rstrip()
    rest = text[s_start + verb.end() : s_end]
    if prefix.endswith(",") and verb.group("verb") in INVERTABLE:
        inverted = re.match(r"\s+(?P<subj>[^,;:“”\"]+?)\s*(?:,|\.?$)", rest)
        subject = _inverted_subject(inverted.group("subj")) if inverted else None
        if subject and prefix[:-1].strip():
            subject_at = s_start + verb.end() + inverted.start("subj")
            return _Found(
                subject_at,
                subject,
                verb.group("verb"),
                "reported",
                *_trim(text, s_start, s_start + len(prefix) - 1),
                (s_start + len(prefix) - 1, subject_at + len(inverted.group("subj"))),
            )
    appositive = re.match(r"^(?P<head>.*?)(?P<subj>[^,;]+),[^,;]+,$", prefix)
    clause = _last_clause(prefix)
    subject_end = s_start + len(prefix)
    if (
        not _subject(clause)
        and appositive
        and _subject(_last_clause(appositive.group("head") + appositive.group("subj")))
    ):
        clause = _last_clause(appositive.group("head") + appositive.group("subj"))
        subject_end = s_start + appositive.end("subj")
    if not _subject(clause) or not clause:
        return None
    subject_start = subject_end - len(clause)
    verb_text = verb.group("verb")
    after = s_start + verb.end()
    before = text[s_start:subject_start].rstrip()
    if before.endswith(",") and rest.lstrip().startswith(","):
        content = _trim(text, s_start, s_end)  # "The good news, Jha said, is …"
    elif before.endswith(",") and _trailing(before, rest):
        content = _trim(text, s_start, s_start + len(before) - 1)
    else:
        that = THAT.match(rest)
        if verb_text in NEEDS_THAT and not (that and re.match(r"\s*that\b", rest)):
            return None
        if that:
            after += that.end()
        elif verb_text in ("told", "tells"):
            tell = TELL_OBJECT.match(rest)
            if not tell:
                return None
            after += tell.end()
        elif verb_text.startswith(("declined", "refused")):
            pass
        elif re.match(r"\s*(?:in|on|at|to|during|after|before|about|for|of)\b|\s*[.,]", rest):
            return None
        content = _trim(text, after, s_end)
        if content[1] - content[0] < 8 or not re.match(r"[\w“\"‘']", text[content[0]]):
            return None
    return _Found(
        subject_start,
        clause,
        verb_text,
        "reported",
        *content,
        (subject_start, s_start + verb.end()),
    )


def _inverted_subject(phrase: str) -> str | None:
    """The speaker after an inverted verb: `said Austin King`, `said King Monday evening`."""
    if _subject(phrase):
        return phrase
    run = NAME_RUN.match(phrase)
    return run.group() if run and _subject(run.group()) else None


def _trailing(before: str, rest: str) -> bool:
    """`Content, X told a briefing.`: a main clause before the comma, little after the verb."""
    first = before.split(None, 1)[0].lower().strip(",") if before.split() else ""
    if first in INTRO_STARTS or ("-" not in first and first.endswith(("ing", "ed"))):
        return False
    return len(rest.split()) <= 8 and not re.search(r"\bthat\b", rest)


def _conjoined(text: str, first: _Found, s_end: int, used: list[tuple[int, int]]) -> list[_Found]:
    """`he said A, and declined to comment on B`: B is the same speaker's second statement."""
    match = CONJOINED.search(text, first.start, first.end)
    if not match:
        return []
    content = _trim(text, match.end(), s_end)
    if content[1] - content[0] < 8:
        return []
    second = _Found(
        first.at,
        first.subject,
        match.group("verb"),
        "reported",
        *content,
        (match.start(), match.end()),
    )
    used.append(second.attribution)
    return [second]  # the first statement is shortened when the resolver sees both


def _participles(
    text: str, sentences: list[tuple[int, int]], quotes: list[tuple[int, int]], found: list[_Found]
) -> list[_Found]:
    """`…,” he said, adding (that) …`, `Aziz sued, arguing …`, `Bowles didn't elaborate but said …`.

    The speaker is the sentence's earlier speaker, else its subject.
    """
    extra: list[_Found] = []
    for s_start, s_end in sentences:
        for match in PARTICIPLE.finditer(text, s_start, s_end):
            verb = match.group("verb") or match.group("said")
            taken = any(_overlap(f.attribution, (match.start(), match.end())) for f in found)
            if _inside(match.start(), quotes) or taken:
                continue
            earlier = [f for f in found if s_start <= f.attribution[0] < match.start()]
            if earlier:
                at, subject = earlier[-1].at, earlier[-1].subject
            else:
                lead = LEADING_SUBJECT.match(text, s_start, match.start())
                if not lead or not _subject(lead.group("subj")):
                    continue
                lone = " " not in lead.group("subj") and lead.group("subj").lower() not in PRONOUNS
                if lone and not re.search(
                    rf"\w \b{re.escape(lead.group('subj'))}\b", text[:s_start]
                ):
                    continue  # a lone capitalised word is a name only if met before
                at, subject = s_start + lead.start("subj"), lead.group("subj")
            content = _trim(text, match.end(), s_end)
            if content[1] - content[0] >= 8:
                extra.append(
                    _Found(
                        at,
                        subject,
                        verb,
                        "reported",
                        *content,
                        (match.start(), match.end()),
                    )
                )
    return extra


def _according(text: str, s_start: int, s_end: int, used: list[tuple[int, int]]) -> list[_Found]:
    sentence = text[s_start:s_end]
    leading = re.match(r"[Aa]ccording to\s+(?P<subj>[^,]+),\s*", sentence)
    trailing = re.search(r",\s*according to\s+(?P<subj>[^,]+?)\W*$", sentence)
    match = leading or trailing
    if not match or not _subject(match.group("subj")) or _inside(s_start + match.start(), used):
        return []
    content = (
        _trim(text, s_start + match.end(), s_end)
        if leading
        else _trim(text, s_start, s_start + match.start())
    )
    used.append((s_start + match.start(), s_start + match.end()))
    return [
        _Found(
            s_start + match.start("subj"),
            match.group("subj"),
            "according to",
            "reported",
            *content,
            (s_start + match.start(), s_start + match.end()),
        )
    ]


def _as_written(subject: str) -> str:
    """The subject without a sentence's opening conjunction ("But he" → "he")."""
    words = subject.split()
    while len(words) > 1 and words[0].lower() in LEADING_WORDS - {"the", "a", "an"}:
        words = words[1:]
    return " ".join(words)


def _last_clause(prefix: str) -> str:
    pieces = CLAUSE_BREAK.split(prefix.strip())
    return pieces[-1].strip() if pieces else ""


def _overlap(one: tuple[int, int], other: tuple[int, int]) -> bool:
    return one[0] < other[1] and other[0] < one[1]


def _inside(at: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= at < end for start, end in spans)


def _subject(phrase: str) -> bool:
    """Whether `phrase` can name a speaker: a pronoun, a name, or a (capitalised) role."""
    return _parse(phrase) is not None


def _parse(phrase: str) -> tuple[str, str, str] | None:
    """(kind, name or role, title) for a subject phrase; kind is pronoun, name, org or role.

    A name may follow a short description ("court spokeswoman Iris le Claire"); a spokesperson
    speaks for the body named with it ("a Meta spokesperson" → Meta).
    """
    words = phrase.rsplit(")", 1)[-1].strip(" ,.;:").split()  # drop "(CNN)" and its dateline
    while len(words) > 1 and words[0].lower() in LEADING_WORDS:
        words = words[1:]
    if not words or len(words) > 10:
        return None
    text = " ".join(words)
    if len(words) == 1 and text.lower() in PRONOUNS:
        return "pronoun", text.lower(), ""
    body = SPOKESPERSON_FOR.fullmatch(text) or SPOKESPERSON_OF.fullmatch(text)
    if body:
        org = body.group("org").split()
        return "org", " ".join(org[1:] if org[0].endswith(("’s", "'s")) else org), ""
    role = words[-1].lower()
    if role in ROLES or role in ROLE_ALIASES:
        if all(w[0].isupper() or w.lower() in TITLES or w.lower() in PRONOUNS for w in words[:-1]):
            return "role", text, ROLE_ALIASES.get(role, role)
        return None
    run = _final_run(text)
    if run is None:
        return None
    described = text[: len(text) - len(run)].split()
    if len(described) > 6 or {w.lower() for w in described} & PREPOSITIONS:
        return None
    described_title = next((w.lower() for w in reversed(described) if w.lower() in TITLES), "")
    names = [_person(part) for part in re.split(r"\s+and\s+", run)]
    if not all(name for name, _ in names):
        names = [_person(run)]  # "Aquarium President and CEO Kevin Mills"
    if not names[0][0] or _generic(names[-1][0]):
        return None
    title = names[-1][1] or described_title
    return "name", " and ".join(name for name, _ in names), ROLE_ALIASES.get(title, title)


def _generic(name: str) -> bool:
    """A capitalised word that names nobody: "The", "Sources", "Fiji's", "Officials"."""
    lowered = name.lower()
    return (
        lowered in LEADING_WORDS
        or lowered in GROUPS
        or lowered == "it"
        or lowered.endswith(("'s", "’s"))
    )


def _final_run(text: str) -> str | None:
    """The capitalised run that ends `text`, if it does end with one."""
    runs = [run for run in NAME_RUN.finditer(text) if run.end() == len(text)]
    return runs[0].group() if runs else None


def _person(run: str) -> tuple[str, str]:
    """("Antony Blinken", "state") from "Secretary of State Antony Blinken"; titles come off."""
    words = run.split()
    while len(words) > 1 and words[-1].lower() in DATE_WORDS:
        words = words[:-1]  # "King Monday" (evening)
    titled = [
        i for i, w in enumerate(words[:-1]) if w.lower() in TITLES or w.lower() in ROLE_ALIASES
    ]
    if titled:
        title = words[titled[-1]].lower()
        words = words[titled[-1] + 1 :]
        cut = next((i for i, w in enumerate(words) if w in ("of", "for")), None)
        if cut == 0:
            words = words[-2:]  # "Attorney for Massachusetts Rachael Rollins"
        elif cut:
            words = words[:cut]  # "Sen. Thom Tillis of North Carolina"
    else:
        title = ""
        cut = next((i for i, w in enumerate(words) if w in ("of", "for")), None)
        if cut is not None and 2 <= cut <= 3 and not {w.lower() for w in words[:cut]} & NON_PERSON:
            words = words[:cut]  # "Christoph Heubner of the International Auschwitz Committee"
    while words and words[0] in ("of", "for", "the", "and"):
        words = words[1:]
    return " ".join(words).rstrip("."), title


class _Resolver:
    """Walks the statements in text order, resolving each speaker from what came before it."""

    def __init__(self, text: str, sentences: list[tuple[int, int]]) -> None:
        self.text = text
        self.starts = [start for start, _ in sentences]
        self.sentences = sentences
        self.people = self._people()

    def _people(self) -> list[tuple[int, str, str]]:
        """(position, name, title) of every capitalised run that reads like a person's name."""
        people: list[tuple[int, str, str]] = []
        surnames: set[str] = set()
        for run in NAME_RUN.finditer(self.text):
            parsed = _parse(run.group())
            if parsed is None or parsed[0] != "name":
                continue
            _, names, _ = parsed
            before = self.text[max(0, run.start() - 30) : run.start()].split()[-1:]
            words = [w.lower() for w in before + run.group().split()]
            title = " ".join(ROLE_ALIASES.get(w, w) for w in words if w in TITLES)
            for name in names.split(" and "):
                tokens = name.split()
                if title or (
                    2 <= len(tokens) <= 3 and not {t.lower() for t in tokens} & NON_PERSON
                ):
                    people.append((run.start(), name, title))
                    surnames.add(tokens[-1])
                elif len(tokens) == 1 and name in surnames:
                    people.append((run.start(), name, title))
        return people

    def _sentence(self, at: int) -> int:
        return max(0, bisect_right(self.starts, at) - 1)

    def full_name(self, name: str, at: int) -> str:
        """A surname ("Blinken", "Le Claire") becomes the article's full name ending with it."""
        if " and " in name:
            return " and ".join(self.full_name(part, at) for part in name.split(" and "))
        if name.isupper():
            expanded = re.search(rf"({NAME_RUN.pattern})\s+\({re.escape(name)}\)", self.text)
            if expanded:
                return _final_run(expanded.group(1)) or name  # "World Health Organization (WHO)"
        ending = " " + name.lower()
        endings = [
            (p, n)
            for p, n, _ in self.people
            if n.lower().endswith(ending) and not {"of", "for", "the"} & set(n.split())
        ]
        if not endings:
            return name
        longest = max(len(n) for _, n in endings)
        fullest = [(p, n) for p, n in endings if len(n) == longest]
        earlier = [n for p, n in fullest if p < at]
        return earlier[-1] if earlier else fullest[0][1]

    def resolve(self, found: list[_Found]) -> list[Statement]:
        statements: list[Statement] = []
        speakers: list[tuple[int, str]] = []  # (sentence, resolved speaker) of earlier statements
        for item in found:
            speaker = self._speaker(item, speakers)
            if speaker is None:
                continue
            start, end = item.start, item.end
            nested = [
                s for s in found if s is not item and s.at == item.at and item.start < s.start
            ]
            if nested and item.kind == "reported":
                start, end = _trim(self.text, start, min(nested[0].attribution[0], end))
            first = self._sentence(min(start, item.attribution[0]))
            last = self._sentence(max(end, item.attribution[1]) - 1)
            statements.append(
                Statement(
                    speaker_as_written=_as_written(item.subject),
                    speaker=speaker,
                    verb=item.verb,
                    kind=item.kind,
                    content_start=start,
                    content_end=end,
                    sentence_start=self.sentences[first][0],
                    sentence_end=self.sentences[last][1],
                )
            )
            speakers.append((self._sentence(item.at), speaker))
        return statements

    def _speaker(self, item: _Found, speakers: list[tuple[int, str]]) -> str | None:
        parsed = _parse(item.subject)
        if parsed is None:
            return None
        kind, name, title = parsed
        if kind in ("name", "org"):
            return self.full_name(name, item.at).replace("’", "'")
        if kind == "role":
            holders = [n for p, n, t in self.people if title in t.split() and p < item.at]
            if holders:
                return self.full_name(holders[-1], item.at)
            return name if any(w[0].isupper() for w in name.split()) else None
        return self._antecedent(item, speakers)

    def _antecedent(self, item: _Found, speakers: list[tuple[int, str]]) -> str | None:
        """The same or previous sentence's speaker or subject, else the last person named."""
        sentence = self._sentence(item.at)
        recent = [s for n, s in speakers if sentence - 1 <= n <= sentence]
        if recent:
            return recent[-1]
        if sentence:
            lead = LEADING_SUBJECT.match(self.text, *self.sentences[sentence - 1])
            parsed = _parse(lead.group("subj")) if lead else None
            if parsed and parsed[0] == "name":
                return self.full_name(parsed[1], lead.start("subj"))
        if speakers and sentence - speakers[-1][0] <= 4:
            return speakers[-1][1]
        earlier = [(p, n) for p, n, _ in self.people if p < self.starts[sentence]]
        if item.subject.lower() != "they" and earlier:
            return self.full_name(earlier[-1][1], earlier[-1][0])
        return None
