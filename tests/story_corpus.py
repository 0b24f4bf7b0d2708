"""A small corpus with planted wire copies, for the story-cluster tests.

Two stories each run in several outlets the way wire copy does: under another headline with the
outlet's own dateline, with the first paragraph rewritten, with a paragraph dropped, with a
correction appended. Two more articles share a story's topic, names and place but tell another
story in their own words; they must stay out of its cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

BARRIER = [
    "The Marrow Bay port authority on Monday approved a tidal barrier across the mouth of the "
    "harbour, ending a decade of argument over how to protect the low-lying waterfront from "
    "storm surges that have flooded it four times since 2015.",
    "The barrier, a line of steel gates resting on the seabed that rise when a surge is "
    "forecast, will cost 412 million euros and take six years to build, the authority said in "
    "a statement after its board voted seven to two in favour.",
    "Chairwoman Ilse Brandvold said the board could no longer wait for a cheaper plan. The "
    "last storm left water a metre deep in the fish market and closed the container terminal "
    "for nine days, costing shippers an estimated 30 million euros.",
    "Two board members who voted against the plan said the gates would trap silt inside the "
    "harbour and force the authority to dredge the shipping channel every year, a cost they "
    "said the estimates left out.",
    "Fishermen's groups have opposed earlier designs because a fixed wall would have narrowed "
    "the entrance. The approved gates lie flat most of the year and leave the channel at its "
    "full width of 180 metres.",
    "Construction is due to start next spring once an environmental permit is granted by the "
    "regional government, which has promised to decide within five months of receiving the "
    "final design.",
    "The national infrastructure fund will pay just over half of the cost. The rest will come "
    "from a levy of two euros per tonne on cargo passing through the port over the next "
    "twenty years.",
    "Engineers expect the gates to close about three times a year at first, rising to a dozen "
    "times a year by 2060 as sea levels climb, according to the design study published with "
    "the board's decision.",
]
BARRIER_LEAD_REWRITTEN = (
    "After ten years of debate, the board running Marrow Bay's port voted on Monday to build "
    "movable storm gates across the harbour entrance to shield the waterfront, which surges "
    "have swamped four times in under a decade."
)
BARRIER_CORRECTION = (
    "Correction: An earlier version of this story misstated the width of the shipping channel. "
    "It is 180 metres, not 150 metres."
)
LIBRARY_CORRECTION = (
    "This story has been corrected to show that fines brought in 86,000 dollars last year, not "
    "68,000 dollars."
)
LIBRARY = [
    "The Fenwick public library system will stop charging fines for overdue books from July, "
    "the city council decided on Thursday, joining dozens of cities that have found the fees "
    "keep poorer readers away while raising little money.",
    "Fines brought in about 86,000 dollars last year, less than one percent of the library "
    "budget, and collecting them cost staff hundreds of hours at the front desk, head "
    "librarian Tomasz Okafor told the council.",
    "More than 11,000 cardholders, most of them children, are currently barred from borrowing "
    "because they owe more than ten dollars. Their debts will be cleared when the new rules "
    "take effect on the first of July.",
    "Books that are never returned will still be billed at their replacement cost after sixty "
    "days, and borrowers will lose the right to take out new items until they bring the "
    "missing ones back or pay for them.",
    "Councillor Dana Whitlock, who voted against the change, said fines teach young readers "
    "responsibility and that the library should have tried lowering them before dropping them "
    "altogether.",
    "Libraries in three nearby cities that ended fines in 2019 reported that more than half of "
    "the cardholders who had been blocked came back within a year, and that late returns rose "
    "only slightly.",
]
# Same topic, places and names, another story in other words: these stay out of the clusters.
BARRIER_FOLLOW_UP = (
    "Hundreds of fishermen sailed into Marrow Bay harbour on Saturday in protest against the "
    "storm gates the port authority approved last week. Skippers tied their boats across the "
    "quay and sounded their horns for an hour.\n\n"
    "Their association says silt will build up behind the gates and ruin the mussel beds near "
    "the old lighthouse. It has hired a marine biologist to review the design study and will "
    "ask the regional government to refuse the environmental permit.\n\n"
    "Ilse Brandvold, who chairs the authority, met a delegation at the harbour office and "
    "offered to fund a monitoring programme for the mussel beds. The association said that was "
    "not enough and promised more protests before the permit hearing in the autumn."
)
LIBRARY_ELSEWHERE = (
    "Libraries in Fenwick will open on Sundays again from September after the council found "
    "money to rehire weekend staff. The branches closed on Sundays in 2020 to save costs.\n\n"
    "Head librarian Tomasz Okafor said Sunday was once the busiest day for families and "
    "students with weekday jobs. The extra hours will cost about 240,000 dollars a year, paid "
    "from a property tax surplus.\n\n"
    "Councillor Dana Whitlock supported the plan this time and asked the library to report on "
    "visitor numbers after six months."
)


def _text(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def planted_articles() -> list[dict[str, str]]:
    """The articles, as corpus records; ids say which story they belong to."""
    dropped = BARRIER[:4] + BARRIER[5:]
    return [
        _record("barrier-reuters", "Reuters", "2024-03-04",
                "Marrow Bay port approves 412 million euro tidal barrier", _text(BARRIER)),
        _record("barrier-ap", "AP", "2024-03-04",
                "Storm gates to guard Marrow Bay harbour after board vote",
                "MARROW BAY (AP) — " + _text(BARRIER)),
        _record("barrier-herald", "Bay Herald", "2024-03-05",
                "Port board backs storm gates", _text([BARRIER_LEAD_REWRITTEN, *BARRIER[1:]])),
        _record("barrier-post", "Daily Post", "2024-03-05",
                "Marrow Bay to build tidal barrier", _text(dropped)),
        _record("barrier-star", "Evening Star", "2024-03-06",
                "Tidal barrier approved for Marrow Bay", _text([*BARRIER, BARRIER_CORRECTION])),
        _record("library-reuters", "Reuters", "2024-05-09",
                "Fenwick libraries drop overdue fines", _text(LIBRARY)),
        _record("library-ap", "AP", "2024-05-10",
                "No more late fees at Fenwick libraries from July",
                _text([*LIBRARY[:3], *LIBRARY[4:], LIBRARY_CORRECTION])),
        _record("barrier-protest", "Bay Herald", "2024-03-09",
                "Fishermen protest against Marrow Bay storm gates", BARRIER_FOLLOW_UP),
        _record("library-sundays", "Reuters", "2024-06-02",
                "Fenwick libraries to open on Sundays again", LIBRARY_ELSEWHERE),
    ]  # fmt: skip


STORIES = {
    "barrier": {"barrier-reuters", "barrier-ap", "barrier-herald", "barrier-post", "barrier-star"},
    "library": {"library-reuters", "library-ap"},
}
LONE = {"barrier-protest", "library-sundays"}


def _record(article_id: str, source: str, date: str, title: str, text: str) -> dict[str, str]:
    return {"id": article_id, "source": source, "date": date, "title": title, "text": text}


def write_planted(folder: Path, skip: set[str] = frozenset()) -> None:
    """One JSON file per planted article (but those in `skip`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for record in planted_articles():
        if record["id"] not in skip:
            (folder / f"{record['id']}.json").write_text(json.dumps(record))
