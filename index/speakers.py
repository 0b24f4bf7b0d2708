"""Who a subject phrase names, and the article's fullest form of that name.

A phrase before or after a speech verb may be a pronoun, a (titled) name, a role or a body's
spokesperson; the resolver turns a surname into the full name ending with it, a pronoun into the
previous sentence's subject or the last speaker, "the secretary" into the last person given that
title. Pure rules over capitalised words; no NER model.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from index.speech import Found, Statement, trim, word_set

PRONOUNS = word_set("he she they")
ABBREVIATION = (
    r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Jr|Sr|St|Rev|Prof|Adm|Capt|Maj|Inc|Co)\."
)
NAME_TOKEN = rf"(?:{ABBREVIATION}|(?:[A-Z]\.)+|[A-Z][\w’'-]*)"
CONNECTOR = r"(?:of|for|the|de|van|von|bin|al|la|le|du|del|da|and)"
NAME_RUN = re.compile(rf"{NAME_TOKEN}(?:[ \t]+(?:{CONNECTOR}[ \t]+)*{NAME_TOKEN})*")
TITLES = word_set(
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
    for pair in word_set(
        "spokesman:spokesperson spokeswoman:spokesperson sen.:senator rep.:representative "
        "congressman:representative congresswoman:representative gov.:governor ceo:executive "
        "chairwoman:chairman chair:chairman prof.:professor gen.:general"
    )
)
ROLES = word_set(
    "president secretary minister senator representative governor mayor judge spokesperson "
    "chancellor ambassador executive chairman director commissioner coach sheriff professor "
    "general premier leader analyst economist"
)
NON_PERSON = word_set(
    "house department strip states union nations city university office ministry party court "
    "council force army news times post street bank company inc. corp. group capitol senate "
    "congress committee agency administration association institute center centre republic "
    "kingdom county district river sea ocean island islands east west north south america "
    "europe africa asia day week service school network media foundation organization "
    "commission police guard forces league club cup press journal magazine october november "
    "december january february march april june july august september monday tuesday "
    "wednesday thursday friday saturday sunday"
)
LEADING_WORDS = word_set(
    "the a an but and then so yet still meanwhile however now later earlier also in on at for "
    "when while as after before if this that his her their both either neither"
)
PREPOSITIONS = word_set(
    "by of from with to in on at about against after before over under between than into for "
    "is was were are has had have will would could"
)
SPOKESPEOPLE = r"(?:spokesperson|spokesman|spokeswoman|representative|statement)"
SPOKESPERSON_FOR = re.compile(
    rf"(?:(?:the|a|an)\s+)?(?:[a-z]+\s+)?{SPOKESPEOPLE}\s+(?:for|from)\s+"
    rf"(?:the\s+)?(?P<org>{NAME_RUN.pattern})"
)
SPOKESPERSON_OF = re.compile(rf"(?:(?:the|a|an)\s+)?(?P<org>{NAME_RUN.pattern})\s+{SPOKESPEOPLE}")
LEADING_SUBJECT = re.compile(
    rf"(?:[^,“”\"]{{0,60}},\s+)?(?P<subj>{NAME_TOKEN}(?:[ \t]+{NAME_TOKEN})*"
    r"|[Hh]e|[Ss]he|[Tt]hey)\s+[a-z]"
)
GROUPS = word_set(
    "sources officials authorities owners experts critics residents analysts police "
    "investigators prosecutors researchers scientists doctors witnesses lawmakers democrats "
    "republicans others many some both all most people observers supporters opponents"
)
DATE_WORDS = word_set(
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "june july august september october november december"
)
CLAUSE_BREAK = re.compile(r"(?:^|[,;]\s+|\s+(?:but|while|as|because|that)\s+|\s+and\s+(?=[a-z]))")


def inverted_subject(phrase: str) -> str | None:
    """The speaker after an inverted verb: `said Austin King`, `said King Monday evening`."""
    if is_subject(phrase):
        return phrase
    run = NAME_RUN.match(phrase)
    return run.group() if run and is_subject(run.group()) else None


def _as_written(subject: str) -> str:
    """The subject without a sentence's opening conjunction ("But he" → "he")."""
    words = subject.split()
    while len(words) > 1 and words[0].lower() in LEADING_WORDS - {"the", "a", "an"}:
        words = words[1:]
    return " ".join(words)


def last_clause(prefix: str) -> str:
    """The clause of `prefix` nearest its speech verb, where the verb's subject must lie."""
    pieces = CLAUSE_BREAK.split(prefix.strip())
    return pieces[-1].strip() if pieces else ""


def is_subject(phrase: str) -> bool:
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


class Resolver:
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

    def resolve(self, found: list[Found]) -> list[Statement]:
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
                start, end = trim(self.text, start, min(nested[0].attribution[0], end))
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

    def _speaker(self, item: Found, speakers: list[tuple[int, str]]) -> str | None:
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

    def _antecedent(self, item: Found, speakers: list[tuple[int, str]]) -> str | None:
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
