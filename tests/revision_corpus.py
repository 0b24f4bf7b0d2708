"""Three articles for the story rule's topic check: a report, the same report re-topped a day
later, and a report on another subject two days later. The later two keep the same five
background paragraphs of the first and nothing else of it, so the text evidence of the two
pairs is the same; only what they are about tells them apart."""

from __future__ import annotations

GOWN_TOP = [
    "The crystal gown Vera Lindqvist wore to the 1961 Stockholm premiere of 'Northern Lights' "
    "was damaged when a singer wore it on the steps of the Opera Gala on Saturday, a textile "
    "conservator who examined it on Monday told the Evening Courier.",
    "Conservator Mats Ekdahl said he found torn seams along the back, a bent zip, broken "
    "threads at the hooks and dozens of missing glass beads when the gown went back on show at "
    "the Halvorsen Museum in Gothenburg.",
    "Ekdahl compared his photographs with those taken when the museum bought the gown at "
    "auction in 2016 for 4.1 million kronor. 'Every seam was intact then. Now the fabric has "
    "pulled away at the shoulders,' he said.",
]
GOWN_UPDATE_TOP = [
    "The Halvorsen Museum on Tuesday rejected a conservator's claim that the crystal gown Vera "
    "Lindqvist wore in 1961 was damaged at the Opera Gala, saying its own inspection found the "
    "gown in the condition it was lent out in.",
    "Museum director Karin Falk said two of the museum's conservators dressed the singer, "
    "stayed with the gown throughout the ten minutes it was worn and examined every seam "
    "before it went back into its case on Sunday.",
    "Falk said the missing beads and loose threads that conservator Mats Ekdahl photographed "
    "had been recorded when the museum bought the gown in 2016, and that the zip was replaced "
    "by the previous owner decades ago.",
]
FILM_TOP = [
    "Streaming service Nordflix on Wednesday released the first trailer for 'Vera', a film "
    "about the life of the actress Vera Lindqvist, with the Danish actress Sofie Brandt in the "
    "title role.",
    "The two-minute trailer opens with Brandt alone in a dressing room before a premiere, then "
    "cuts between crowds of photographers, a film set in the snow and a quiet farmhouse "
    "kitchen where Lindqvist grew up.",
    "Director Anders Moe said the film follows Lindqvist from her first stage role at sixteen "
    "to the year she stopped acting, and that every scene was drawn from letters and diaries "
    "her family opened to the production.",
]
BACKGROUND = [
    "Vera Lindqvist was born on a farm outside Umea in 1934 and moved to Stockholm at "
    "seventeen to study at the Royal Dramatic Theatre, where a film producer saw her in a "
    "student production of 'The Wild Duck'.",
    "She made nineteen films in eleven years, among them 'Northern Lights' and 'The Harbour "
    "Wife', and became the best known Swedish actress of her generation in Europe and the "
    "United States.",
    "Lindqvist left acting in 1968, saying she was tired of being looked at, and spent the "
    "rest of her life on the farm where she was born. She gave no interviews after 1970.",
    "A biography published in 1998 described her as a private woman who had never liked the "
    "premieres, the gowns and the photographers that made her famous, and who kept none of "
    "the reviews of her films.",
    "She died in 2009 at the age of seventy-four. Her letters, costumes and scripts were "
    "divided between her family, the Swedish Film Institute and private collectors.",
]


def revision_articles() -> dict[str, tuple[str, list[str]]]:
    """Article id → (date, paragraphs)."""
    return {
        "gown-first": ("2024-05-06", [*GOWN_TOP, *BACKGROUND]),
        "gown-update": ("2024-05-07", [*GOWN_UPDATE_TOP, *BACKGROUND]),
        "film-trailer": ("2024-05-08", [*FILM_TOP, *BACKGROUND]),
    }
