"""Which sentences of an article can be quoted as an answer, and which are page furniture.

News pages keep their furniture when they are scraped: list labels ("2."), headings, bylines,
photo credits and captions, "More:" link lines, video players, newsletter prompts. They share
words with a question as readily as real sentences do, so scoring alone quotes them; these
rules keep them out. Each rule is a pattern over one sentence (as `index.chunking` splits
them), checked on the development corpus; `rejection` names the rule that fired.
"""

from __future__ import annotations

import re

from index.speech import word_set

QUESTION_END = re.compile(r"\?[\"'”’)\]]*\s*$")
QUOTED_END = re.compile(r"\?[\"'”’]+[)\]]*\s*$")
OPENING_QUOTE = re.compile(r"(?:^|(?<=[\s(\[—–-]))[\"“‘']")
ENDS_CLAUSE = re.compile(r"[.!?;][\"'”’)\]]*\s*$")
LIST_MARKER = re.compile(r"^\s*(?:\(?\d{1,3}[.)](?!\d)|\(?[a-z][)]|[•·▪●◦*♦►▶✓✔]|[-–—]{1,2})\s*")
DATA_LINE = re.compile(r"^[^:]{2,120}:\s+\S.*\d")
LETTERS = re.compile(r"[^\W\d_]")
WORD = re.compile(r"[^\W\d_][\w’'-]*")
CONTRACTION = re.compile(r"(?:'re|'ve|'ll|'d|n't|'m)$")

NAME = r"(?:[A-Z][\w’'.-]*|de|van|von|da|del|la|le|bin|al)"
NAMES = rf"{NAME}(?:\s+{NAME}){{0,4}}"
CREDITED = rf"{NAMES}(?:\s*(?:,|and|&)\s*{NAMES})*"
BYLINE = re.compile(
    rf"^(?:By|BY|From|Reporting by|Written by|Contributing|Contributors?|Edited by|Compiled by"
    rf"|[-–—]{{1,2}})\s*:?\s*(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
    rf"|January|February|March|April|May|June|July|August|September|October|November|December"
    rf"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b){CREDITED}\s*[;,.|]?\s*$"
)
OUTLETS = (
    r"USA TODAY(?: Network| Sports)?|CNN(?: Business| Wire)?|The Week(?: UK| Staff)?"
    r"|(?:The )?Associated Press|AP|Reuters|AFP|Bloomberg|NPR|Fox News|NBC News|CBS News"
)
OUTLET_CREDIT = re.compile(
    rf"^(?:{CREDITED}\s*,\s*)?(?:{OUTLETS})(?:\s+(?:Network|and wire reports|staff))?\s*[.;]?$"
    rf"|^From (?:the )?(?:{OUTLETS}).{{0,40}}(?:reports|wires)\.?$"
)
DATELINE_ONLY = re.compile(
    rf"^(?:[A-Z][A-Z .,'-]{{2,40}}\s*(?:\((?:{OUTLETS})\))?\s*[-–—]+"
    rf"|\(?(?:{OUTLETS})\)?\s*[-–—]*)\s*$"
)
CONTACT_OPENERS = ("Follow", "Reach", "Contact", "Email")
CONTACT = re.compile(  # only looked for after an "@" or one of CONTACT_OPENERS: it is slow
    r"[\w.-]@[\w-]+\.(?:com|org|net)\b|\bon Twitter @|^Follow [A-Z].{0,60}(?:@\w+|Twitter|"
    r"Instagram|Facebook)|^(?:Reach|Contact|Email) [A-Z][\w.' -]{0,60}\bat\b"
)

