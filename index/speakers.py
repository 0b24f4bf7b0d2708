"""Who a subject phrase names: a pronoun, a (titled) name, a role, a body or a group.

A phrase before or after a speech verb is parsed here on its own; `index.resolver` turns what it
names into the article's fullest form. Pure rules over capitalised words; no NER model.
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.speech import word_set

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
    "congresswoman strategist expert researcher scientist commander official press u.s. us uk un "
    "maj. capt. major lieutenant colonel sergeant corporal trooper inspector superintendent "
    "councilman councilwoman councilmember alderman assemblyman assemblywoman treasurer "
    "comptroller prosecutor columnist commentator mp mep secretary-general director-general "
    "attorney-general governor-general president-elect"
)
# Words that describe whoever follows but are no title ("Columnist", "American", "Actor"): taken
# off only before a full name, so "American Express" and "Actor" alone stay as written.
DESCRIPTIONS = word_set(
    "historian physician doctor nurse actor actress singer rapper comedian writer novelist poet "
    "producer designer activist advocate entrepreneur investor billionaire businessman "
    "businesswoman pundit teacher quarterback forward striker goalkeeper pitcher veteran "
    "republican democrat democratic independent conservative liberal actors californian texan "
    "floridian"
)
# Capitalised only because they open the sentence: "Though Johnson said", "Unlike Peter Meijer".
OPENERS = word_set(
    "though although unlike like despite because since unless until whereas whether during "
    "following including according asked speaking responding writing addressing praising citing "
    "noting calling referring echoing told with without meanwhile however instead what who why "
    "how where which can could should would sometimes often perhaps maybe awaiting frequent "
    "besides having another see to read watch where's what's who's it's"
)
# What may follow an inverted speaker: "said Ned Price in a statement", "said Jha on Friday".
SETTING = re.compile(
    r"\s+(?:in|on|at|to|during|after|before|about|of|for|with|from|via|through|this|last|late|"
    r"early|earlier|later|[A-Z][a-z]+day)\b"
)
# A first-person word is the speaker's own voice, never the speaker: "I said …", "We added".
FIRST_PERSON = word_set("i we us you one i'm i’m i've i’ve i'd i’d i'll i’ll")
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
    "commission police guard forces league club cup press journal magazine motors airlines "
    "airways october november "
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
WEEKDAYS = word_set("monday tuesday wednesday thursday friday saturday sunday")
DATE_WORDS = word_set(
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "june july august september october november december"
)
SUBORDINATE = (
    r"(?:but|while|as|because|that|after|before|since|until|when|where|although|though|if|"
    r"once|which)"
)
CLAUSE_BREAK = re.compile(
    rf"(?:^|[,;:][”\"]?\s+(?:(?:and|or|{SUBORDINATE})\s+)*|\s+{SUBORDINATE}\s+|\s+and\s+(?=[a-z]))"
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
ACRONYM_AFTER = re.compile(r"\s*\([A-Z][A-Za-z.&-]{1,9}\)\s*$")
HEADING = re.compile(r"\b[A-Z]{4,} [A-Z]{4,}\b")
QUANTIFIERS = word_set(
    "two three four five six seven eight nine ten several some many multiple other few a an "
    "the both all most at least another"
)
FAMILIAR = re.compile(
    r"(?:people|sources|officials|persons|individuals)\s+(?:familiar with|close to|briefed on|"
    r"with (?:direct )?knowledge of)\s+[\w\s’'-]+"
)
# Who speak as a group, unnamed, in news reports: "officials said", "health experts told CNN".
SPEAKING_GROUPS = word_set(
    "officials authorities experts analysts investigators prosecutors police researchers "
    "scientists doctors witnesses lawmakers critics sources organizers economists strategists"
)
# Professions that speak as a body and are named as such ("prosecutors said").
BODIES = word_set("prosecutors police investigators")
# "the company said": the body is named elsewhere in the article.
REFERENCES = word_set(
    "company firm team club league ministry department agency office statement court government "
    "organization organisation commission council committee military army network airline "
    "bank university hospital campaign group service embassy release letter memo tweet park "
    "school association panel institute foundation board society museum zoo college authority"
)
# A described speaker never holds a clause of its own: "who also did not support removing Cheney".
RELATIVE = word_set("who whose which that not did does do")
# Someone quoted before and named again only by what they are: "the official said".
ANAPHORS = word_set("official source person analyst expert spokesperson spokesman spokeswoman")
DOCUMENTS = word_set(
    "documents records filings affidavit indictment complaint lawsuit transcript transcripts"
)
POSSESSIVE_PRONOUNS = word_set("his her their its")
# "his office said" is the office of the person "his" points to; "his statement", the person.
POSSESSED = word_set(
    "office campaign statement spokesperson spokesman spokeswoman lawyer lawyers attorney "
    "attorneys team family representative representatives"
)


def inverted_subject(phrase: str) -> str | None:
    """The speaker after an inverted verb: `said Austin King`, `said King Monday evening`.

    Else the longest start of `phrase` that ends with a name, names a speaker and is followed by
    where or when it was said: "US State Department spokesperson Ned Price in a statement".
    """
    if is_subject(phrase):
        return phrase
    for run in reversed(list(NAME_RUN.finditer(phrase))):
        start = phrase[: run.end()]
        if (run.start() == 0 or SETTING.match(phrase, run.end())) and is_subject(start):
            return start
    return None


def last_clause(prefix: str) -> str:
    """The clause of `prefix` nearest its speech verb, where the verb's subject must lie."""
    pieces = CLAUSE_BREAK.split(prefix.strip())
    return pieces[-1].strip() if pieces else ""


