"""A small corpus about one story told over many days, for the timeline tests.

The Kessler Bridge in Westmere is struck by a barge and partly collapses; the city closes it,
the captain is charged, the council votes on a repair plan, and crews take the fallen span apart
over the following weeks. Some days hold a preview, a background paragraph and a caption next to
what happened; one day's report runs again a day later under another outlet's headline (a wire
copy). An article on another story shares none of its words.
"""

from __future__ import annotations

import json
from pathlib import Path

# Day → the sentence that states what happened that day (the line a timeline must show).
EVENTS = {
    "2024-03-04": "A barge struck a pier of the Kessler Bridge in Westmere on Monday and part of "
    "the span collapsed into the river, injuring four people on the deck.",
    "2024-03-05": "Westmere officials closed every approach to the Kessler Bridge on Tuesday and "
    "diverted traffic to the ferry terminal after engineers found cracks in a second pier.",
    "2024-03-08": "Prosecutors charged the captain of the barge that struck the Kessler Bridge "
    "with negligence on Friday.",
    "2024-03-14": "The Westmere council approved a 40 million dollar plan to rebuild the Kessler "
    "Bridge on Thursday, voting eleven to two after a four-hour debate.",
}
PREVIEW = (
    "The council will vote next week on a plan to rebuild the Kessler Bridge, and members are "
    "expected to back the cheaper of two designs."
)
BACKGROUND = (
    "The Kessler Bridge has been the only road crossing of the river for decades and has carried "
    "the city's freight traffic since 1931."
)
CAPTION = "Photo: The fallen span of the Kessler Bridge lies in the river. (Westmere Herald)"
# Later days: crews take the fallen span apart, one step a day (distinct words each day).
LATER = [
    (
        "2024-03-18",
        "Divers surveyed the riverbed under the Kessler Bridge on Monday and marked "
        "the broken girders for removal.",
    ),
    (
        "2024-03-19",
        "A floating crane arrived at the Kessler Bridge site on Tuesday after being "
        "towed up the coast from Harlow.",
    ),
    (
        "2024-03-20",
        "Crews cut the first twisted girder free from the fallen Kessler Bridge span "
        "on Wednesday and lifted it onto a pontoon.",
    ),
    (
        "2024-03-21",
        "The barge that hit the Kessler Bridge was refloated on Thursday and moved to "
        "a dry dock for investigators.",
    ),
    (
        "2024-03-22",
        "Insurers agreed on Friday to pay the first 12 million dollars toward the "
        "Kessler Bridge repairs.",
    ),
    (
        "2024-03-25",
        "The river reopened to shipping on Monday once the last Kessler Bridge debris "
        "was cleared from the main channel.",
    ),
    (
        "2024-03-26",
        "Engineers demolished the cracked second pier of the Kessler Bridge with "
        "controlled charges on Tuesday.",
    ),
    (
        "2024-03-27",
        "The Westmere ferry added night sailings on Wednesday to carry commuters "
        "stranded by the Kessler Bridge closure.",
    ),
    (
        "2024-03-28",
        "A contractor from Dunmore won the tender to rebuild the Kessler Bridge on "
        "Thursday with a bid under the council's estimate.",
    ),
    (
        "2024-03-29",
        "The barge captain pleaded not guilty on Friday to negligence over the "
        "Kessler Bridge collapse.",
    ),
]
WIRE_SOURCE = "Coastal Wire"


def _record(article_id: str, source: str, date: str, title: str, text: str) -> dict[str, str]:
    url = f"https://news.example.org/{article_id}"
    return {"id": article_id, "source": source, "date": date, "title": title, "url": url,
            "text": text}  # fmt: skip


def timeline_articles() -> list[dict[str, str]]:
    """The story's articles (14 days with a report), the wire copy and one unrelated article."""
    collapse = "\n\n".join([
        EVENTS["2024-03-04"],
        "Rescue boats pulled two drivers from the water within minutes, the fire service said.",
        BACKGROUND,
        CAPTION,
    ])  # fmt: skip
    closure = "\n\n".join([
        "Drivers queued for an hour at the ferry terminal as the city counted the cost of the "
        "damage.",
        EVENTS["2024-03-05"],
        "The bridge is expected to stay closed for months, and a full inspection will begin next "
        "week.",
    ])  # fmt: skip
    records = [
        _record(
            "kb-collapse", "Westmere Herald", "2024-03-04", "Barge hits Kessler Bridge", collapse
        ),
        _record("kb-closure", "Westmere Herald", "2024-03-05", "Kessler Bridge closed", closure),
        # The collapse report again, a day later, under another outlet's headline.
        _record(
            "kb-wire",
            WIRE_SOURCE,
            "2024-03-05",
            "Bridge span falls after barge strike",
            collapse + "\n\nThis story was first published by the Westmere Herald.",
        ),
        _record(
            "kb-charge",
            "Daily Courier",
            "2024-03-08",
            "Barge captain charged",
            EVENTS["2024-03-08"] + "\n\nThe captain is due in court later this month.",
        ),
        _record("kb-preview", "Daily Courier", "2024-03-11", "Council to vote on bridge", PREVIEW),
        _record(
            "kb-vote",
            "Westmere Herald",
            "2024-03-14",
            "Council backs bridge rebuild",
            "\n\n".join(
                [PREVIEW.replace("next week", "on Thursday"), BACKGROUND, EVENTS["2024-03-14"]]
            ),
        ),  # fmt: skip
    ]
    for n, (day, sentence) in enumerate(LATER):
        records.append(_record(f"kb-later-{n}", "Daily Courier", day, f"Kessler Bridge, day {n}",
                               sentence))  # fmt: skip
    records.append(
        _record("library", "Fenwick Post", "2024-03-06", "Library ends fines",
                "The Fenwick public library stopped charging overdue fines on Wednesday.")
    )  # fmt: skip
    return records


def write_timeline_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for record in timeline_articles():
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    return folder
