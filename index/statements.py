"""Who said what: quoted and reported statements in one article, with their speakers.

Answers to "What did X say about Y?" must quote X, so each statement records whose words it
holds. Pure rules over capitalised words and speech verbs (no NER model): a direct quote takes
the speaker named next to it, a reported clause the subject of its speech verb. Speakers are
resolved to the article's fullest form of the name: a surname to the full name ending with it,
a pronoun to the previous sentence's subject or the last speaker, "the secretary" to the last
person given that title. Offsets point into the article's text, as the index's chunks do.

This module finds reported speech (`X said that …`, `…, adding …`) and puts the pieces
together; direct quotes are found in `index.quotes`, `according to X` in `index.according`,
speakers named in `index.speakers` and resolved in `index.resolver`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from index.according import ACCORDING, according_to
from index.chunking import split_sentences
from index.quotes import direct_quotes, find_quotes
from index.resolver import Resolver
from index.speakers import (
    LEADING_SUBJECT,
    LEADING_WORDS,
    NAME_RUN,
    PRONOUNS,
    inverted_subject,
    is_subject,
    last_clause,
)
from index.speech import AUX, INVERTABLE, SPEECH_VERBS, Found, Statement, trim, word_set

DISCLOSING = word_set("alleged alleges revealed conceded testified complained complains")
NEEDS_THAT = (
    word_set("announced predicted recalled declared asked asks continued reported") | DISCLOSING
)
SPEECH_AFTER = re.compile(rf"\b{AUX}(?P<verb>{SPEECH_VERBS})\b")
CONJUNCTIONS = word_set("and but so yet still meanwhile however now then also")
INTRO_STARTS = (
    LEADING_WORDS - word_set("the a an this that his her their") - CONJUNCTIONS
) | word_set(
    "asked speaking during following responding writing addressing last since despite although "
    "though once with without separately instead previously recently yesterday today overall "
    "according by from under amid over it's"
)

# A quoted phrase closing a sentence of the writer's own before its attribution; a quote that
# opens the sentence is a direct quote, found in `index.quotes`.
PARTIAL_QUOTE_END = re.compile(r"^[^“\"\s][^\n]*\s[“\"][^“”\"]+,[”\"]$")
# Where, when or how it was said, between a speech verb and its clause: "said on Monday …".
SETTING_FIRST = re.compile(
    r"\s*(?:,\s*(?:however|though|too|also),\s*(?:that\s+)?|"
    r"(?:on|late|early)\s+[A-Z][a-z]+day(?:\s+(?:morning|afternoon|evening|night))?\s+|"
    r"(?:last|this|earlier this|later this)\s+(?:week|month|year|morning|spring|summer|fall|"
    r"autumn|winter)\s+|"
    r"in\s+an?\s+(?:[A-Za-z]+\s+)?(?:statement|interview|email|tweet|post|release|letter|video|"
    r"filing)\s+|on\s+(?:Twitter|Facebook|Instagram|social media)\s+)"
)
# "called the trial a “sham”", "described the response as an “abject failure”": what the speaker
# said is the words quoted, with what they are said of.
QUOTING = word_set("called calls described describes")
QUOTED_OBJECT = re.compile(
    r"(?=\s+(?!(?:for|on|off|in|up|out|back|to|it|him|her|them|me|us)\b)[^.,;:“”\"]{1,60}?\s"
    r"(?:as\s+)?(?:(?:an?|the)\s+)?[“\"]"
    # a pronoun object only right before the quoted words: "called it a “brutal act of war”"
    r"|\s+(?:it|him|her|them)\s+(?:as\s+)?(?:(?:an?|the)\s+)?[“\"])"
)
# When it was said, between the speaker and the verb: "The White House on Tuesday declined …".
TIME_TAIL = re.compile(
    r"\s+(?:(?:on|late|early)\s+[A-Z][a-z]+day(?:\s+(?:morning|afternoon|evening|night))?|"
    r"(?:last|this|earlier this)\s+(?:week|month|year)|yesterday|today)$"
)
ANTECEDENT_LEAD = re.compile(r"^\s*(?:according to|said|says|told|including|like|by)\s+")
RELATIVE_SPEAKER = re.compile(r"(?P<subj>[^,;“”\"]+),\s*who\s*$")
MODIFIER = re.compile(r"(?:which|who|whom|whose|where|when|including|such as)\b")
TELL_OBJECT = re.compile(
    rf"\s*(?:{NAME_RUN.pattern}|reporters|journalists|lawmakers|"
    r"(?:the|a|an|his|her|their)\s+\w+(?:\s+\w+)?)"
)
SAY = word_set("said says say told tells added adds wrote writes state states stated")
CLAUSE = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|will|would|could|can|should|may|might|must|did|"
    r"does|do|won't|can't|isn't|wasn't|aren't|didn't|doesn't|don't|[a-z]{3,}ed)\b"
)
THAT = re.compile(r"^[^,;“”\"]{0,80}?\bthat\s+")
CONJOINED = re.compile(rf",?\s+(?:and|but)\s+{AUX}(?P<verb>{SPEECH_VERBS})\b\s*(?:that\s+)?")
# Where a clause of its own begins: ", though another official said …", "; officials said …".
CLAUSE_START = re.compile(r"[,;]?\s+(?:though|although|but|while|whereas)\s+|[,;]\s+")
PARTICIPLE = re.compile(
    r",\s+(?P<verb>saying|adding|arguing|noting|insisting|warning|explaining|claiming|stressing)"
    r"\s+(?:that\s+)?|,?\s+(?:but|and)\s+(?:also\s+)?(?P<said>said|says)\s+(?:that\s+)?"
)


def extract_statements(
    text: str, sentence_spans: Sequence[tuple[int, int]] | None = None
) -> list[Statement]:
    """Statements in `text`, in order; `sentence_spans` defaults to the index's own split."""
    sentences = list(sentence_spans) if sentence_spans is not None else split_sentences(text)
    quotes = find_quotes(text)
    found = direct_quotes(text, quotes, sentences)
    used = [f.attribution for f in found]
    found += _reported(text, sentences, quotes, used)
    found += _participles(text, sentences, quotes, found)
    found = _ending_before_others(text, found)
    found.sort(key=lambda f: (f.at, f.start))
    return Resolver(text, sentences).resolve(found)