def is_subject(phrase: str) -> bool:
    """Whether `phrase` can name a speaker: a pronoun, a name, or a (capitalised) role."""
    return parse_subject(phrase) is not None


@lru_cache(maxsize=8192)
def parse_subject(phrase: str) -> tuple[str, str, str] | None:
    """(kind, name or role, title) for a subject phrase; kind is pronoun, name, org or role.

    A name may follow a short description ("court spokeswoman Iris le Claire"); a spokesperson
    speaks for the body named with it ("a Meta spokesperson" → Meta).
    """
    if HEADING.search(phrase):
        return None  # page furniture: "JUST WATCHED Lawmaker says …"
    phrase = ACRONYM_AFTER.sub("", phrase)  # "the World Health Organization (WHO)"
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
    if re.fullmatch(r"[DRI]-[A-Z][\w.]*", text):
        return None  # "Nancy Pelosi, D-Calif.,": a party and a state
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
    run = final_run(text)
    if run is None:
        return None
    described = text[: len(text) - len(run)].split()
    if (
        len(described) > 6
        or {w.lower() for w in described} & PREPOSITIONS
        or set(described) & RELATIVE
    ):
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
    if len(words) == 1 and lowered[0] in ANAPHORS:
        return "anaphor", lowered[0], ""  # "the official", "the source"
    if (  # "the weather service", "the state health department"
        2 <= len(words) <= 3
        and lowered[-1] in REFERENCES - word_set("statement release letter memo tweet")
        and all(w.islower() and _modifier(w) for w in words[:-1])
    ):
        return "reference", " ".join(lowered), ""
    owned = OWNED_BODY.fullmatch(text)
    if owned:
        owner, body = owned.group("owner"), owned.group("body")
        if owner.islower():
            return "group", f"{owner}'s {body}", ""  # "the sheriff's office"
        if final_run(owner) != owner:
            return None
        if body.split()[-1] in ("statement", "spokesperson", "spokesman", "spokeswoman"):
            return "org", owner, ""
        if owner in DEMONYMS:
            return "group", f"{DEMONYMS[owner]} {body}", ""  # "Russia's defense ministry"
        return "owned", owner, body
    while len(words) > 1 and (lowered[0] in QUANTIFIERS or lowered[0].isdigit()):
        words, lowered = words[1:], lowered[1:]
    if (  # an unnamed source: "a senior administration official", "a state department source"
        2 <= len(words) <= 4
        and lowered[-1] in ANAPHORS
        and all(w.islower() and _modifier(w) for w in words[:-1])
    ):
        return "group", " ".join(lowered), ""
    familiar = FAMILIAR.fullmatch(" ".join(lowered))
    if familiar:
        return "group", " ".join(words), ""
    if lowered[-1] in DOCUMENTS and len(words) <= 3 and not set(lowered) & PREPOSITIONS:
        return "group", " ".join(lowered), ""  # "court documents", "police records"
    qualified = len(words) > 1 or lowered[0] in BODIES
    group = lowered[-1] in (GROUPS | BODIES) - QUANTIFIERS - word_set("others")
    if group and qualified and all(w[0].isupper() for w in words[:-1]):
        return "group", " ".join(words[:-1] + lowered[-1:]), ""  # "French authorities"
    speaking = lowered[-1] in SPEAKING_GROUPS
    if speaking and len(words) <= 4 and all(_modifier(w) for w in words[:-1]):
        return "group", " ".join(words[:-1] + lowered[-1:]), ""  # "city officials said"
    return None


