"""Who a subject phrase names, and the article's fullest form of that name.

A phrase before or after a speech verb may be a pronoun, a (titled) name, a role or a body's
spokesperson; the resolver turns a surname into the full name ending with it, a pronoun into the
previous sentence's subject or the last speaker, "the secretary" into the last person given that
title. Pure rules over capitalised words; no NER model.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

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
SUBORDINATE = (
    r"(?:but|while|as|because|that|after|before|since|until|when|where|although|though|if|"
    r"once|which)"
)
CLAUSE_BREAK = re.compile(
    rf"(?:^|[,;:]\s+(?:(?:and|or|{SUBORDINATE})\s+)*|\s+{SUBORDINATE}\s+|\s+and\s+(?=[a-z]))"
)
OWNED_BODY = re.compile(
    r"(?P<owner>[\w. -]+?)['’]s\s+(?P<body>(?:[a-z-]+\s+){0,2}(?:office|ministry|government|"
    r"forces|military|army|navy|police|embassy|department|spokesperson|spokesman|spokeswoman|"
    r"statement|lawyers?|attorneys?|campaign|team|administration|family)(?:\s+in\s+[A-Z][\w-]*)?)"
)
DEMONYMS = dict(
    pair.split(":")
    for pair in word_set(
        "Russia:Russian Ukraine:Ukrainian China:Chinese Israel:Israeli Iran:Iranian "
        "America:American Britain:British France:French Germany:German Japan:Japanese "
        "India:Indian Turkey:Turkish Italy:Italian Spain:Spanish Poland:Polish Canada:Canadian "
        "Mexico:Mexican Syria:Syrian Egypt:Egyptian Taiwan:Taiwanese Korea:Korean "
        "Belarus:Belarusian Iraq:Iraqi Afghanistan:Afghan Pakistan:Pakistani Brazil:Brazilian"
    )
)
NEWSPAPERS = word_set(
    "times post journal guardian telegraph independent economist atlantic observer herald "
    "globe tribune chronicle hill sun mirror"
)
HEADING = re.compile(r"\b[A-Z]{4,} [A-Z]{4,}\b")
QUANTIFIERS = word_set(
    "two three four five six seven eight nine ten several some many multiple other few a an "
    "the both all most at least"
)
FAMILIAR = re.compile(
    r"(?:people|sources|officials|persons|individuals)\s+(?:familiar with|close to|briefed on|"
    r"with (?:direct )?knowledge of)\s+[\w\s’'-]+"
)
# Professions that speak as a body and are named as such ("prosecutors said").
BODIES = word_set("prosecutors police investigators")
# "the company said": the body is named elsewhere in the article.
REFERENCES = word_set(
    "company firm team club league ministry department agency office statement court government "
    "organization organisation commission council committee military army network airline "
    "bank university hospital campaign group service embassy"
)
DOCUMENTS = word_set(
    "documents records filings affidavit indictment complaint lawsuit transcript transcripts"
)
COMPANIES = word_set("company firm team club group airline bank network")
HEADS = re.compile(
    r"\b(?:Department|Ministry|Agency|Administration|Committee|Commission|Council|Service|Court|"
    r"Office|Police|Government|Army|University|Hospital|Embassy|House|Senate|Congress)\b"
)
POSSESSIVE_PRONOUNS = word_set("his her their its")
# "his office said" is the office of the person "his" points to; "his statement", the person.
POSSESSED = word_set(
    "office campaign statement spokesperson spokesman spokeswoman lawyer lawyers attorney "
    "attorneys team family representative representatives"
)


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


@lru_cache(maxsize=8192)
def _parse(phrase: str) -> tuple[str, str, str] | None:
    """(kind, name or role, title) for a subject phrase; kind is pronoun, name, org or role.

    A name may follow a short description ("court spokeswoman Iris le Claire"); a spokesperson
    speaks for the body named with it ("a Meta spokesperson" → Meta).
    """
    if HEADING.search(phrase):
        return None  # page furniture: "JUST WATCHED Lawmaker says …"
    words = phrase.rsplit(")", 1)[-1].strip(" ,.;:").split()  # drop "(CNN)" and its dateline
    while len(words) > 2 and words[0].lower() in LEADING_WORDS:
        words = words[1:]
    if len(words) == 2 and words[0].lower() in POSSESSIVE_PRONOUNS and words[1] in POSSESSED:
        return "possessive", words[1], words[0].lower()
    while len(words) > 1 and words[0].lower() in LEADING_WORDS:
        words = words[1:]
    if not words or len(words) > 10:
        return None
    text = " ".join(words)
    lowered = text.lower()
    if len(words) == 1 and lowered in PRONOUNS | {"it"}:
        return "pronoun", lowered, ""
    described = _described(words, text)
    if described is not None:
        return described
    body = SPOKESPERSON_FOR.fullmatch(text) or SPOKESPERSON_OF.fullmatch(text)
    if body:
        org = body.group("org").split()
        if org[-1].lower() in DATE_WORDS:
            return None  # "a Monday statement"
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


def _described(words: list[str], text: str) -> tuple[str, str, str] | None:
    """A speaker named by description: "his office", "the company", "French authorities"."""
    lowered = [w.lower() for w in words]
    if len(words) == 1 and lowered[0] in REFERENCES:
        return "reference", lowered[0], ""
    owned = OWNED_BODY.fullmatch(text)
    if owned:
        owner, body = owned.group("owner"), owned.group("body")
        if owner.islower():
            return "group", f"{owner}'s {body}", ""  # "the sheriff's office"
        if _final_run(owner) != owner:
            return None
        if body.split()[-1] in ("statement", "spokesperson", "spokesman", "spokeswoman"):
            return "org", owner, ""
        if owner in DEMONYMS:
            return "group", f"{DEMONYMS[owner]} {body}", ""  # "Russia's defense ministry"
        return "owned", owner, body
    while len(words) > 1 and (lowered[0] in QUANTIFIERS or lowered[0].isdigit()):
        words, lowered = words[1:], lowered[1:]
    familiar = FAMILIAR.fullmatch(" ".join(lowered))
    if familiar:
        return "group", " ".join(words), ""
    if lowered[-1] in DOCUMENTS and len(words) <= 3 and not set(lowered) & PREPOSITIONS:
        return "group", " ".join(lowered), ""  # "court documents", "police records"
    qualified = len(words) > 1 or lowered[0] in BODIES
    group = lowered[-1] in (GROUPS | BODIES) - QUANTIFIERS - word_set("others")
    if group and qualified and all(w[0].isupper() for w in words[:-1]):
        return "group", " ".join(words[:-1] + lowered[-1:]), ""  # "French authorities"
    return None


def _generic(name: str) -> bool:
    """A capitalised word that names nobody: "The", "Sources", "Fiji's", "Officials"."""
    lowered = name.lower()
    return (
        lowered in LEADING_WORDS
        or lowered in GROUPS
        or lowered in QUANTIFIERS
        or lowered == "it"
        or lowered.endswith(("'s", "’s"))
    )


def _demonym(name: str) -> str:
    """ "Russia's Ministry of Defense" as it calls itself: "Russian Ministry of Defense"."""
    name = name.replace("’", "'")
    owner, _, body = name.partition("'s ")
    return f"{DEMONYMS[owner]} {body}" if body and owner in DEMONYMS else name


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
        self.runs = list(NAME_RUN.finditer(text))  # capitalised runs, read once per article
        self.people = self._people()
        self.names = {name for _, name, _ in self.people}

    def _people(self) -> list[tuple[int, str, str]]:
        """(position, name, title) of every capitalised run that reads like a person's name."""
        people: list[tuple[int, str, str]] = []
        surnames: set[str] = set()
        for run in self.runs:
            parsed = _parse(run.group())
            if parsed is None or parsed[0] != "name":
                continue
            _, names, _ = parsed
            before = self.text[max(0, run.start() - 30) : run.start()].split()[-1:]
            words = [w.lower() for w in before + run.group().split()]
            title = " ".join(ROLE_ALIASES.get(w, w) for w in words if w in TITLES)
            for name in names.split(" and "):
                tokens = name.split()
                if name.lower() in TITLES:
                    continue  # "a US offer": a title alone names nobody
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
            run = _final_run(expanded.group(1)) if expanded else None
            if run and "".join(w[0] for w in run.split() if w[0].isupper()).startswith(name[0]):
                return run  # "World Health Organization (WHO)", not "Washington (CNN)"
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
        speakers: list[Spoken] = []  # earlier statements' speakers, in text order
        for item in found:
            resolved = self._speaker(item, speakers)
            if resolved is None:
                continue
            speaker, body = resolved
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
            attributed = self.text[self.sentences[first][0] : self.sentences[last][1]]
            speakers.append(
                Spoken(self._sentence(item.at), speaker, body, "statement" in attributed.lower())
            )
        return statements

    def _speaker(self, item: Found, speakers: list[Spoken]) -> tuple[str, bool] | None:
        """The resolved speaker, and whether it is a body (a company, a ministry) or a person."""
        parsed = _parse(item.subject)
        if parsed is None:
            return None
        kind, name, title = parsed
        if kind == "org":
            return _demonym(self.full_name(name, item.at)), True
        if kind == "owned":
            return f"{self.full_name(name, item.at)}'s {title}".replace("’", "'"), True
        if kind == "group":
            return self._named_body(name, item.at) or name, True
        if kind == "name":
            if not self._named(name, item.at):
                return None
            full = self.full_name(name, item.at).replace("’", "'")
            if full.split()[-1].lower() in NEWSPAPERS and re.search(
                rf"\b[Tt]he {re.escape(name)}$", item.subject
            ):
                return f"The {full}", True  # "The Guardian reported"
            return _demonym(full), not any(n == full for _, n, _ in self.people)
        if kind == "role":
            holders = [n for p, n, t in self.people if title in t.split() and p < item.at]
            if holders:
                return self.full_name(holders[-1], item.at), False
            return (name, False) if any(w[0].isupper() for w in name.split()) else None
        if kind == "reference":
            return self._reference(item, name, speakers)
        if kind == "possessive":
            person = self._antecedent(item, speakers, within_sentence=True)
            if person is None or person[1]:
                return None
            if name in ("statement", "spokesperson", "spokesman", "spokeswoman"):
                return person
            return f"{person[0]}'s {name}", True
        if name == "it":
            bodies = [s for s in speakers if s.body and self._sentence(item.at) - s.sentence <= 3]
            return (bodies[-1].speaker, True) if bodies else None
        return self._antecedent(item, speakers)

    def _named_body(self, description: str, at: int) -> str | None:
        """ "the sheriff's office" as the article named it: "Utah County Sheriff's Office"."""
        ending = " " + description.lower().replace("’", "'")
        runs = [
            run.group().replace("’", "'")
            for run in self.runs
            if run.end() <= at
            if run.group().lower().replace("’", "'").endswith(ending)
        ]
        return _demonym(runs[-1].removeprefix("The ")) if runs else None

    def _named(self, name: str, at: int) -> bool:
        """A lone plural ("Applicants") names a body only if it is capitalised mid-sentence too."""
        plural = name.endswith("s") and not name.endswith(("ss", "'s", "’s"))
        if " " in name or not plural or name.isupper():
            return True
        if any(n.endswith(name) for _, n, _ in self.people):
            return True
        return re.search(rf"[\w,] {re.escape(name)}\b", self.text) is not None

    def _reference(self, item: Found, noun: str, speakers: list[Spoken]) -> tuple[str, bool] | None:
        """ "the statement" is the last source of a statement; "the ministry" the last one named."""
        sentence = self._sentence(item.at)
        if noun == "statement":
            sources = [s for s in speakers if s.statement and sentence - s.sentence <= 6]
            return (sources[-1].speaker, sources[-1].body) if sources else None
        head = noun.capitalize()
        named = [
            run
            for run in self.runs
            if run.end() <= item.at
            if head in run.group().split() and " " in run.group()
        ]
        if named:
            parsed = _parse(named[-1].group())
            if parsed and parsed[0] == "name":
                return _demonym(self.full_name(parsed[1], named[-1].start())), True
        bodies = [s for s in speakers if s.body and sentence - s.sentence <= 3]
        if bodies and noun in COMPANIES and not HEADS.search(bodies[-1].speaker):
            return bodies[-1].speaker, True
        lead = LEADING_SUBJECT.match(self.text, *self.sentences[sentence])
        parsed = _parse(lead.group("subj")) if lead else None
        if (
            parsed
            and parsed[0] == "name"
            and " " not in parsed[1]
            and lead.start("subj") < item.at
            and not any(n.endswith(parsed[1]) for _, n, _ in self.people)
        ):
            return parsed[1], True  # "Nike is suspending …, the company said"
        return None

    def _antecedent(
        self, item: Found, speakers: list[Spoken], within_sentence: bool = False
    ) -> tuple[str, bool] | None:
        """The same or previous sentence's speaker or subject, else the last person named."""
        sentence = self._sentence(item.at)
        person = item.subject.lower().split()[-1] in ("he", "she", "his", "her")
        speakers = [s for s in speakers if not (person and s.body)]
        if within_sentence:  # "… sent by Gov. Ron DeSantis to Martha's Vineyard, his office said"
            named = [(p, n, t) for p, n, t in self.people if self.starts[sentence] <= p < item.at]
            named = [entry for entry in named if entry[2]] or named
            if named:
                return self.full_name(named[0][1], named[0][0]), False
        recent = [s for s in speakers if sentence - 1 <= s.sentence <= sentence]
        if recent:
            return recent[-1].speaker, recent[-1].body
        if sentence:
            lead = LEADING_SUBJECT.match(self.text, *self.sentences[sentence - 1])
            parsed = _parse(lead.group("subj")) if lead else None
            if parsed and parsed[0] == "name":
                full = self.full_name(parsed[1], lead.start("subj"))
                body = lead.group("subj").startswith("The ") and full not in self.names
                if not (person and body):
                    return full, False
        if speakers and sentence - speakers[-1].sentence <= 4:
            return speakers[-1].speaker, speakers[-1].body
        earlier = [(p, n) for p, n, _ in self.people if p < self.starts[sentence]]
        if item.subject.lower() != "they" and earlier:
            return self.full_name(earlier[-1][1], earlier[-1][0]), False
        return None


@dataclass(frozen=True)
class Spoken:
    """A speaker already resolved: in which sentence, whether a body, whether "a statement"."""

    sentence: int
    speaker: str
    body: bool
    statement: bool