def _ending_before_others(text: str, found: list[Found]) -> list[Found]:
    """Reported content ends where another speaker's clause begins: in "The official said the
    package could pass this week, though another official said the timing isn't locked down",
    the first statement is only about this week."""
    ended = []
    for statement in found:
        after = max(statement.start, statement.attribution[1])
        inner = [  # a later speaker's attribution inside the content
            other.attribution[0]
            for other in found
            if other is not statement and after < other.attribution[0] < statement.end
        ]
        if statement.kind == "reported" and inner:
            breaks = [m.start() for m in CLAUSE_START.finditer(text, statement.start, min(inner))]
            if breaks and breaks[-1] > statement.start:
                start, end = trim(text, statement.start, breaks[-1])
                statement = replace(statement, start=start, end=end)
        ended.append(statement)
    return ended


def _reported(
    text: str,
    sentences: list[tuple[int, int]],
    quotes: list[tuple[int, int]],
    used: list[tuple[int, int]],
) -> list[Found]:
    """`X said (that) …`, `…, X said.`, `according to X, …`, and verbs joined by `and`."""
    found: list[Found] = []
    quoted = list(used)  # attributions of direct quotes: a later verb only relays them
    for s_start, s_end in sentences:
        sentence = text[s_start:s_end]
        if ACCORDING.search(sentence):
            found += [
                f
                for f in according_to(text, s_start, s_end, used)
                if not _inside_any(quoted, f.start, f.end)
            ]
        for verb in SPEECH_AFTER.finditer(sentence):
            at = s_start + verb.start("verb")
            relative = RELATIVE_SPEAKER.search(sentence, 0, verb.start())
            if _inside(at, quotes) or (_inside(at, used) and not relative):
                continue  # "…, according to X, who added that …" is X's second statement
            statement = _leading_or_trailing(text, s_start, s_end, verb)
            if statement is None or _inside_any(quoted, statement.start, statement.end):
                continue  # "“…,” Putin said, reported Reuters."
            found.append(statement)
            used.append(statement.attribution)
            found += _conjoined(text, statement, s_end, used)
    return found


