"""Resolving speakers through an article: surnames, pronouns, roles and bodies, in text order.

A subject phrase is parsed in `index.speakers`; here it becomes the article's fullest form of the
name, resolved from what came before it: a surname to the full name ending with it, a pronoun to
the previous sentence's subject or the last speaker, "the secretary" to the last person given that
title, "the company" to the body named last.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from index.speakers import (
    DEMONYMS,
    LEADING_SUBJECT,
    LEADING_WORDS,
    NAME_RUN,
    NON_PERSON,
    ROLE_ALIASES,
    SPEAKING_GROUPS,
    TITLES,
    final_run,
    parse_subject,
)
from index.speech import Found, Statement, trim, word_set

NEWSPAPERS = word_set(
    "times post journal guardian telegraph independent economist atlantic observer herald "
    "globe tribune chronicle hill sun mirror"
)
COMPANIES = word_set("company firm team club group airline bank network")
PUBLIC_BODIES = word_set(
    "agency department ministry office administration commission council committee service "
    "court government military army authority panel board"
)
DOCUMENTS = word_set("statement release letter memo tweet")
HEADS = re.compile(
    r"\b(?:Department|Ministry|Agency|Administration|Committee|Commission|Council|Service|Court|"
    r"Office|Police|Government|Army|University|Hospital|Embassy|House|Senate|Congress)\b"
)


def _as_written(subject: str) -> str:
    """The subject without a sentence's opening conjunction ("But he" → "he")."""
    words = subject.split()
    while len(words) > 1 and words[0].lower() in LEADING_WORDS - {"the", "a", "an"}:
        words = words[1:]
    return " ".join(words).rstrip(",")  # "Jake Sullivan," of an appositive


def _demonym(name: str) -> str:
    """ "Russia's Ministry of Defense" as it calls itself: "Russian Ministry of Defense"."""
    name = name.replace("’", "'")
    owner, _, body = name.partition("'s ")
    return f"{DEMONYMS[owner]} {body}" if body and owner in DEMONYMS else name


OTHER_GENDER = {
    "he": ("she", "her"),
    "his": ("she", "her"),
    "she": ("he", "his"),
    "her": ("he", "his"),
}


def _headed(name: str, head: str) -> bool:
    """Whether `head` names what `name` is: "Yellowstone National Park", "Department of Health"."""
    words = name.split()
    return words[-1] == head or any(
        w == head and after in ("of", "for") for w, after in zip(words, words[1:], strict=False)
    )