CAPTION = re.compile(
    r"^(?:Hide|Show|Close|Expand) [Cc]aption\b"
    r"|^(?:Photos?|Pictures?|Images?|Video|Gallery|Slideshow|Watch|Photograph|Photographer"
    r"|Photo illustration|Illustration|Credit|Caption|Graphic)\s*:"
    r"|\((?:AP |Reuters |AFP )?(?:Photo|Image|Credit|Pictured)\b[^)]*\)"
)
PHOTO_CREDIT = re.compile(
    r"\w/(?:Getty Images|AFP|AP|Reuters|Shutterstock|Bloomberg|Sipa USA|Pool|POOL|EPA"
    r"|USA TODAY|The Associated Press|Zuma Press|ZUMA Wire|Alamy|NurPhoto|IMAGN|Imagn|Redux"
    r"|The New York Times|The Washington Post)\b"
    r"|via Getty Images|^(?:Getty Images|Shutterstock|AP Photo|Reuters|AFP)(?:\s+for\b.*)?$"
)
LINK_LINE = re.compile(
    r"^(?:(?:Read|See|Watch|Listen|Click|Tap)\s+)?(?:More|MORE|more)\s*(?::|$)"
    r"|^(?:Related|RELATED|Related (?:Stories|Content|Coverage|Articles?|Video|Links?)"
    r"|See also|Also read|Also see|READ MORE|Read more|Read More|MORE FROM .{1,40}"
    r"|Recommended|Trending|Most (?:Read|Popular)|Top Stories|Explore more"
    r"|Opinion|Analysis)\s*(?::|\.|$)"
    r"|^Read (?:more|More|MORE)\b.{0,60}$"
)
GLUED_LINK = re.compile(r"^[^:\s][^:]{2,60}[^\s\d]:[A-Z‘'\"“]")
FURNITURE_START = re.compile(
    r"(?:Updated|Published|Posted|Last updated|First published|Updated on|Published on)\s*:?"
    r"\s*(?:\d|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"[a-z]*\b|at \d)"
    r"|(?:Updated|Published)\b.{0,40}\b(?:ET|EDT|EST|GMT|BST|PT|PDT|CT|UTC)\b"
    r"|(?:Replay|Sign up|Subscribe|Advertisement|ADVERTISEMENT|Ad Feedback|Skip Ad|Copyright|©"
    r"|Story continues|Click here|Share (?:this|your)|Download (?:the|our) app)\b"
    r"|(?:Share|Tweet|Email|Print|Comment|Save)(?:\s*[|/]\s*\w+)*$"
)
FURNITURE_INSIDE = re.compile(
    r"JUST WATCHED|MUST WATCH|Replay More Videos|Sign up (?:here|now|today|for)\b"
    r"|Subscribe (?:now|here|to)\b|delivered to your inbox|produced independently of"
    r"|content partner|Get Up to Speed|All rights reserved"
)

# Verbs a heading or list label lacks; a lowercase word among these, or one ending in -ed, makes
# it a clause. Irregular pasts are listed because they are how news states what happened.
VERBS = word_set(
    "is are was were be been being am isn't aren't wasn't weren't has have had hasn't haven't "
    "do does did don't doesn't didn't will would can could may might must shall should won't "
    "can't couldn't wouldn't shouldn't said says say told tells won wins win "
    "lost loses lose beat beats took takes take made makes make went goes go came comes come "
    "got gets get gave gives give saw sees see became becomes become began begins begin fell "
    "falls fall rose rises rise hit hits led leads lead left leaves leave met meets meet ran "
    "runs run sold sells sell bought buys buy brought brings bring held holds hold kept keeps "
    "keep paid pays pay put puts set sets shot shoots spent spends stood stands struck strikes "
    "sent sends send thought thinks think wrote writes write broke breaks chose chooses drew "
    "draws drove drives flew flies grew grows knew knows know found finds find fought fights "
    "built builds caught catches taught teaches felt feels heard hears meant means sat sits "
    "quit quits cut cuts let lets read reads spoke speaks stole threw throws wore wears "
    "killed kills die dies died remains remain needs need wants want plans plan calls call "
    "shows show expects expect includes include lives live seems seem looks look helps help "
    "tries try uses use seen done gone given taken known shown begun written driven fallen "
    "grown thrown worn"
)
HEADLINE_WORD = word_set(
    "Of The And In To For On With At By From As Is Are Was Will Into After Over A An Be Not Its "
    "Up Out Than How Why What Says Gets Has Have"
)
SENTENCE_OPENER = word_set("The A An This That These Those He She It They We I His Her Its Their")
SMALL_WORDS = word_set("of the and in on for to a an at with by from as or vs vs. de la van von")


def is_answer_sentence(sentence: str) -> bool:
    """Whether `sentence` can be quoted as an answer: it states something in the article's own
    voice, rather than labelling, crediting, linking or asking."""
    return rejection(sentence) is None


def rejection(sentence: str) -> str | None:
    """The name of the first rule that rejects `sentence`, or None when it may be quoted."""
    text = sentence.strip()
    for name, rejects in RULES:
        if rejects(text):
            return name
    return None