def _leading_or_trailing(text: str, s_start: int, s_end: int, verb: re.Match[str]) -> Found | None:
    prefix = text[s_start : s_start + verb.start()].rstrip()
    rest = text[s_start + verb.end() : s_end]
    if prefix.endswith(",") and verb.group("verb") in INVERTABLE:
        inverted = re.match(r"\s+(?P<subj>[^,;:“”\"]+?)\s*(?:,|\.?$)", rest)
        subject = inverted_subject(inverted.group("subj")) if inverted else None
        if subject and prefix[:-1].strip():
            subject_at = s_start + verb.end() + inverted.start("subj")
            return Found(
                subject_at,
                subject,
                verb.group("verb"),
                "reported",
                *trim(text, s_start, s_start + len(prefix) - 1),
                (s_start + len(prefix) - 1, subject_at + len(inverted.group("subj"))),
            )
    clause = last_clause(prefix)
    subject_end = s_start + len(prefix)
    when = TIME_TAIL.search(clause)
    if when and not is_subject(clause) and is_subject(clause[: when.start()]):
        clause = clause[: when.start()]  # "The White House on Tuesday declined to …"
        subject_end -= len(when.group())
    if not is_subject(clause) or prefix.endswith(","):
        for count, appositive in _appositives(prefix):  # "X, head of Y, a Z, said"
            if count > 1 and is_subject(clause) and not _place(prefix, clause):
                break
            if is_subject(last_clause(appositive.group("head") + appositive.group("subj"))):
                clause = last_clause(appositive.group("head") + appositive.group("subj"))
                subject_end = s_start + appositive.end("subj")
                break
    relative = RELATIVE_SPEAKER.search(prefix) if clause == "who" else None
    if relative:  # "…, according to Stoltenberg, who added that …"
        plain = verb.group("verb") in word_set("said says added adds told tells")
        clause_follows = CLAUSE.search(rest.split(",")[0]) is not None
        if not re.match(r"\s*that\b", rest) and not (plain and clause_follows):
            return None  # "the former President, who maintained …", "X, who wrote the law, said"
        clause = last_clause(ANTECEDENT_LEAD.sub("", relative.group("subj")))
        subject_end = s_start + relative.end("subj")
        if _place(prefix[: relative.end("subj")] + ",", clause):
            return None  # "… at a hospital in Kansas City, Missouri, who said …"
    if not is_subject(clause) or not clause:
        return None
    subject_start = subject_end - len(clause)
    verb_text = verb.group("verb")
    after = s_start + verb.end()
    before = text[s_start:subject_start].rstrip()
    if relative:
        before = ""  # what follows the verb is the statement
    if before.endswith(",") and rest.lstrip().startswith(","):
        content = trim(text, s_start, s_end)  # "The good news, Jha said, is …"
    elif before.endswith(",") and verb_text not in QUOTING and _trailing(before, rest):
        content = trim(text, s_start, s_start + len(before) - 1)
    elif PARTIAL_QUOTE_END.search(before) and _trailing(before, rest):
        content = trim(text, s_start, s_start + len(before))  # `… “a sham,” she said.`
    else:
        that = THAT.match(rest)
        setting = None
        if verb_text in NEEDS_THAT and not (that and re.match(r"\s*that\b", rest)):
            return None
        if verb_text in QUOTING:
            that = QUOTED_OBJECT.match(rest)  # the object and the words quoted are what was said
            if not that:
                return None  # "called for talks", "described files that were deleted"
        elif that:
            after += that.end()
        elif verb_text in ("told", "tells", "informed"):
            tell = TELL_OBJECT.match(rest)
            if not tell:
                return None
            after += tell.end()
        elif verb_text.startswith(("declined", "refused")):
            pass
        elif setting := SETTING_FIRST.match(rest):
            after += setting.end()  # "said on Monday demand will …", "warned, however, that …"
            if re.match(
                r"\s*(?:\w+ed|\w+ing|[a-z]+ly)\b|\s*(?:by|in|on|at|to|from)\b",
                rest[setting.end() :],
            ):
                return None  # "said in a statement posted on Facebook"
        elif re.match(
            r"\s*(?!at least|at most|in fact|on average|about \$?\d)(?:in|on|at|to|during|after|"
            r"before|about|for|of)\b|\s*[.,]",
            rest,
        ):
            return None
        content = trim(text, after, s_end)
        if content[1] - content[0] < 8 or not re.match(r"[\w“\"‘']", text[content[0]]):
            return None
        participle = PARTICIPLE.search(text, *content)
        clause_end = participle.start() if participle else content[1]
        plain = (
            not that and verb_text not in SAY and not verb_text.startswith(("declined", "refused"))
        )
        if (plain or setting) and not CLAUSE.search(text, content[0], clause_end):
            return None  # "criticized the company in a letter": an object, not a clause
    return Found(
        subject_start,
        clause,
        verb_text,
        "reported",
        *content,
        (subject_start, s_start + verb.end()),
    )