def _modifier(word: str) -> bool:
    """A word that may qualify a group: "health" officials, "senior administration" officials."""
    lowered = word.lower()
    if word[0].isupper():
        return lowered not in OPENERS
    return (
        re.fullmatch(r"[a-z][a-z-]+", word) is not None
        and lowered not in PREPOSITIONS | LEADING_WORDS | QUANTIFIERS | FIRST_PERSON
        and not lowered.endswith(("ing", "ed", "ly"))
    )


def _generic(name: str) -> bool:
    """A capitalised word that names nobody: "The", "Sources", "Fiji's", "Officials"."""
    lowered = name.lower()
    return (
        lowered in LEADING_WORDS
        or lowered in GROUPS
        or lowered in QUANTIFIERS
        or lowered == "it"
        or lowered in FIRST_PERSON
        or lowered.endswith(("'s", "’s"))
    )


def _describes(word: str) -> bool:
    """A word that may stand before a full name without being part of it."""
    lowered = word.lower()
    return (
        lowered in DESCRIPTIONS
        or word in DEMONYMS.values()
        or word.endswith(("'s", "’s", "'", "’"))  # "Apple's Tim Cook"
        or (len(lowered) >= 7 and lowered.endswith("ist") and not lowered.endswith("qvist"))
    )


def final_run(text: str) -> str | None:
    """The capitalised run that ends `text`, if it does end with one."""
    runs = [run for run in NAME_RUN.finditer(text) if run.end() == len(text)]
    return runs[0].group() if runs else None


def _person(run: str) -> tuple[str, str]:
    """("Antony Blinken", "state") from "Secretary of State Antony Blinken"; titles come off."""
    words = run.split()
    while len(words) > 1 and words[-1].lower() in DATE_WORDS:
        words = words[:-1]  # "King Monday" (evening)
    if (len(words) == 1 and words[0].lower() in WEEKDAYS) or words[-1] == "I":
        return "", ""  # "…, Rosenthal said Tuesday", "Will I …": a day, or the speaker's own voice
    while len(words) > 1 and words[0].lower() in OPENERS:
        words = words[1:]
    titled = [
        i for i, w in enumerate(words[:-1]) if w.lower() in TITLES or w.lower() in ROLE_ALIASES
    ]
    if not titled and len(words) >= 3 and _describes(words[0]):
        titled = [0]  # "Columnist Anna Reed", "American Madison Keys"
    if titled:
        for at in reversed(titled):  # "Lt. Col. Bill Dofflemyer of the Maryland State Police"
            named = words[at + 1 :]
            cut = next((i for i, w in enumerate(named) if w in ("of", "for")), None)
            if not {w.lower() for w in named[:cut]} & NON_PERSON:
                break
        else:  # a body: "Justice Department", "U.S. Department of Justice"
            if "the" in words and not {"of", "for"} & set(words[: words.index("the")]):
                words = words[words.index("the") + 1 :]  # "(in early) May the State Department"
            return " ".join(words).rstrip("."), ""
        title = words[at].lower()
        words = named
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