def _public(body: str) -> bool:
    """A public body as named: "Food and Drug Administration", or its initials ("FDA")."""
    return HEADS.search(body) is not None or (body.isupper() and 2 <= len(body) <= 6)


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
            parsed = parse_subject(run.group())
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
            expanded = self._spelled_out(name)
            run = final_run(expanded.group(1)) if expanded else None
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
        first = endings[0][1].split()[0]  # several Bidens: the one the article introduced first
        endings = [(p, n) for p, n in endings if n.split()[0] == first]
        longest = max(len(n) for _, n in endings)
        fullest = [(p, n) for p, n in endings if len(n) == longest]
        earlier = [n for p, n in fullest if p < at]
        return earlier[-1] if earlier else fullest[0][1]

    def _spelled_out(self, initials: str) -> re.Match[str] | None:
        """The name written before "(WHO)", looked for only where "(WHO)" stands."""
        pattern = re.compile(rf"({NAME_RUN.pattern})\s+\({re.escape(initials)}\)$")
        at = self.text.find(f"({initials})")
        while at >= 0:
            end = at + len(initials) + 2
            expanded = pattern.search(self.text, max(0, at - 200), end)
            if expanded:
                return expanded
            at = self.text.find(f"({initials})", end)
        return None

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
                Spoken(
                    self._sentence(item.at),
                    speaker,
                    body,
                    frozenset(DOCUMENTS & set(re.findall(r"[a-z]+", attributed.lower()))),
                    item.subject.lower(),
                )
            )
        return statements

    def _speaker(self, item: Found, speakers: list[Spoken]) -> tuple[str, bool] | None:
        """The resolved speaker, and whether it is a body (a company, a ministry) or a person."""
        parsed = parse_subject(item.subject)
        if parsed is None:
            return None
        kind, name, title = parsed
        if kind == "org":
            return _demonym(self.full_name(name, item.at)), True
        if kind == "owned":
            return f"{self.full_name(name, item.at)}'s {title}".replace("’", "'"), True
        if kind == "group":
            return self._named_body(name, item.at) or self._local(name, item.at) or name, True
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
        if kind == "anaphor":  # "the official said": the official quoted just before
            sentence = self._sentence(item.at)
            earlier = [
                s
                for s in speakers
                if name in re.findall(r"[a-z]+", s.written) and sentence - s.sentence <= 6
            ]
            return (earlier[-1].speaker, earlier[-1].body) if earlier else None
        if kind == "possessive":
            person = self._antecedent(item, speakers, within_sentence=True)
            if person is None or person[1]:
                return None
            if name in ("statement", "spokesperson", "spokesman", "spokeswoman"):
                return person
            return f"{person[0]}'s {name}", True
        if name == "it":
            bodies = [
                s
                for s in speakers
                if s.body and s.named and self._sentence(item.at) - s.sentence <= 3
            ]
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

    def _local(self, description: str, at: int) -> str | None:
        """ "city officials" of the city the sentence names: "New York" → "New York City officials".

        Only when the article also writes that city's full name, so "Denver" in a round-up of
        many cities stays "city officials".
        """
        place, _, rest = description.partition(" ")
        if place not in ("city", "county") or rest != "officials":
            return None
        start, end = self.sentences[self._sentence(at)]
        head = place.capitalize()
        for run in NAME_RUN.finditer(self.text, start, end):
            words = [w for w in run.group().split() if w.lower() not in LEADING_WORDS]
            full = " ".join([*words, head])
            if words and words[-1] != head and re.search(rf"\b{re.escape(full)}\b", self.text):
                return f"{full} {rest}"
        return None

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
        if noun in DOCUMENTS:  # "the release said": who spoke "in a news release"
            sources = [s for s in speakers if noun in s.documents and sentence - s.sentence <= 6]
            return (sources[-1].speaker, sources[-1].body) if sources else None
        heads = " ".join(word.capitalize() for word in noun.split())
        named = [
            run
            for run in self.runs
            if run.end() <= item.at
            if re.search(rf"\b{heads}\b", run.group()) and " " in run.group()
        ]
        head = noun.split()[-1]
        for run in reversed(named):
            parsed = parse_subject(run.group())
            if parsed and parsed[0] == "name" and _headed(parsed[1], head.capitalize()):
                return _demonym(self.full_name(parsed[1], run.start())), True
        bodies = [s for s in speakers if s.body and s.named and sentence - s.sentence <= 3]
        if bodies and head in COMPANIES and not HEADS.search(bodies[-1].speaker):
            return bodies[-1].speaker, True
        if bodies and head in PUBLIC_BODIES and _public(bodies[-1].speaker):
            return bodies[-1].speaker, True  # "the FDA said …" then "the agency said"
        lead = LEADING_SUBJECT.match(self.text, *self.sentences[sentence])
        parsed = parse_subject(lead.group("subj")) if lead else None
        if (
            " " not in noun
            and parsed
            and parsed[0] == "name"
            and " " not in parsed[1]
            and lead.start("subj") < item.at
            and not any(n.endswith(parsed[1]) for _, n, _ in self.people)
            and len(re.findall(rf"\b{re.escape(parsed[1])}\b", self.text)) > 1
            and not re.search(rf"\b{re.escape(parsed[1].lower())}\b", self.text)  # "These", "No"
        ):
            return parsed[1], True  # "Nike is suspending …, the company said"
        return None

    def _antecedent(
        self, item: Found, speakers: list[Spoken], within_sentence: bool = False
    ) -> tuple[str, bool] | None:
        """The same or previous sentence's speaker or subject, else the last person named."""
        sentence = self._sentence(item.at)
        pronoun = item.subject.lower().split()[-1]
        person = pronoun in ("he", "she", "his", "her")
        other = OTHER_GENDER.get(pronoun, ())  # "she" never points to someone called "he"
        called = {
            s.speaker for s in speakers if s.written.split()[-1:] and s.written.split()[-1] in other
        }
        speakers = [s for s in speakers if not (person and s.body) and s.speaker not in called]
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
            parsed = parse_subject(lead.group("subj")) if lead else None
            if parsed and parsed[0] == "name":
                full = self.full_name(parsed[1], lead.start("subj"))
                body = lead.group("subj").startswith("The ") and full not in self.names
                if not (person and body) and full not in called:
                    return full, False
        if speakers and sentence - speakers[-1].sentence <= 4:
            return speakers[-1].speaker, speakers[-1].body
        earlier = [
            (p, n)
            for p, n, _ in self.people
            if p < self.starts[sentence] and self.full_name(n, p) not in called
        ]
        if item.subject.lower() != "they" and earlier:
            return self.full_name(earlier[-1][1], earlier[-1][0]), False
        return None


@dataclass(frozen=True)
class Spoken:
    """A speaker already resolved: in which sentence, whether a body, what it spoke in."""

    sentence: int
    speaker: str
    body: bool
    documents: frozenset[str]  # "statement", "release" … in its sentence: "the statement said"
    written: str  # the subject as written, lower case: "a senior administration official"

    @property
    def named(self) -> bool:
        """A body named ("Meta", "FDA"), not described ("officials"): "it" may point to it."""
        return self.speaker[:1].isupper() and self.speaker.split()[-1] not in SPEAKING_GROUPS