def _place(prefix: str, clause: str) -> bool:
    """Whether `clause` ends a place name: "… in Billings, Montana," "in Jeddah, Saudi Arabia,"."""
    head = prefix[: prefix.rstrip(", ").rfind(clause.strip(", "))].rstrip(", ")
    return (
        re.search(r"\b(?:in|of|from|near|at)\s+[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)*$", head) is not None
    )


def _appositives(prefix: str) -> Iterator[tuple[int, re.Match[str]]]:
    """A subject, then one to three comma-closed descriptions of it, nearest the verb first."""
    for count in (1, 2, 3):
        match = re.match(
            rf"^(?P<head>.*)(?P<subj>(?<=^)[^,;]+|(?<=,)[^,;]+),(?:[^,;]+,){{{count}}}$", prefix
        )
        if match:
            yield count, match


def _trailing(before: str, rest: str) -> bool:
    """`Content, X told a briefing.`: a main clause before the comma, little after the verb.

    A sentence may open with a conjunction ("But …, she said") or with an introductory phrase
    before its main clause ("In Iowa, shipments will …, she said"); a phrase alone before the
    speaker ("In a statement, Smith said he …") is no statement of its own.
    """
    if len(rest.split()) > 8 or re.search(r"\bthat\b", rest):
        return False
    words = before.split()
    while len(words) > 1 and words[0].lower().strip(",") in CONJUNCTIONS:
        words = words[1:]
    if len(words) < 3:
        return False  # "Still, the White House insisted …"
    first = words[0].lower().strip(",")
    if first in INTRO_STARTS or ("-" not in first and first.endswith(("ing", "ed"))):
        main = " ".join(words).split(", ", 1)[1:]
        return (
            bool(main)
            and len(main[0].split()) >= 3
            and not MODIFIER.match(main[0])
            and not CLAUSE.search(rest)  # "When they arrived, he said his son seemed …"
        )
    return True


def _conjoined(text: str, first: Found, s_end: int, used: list[tuple[int, int]]) -> list[Found]:
    """`he said A, and declined to comment on B`: B is the same speaker's second statement."""
    match = CONJOINED.search(text, first.start, first.end)
    if not match:
        return []
    verb = match.group("verb")
    if verb in QUOTING and not QUOTED_OBJECT.match(" " + text[match.end() : s_end]):
        return []  # "… and called for background checks"
    if verb in DISCLOSING and not match.group().rstrip().endswith("that"):
        return []  # "… and revealed that …", never "… and revealed plans"
    content = trim(text, match.end(), s_end)
    if content[1] - content[0] < 8:
        return []
    second = Found(
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
    text: str, sentences: list[tuple[int, int]], quotes: list[tuple[int, int]], found: list[Found]
) -> list[Found]:
    """`…,” he said, adding (that) …`, `Aziz sued, arguing …`, `Bowles didn't elaborate but said …`.

    The speaker is the sentence's earlier speaker, else its subject.
    """
    extra: list[Found] = []
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
                if not lead or not is_subject(lead.group("subj")):
                    continue
                lone = " " not in lead.group("subj") and lead.group("subj").lower() not in PRONOUNS
                if lone and not re.search(
                    rf"\w \b{re.escape(lead.group('subj'))}\b", text[:s_start]
                ):
                    continue  # a lone capitalised word is a name only if met before
                at, subject = s_start + lead.start("subj"), lead.group("subj")
            content = trim(text, match.end(), s_end)
            if content[1] - content[0] >= 8:
                extra.append(
                    Found(
                        at,
                        subject,
                        verb,
                        "reported",
                        *content,
                        (match.start(), match.end()),
                    )
                )
    return extra


def _overlap(one: tuple[int, int], other: tuple[int, int]) -> bool:
    return one[0] < other[1] and other[0] < one[1]


def _inside(at: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= at < end for start, end in spans)


def _inside_any(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(start <= at < end for at, _ in spans)