def is_question(text: str) -> bool:
    """A sentence that only asks ("What next?") answers nothing. A question quoted inside a
    statement stays: mid-sentence (`"Why now?" Blinken asked, adding …`) it does not end the
    sentence, and at the end the words before its opening quote mark hold a verb (`he sniped,
    "How am I going to drink a beer with a mask on?"`)."""
    end = QUESTION_END.search(text)
    if end is None:
        return False
    if not QUOTED_END.search(text[: end.end()]):
        return True
    openings = [m.start() for m in OPENING_QUOTE.finditer(text, 0, end.start())]
    return not openings or not _has_verb(text[: openings[-1]])


def is_label(text: str) -> bool:
    """A list marker, list item, heading or label that names a thing but says nothing of it
    ("2.", "• 47 Ronin", "1999 First Edition Shadowless Holographic Charizard #4", "Virginia").

    A list item is a label unless it has a verb ("1. The Astros won the World Series in six
    games." stays); an unmarked line without a closing full stop is one when it has no
    lowercase word but small ones (a title or a name). A figure under a label ("Population:
    9,826") is kept either way: it may be the number asked for. Sentence-case subheadings
    ("Dow tumbles into bear market") are kept too: they state something.
    """
    if not LETTERS.search(text):
        return True
    if DATA_LINE.search(text):
        return False
    marked = LIST_MARKER.match(text)
    if marked:
        item = text[marked.end() :]
        return not (_has_verb(item) or _has_verb(item[:1].lower() + item[1:]))  # "• Use …"
    if ENDS_CLAUSE.search(text):
        return False
    return all(not word[0].islower() or word in SMALL_WORDS for word in WORD.findall(text))


def is_byline(text: str) -> bool:
    """Who wrote or supplied the article, or a dateline with nothing after it ("By Jane Doe,
    USA TODAY", "– David Jackson", "Contributing: The Associated Press", "CNN —")."""
    return bool(BYLINE.match(text) or OUTLET_CREDIT.match(text) or DATELINE_ONLY.match(text)) or (
        ("@" in text or text.startswith(CONTACT_OPENERS)) and bool(CONTACT.search(text))
    )


def is_caption(text: str) -> bool:
    """Photo and video captions and credits ("Hide Caption 3 of 44 Photos: …", "Photo: Getty
    Images", "Kevin Dietsch/Getty Images"): they describe a picture the reader cannot see."""
    return bool(CAPTION.search(text) or PHOTO_CREDIT.search(text))


def is_link_line(text: str) -> bool:
    """A link to another story ("More:Sen. Lindsey Graham challenges …", "Read more:", a topic
    glued to a headline: "Texas abortion law:Abortion at the Supreme Court"): its words are
    another article's headline, not this article's report."""
    return bool(LINK_LINE.match(text)) or bool(
        GLUED_LINK.match(text) and not ENDS_CLAUSE.search(text)
    )


def is_furniture(text: str) -> bool:
    """The page around the article: video players, time stamps, newsletter and app prompts."""
    return bool(FURNITURE_START.match(text) or FURNITURE_INSIDE.search(text))


def is_glued_headline(text: str) -> bool:
    """A headline run into the first sentence without a full stop ("Biden Signs Climate Bill
    Into Law The president signed …"): headline capitalisation (capitalised small words) for
    four or more words, ending in a sentence opener ("The", "He") followed by lowercase."""
    words = text.split()
    run = 0
    while run < len(words) and (words[run][0].isupper() or words[run][0].isdigit()):
        run += 1
    if run < 5 or run >= len(words) or not words[run][0].islower():
        return False
    headline = words[: run - 1]
    return words[run - 1] in SENTENCE_OPENER and any(w in HEADLINE_WORD for w in headline[1:])


def _has_verb(text: str) -> bool:
    """Whether `text` holds a lowercase word that reads as a verb (see VERBS), a past form or a
    contraction of one ("they're", "didn't"; not "'s", which is as often a possessive)."""
    for word in WORD.findall(text):
        lowered = word.lower().replace("’", "'")
        if not word[0].islower() and not CONTRACTION.search(lowered):
            continue
        if lowered in VERBS or CONTRACTION.search(lowered):
            return True
        if len(lowered) > 4 and lowered.endswith("ed"):
            return True
    return False


RULES = (
    ("question", is_question),
    ("caption", is_caption),
    ("link", is_link_line),
    ("furniture", is_furniture),
    ("byline", is_byline),
    ("label", is_label),
    ("headline", is_glued_headline),
)
