"""Page furniture is never quoted as an answer: list labels, bylines, captions and credits,
link lines, time stamps and prompts, headlines glued to text, and bare questions.

The tables are invented in the shapes the development corpus shows (USA Today, CNN, The Week
pages as scraped); the end-to-end test builds a small corpus with the real model.
"""

from __future__ import annotations

import pytest

from retrieval.sentence_kinds import is_answer_sentence, rejection
from tests.conftest import service_over
from tests.retrieval.test_answers import assert_citations_are_exact

REJECTED = [
    ("label", "2."),
    ("label", "2. 1999 First Edition Shadowless Holographic Charizard #4"),
    ("label", "1999 First Edition Shadowless Holographic Charizard #4"),
    ("label", "17. 1913 Paterson Silk Strike"),
    ("label", "5. 2024 election"),
    ("label", "• Capital: Sacramento"),
    ("label", "b) Venus and Adonis."),
    ("label", "West Virginia"),
    ("label", "Rep. Jamie Raskin"),
    ("label", "TODAY'S QUOTE"),
    ("label", "__________"),
    ("byline", "By Jane Doe, USA TODAY"),
    ("byline", "By Margo C. Pope"),
    ("byline", "– David Jackson"),
    ("byline", "Contributing: Jessica Menton, USA TODAY"),
    ("byline", "Contributing: The Associated Press"),
    ("byline", "From USA TODAY Network and wire reports"),
    ("byline", "WASHINGTON (AP) —"),
    ("byline", "CNN —"),
    ("byline", "Reach Jane Doe at jdoe@usatoday.com or on Twitter @janedoe."),
    ("caption", "Show caption"),
    ("caption", "Hide Caption 12 of 40"),
    ("caption", "Hide Caption 3 of 44 Photos: Floods in Europe Rescuers wade through a street."),
    ("caption", "Photo: Getty Images"),
    ("caption", "Photos: Russia invades Ukraine Smoke rises above Mariupol on April 18."),
    ("caption", "Kevin Dietsch/Getty Images"),
    ("caption", "Ishara S. Kodikara/AFP/Getty Images"),
    ("caption", "(Photo by Anna Moneymaker/Getty Images)"),
    ("caption", "(AP Photo/John Minchillo, File)"),
    ("link", "Read more:"),
    ("link", "Read More"),
    ("link", "More: Historic blunders: 50 worst product flops of all time"),
    (
        "link",
        "More:Sen. Lindsey Graham challenges Georgia grand jury subpoena, asserts legislative "
        "privilege",
    ),
    ("link", "Related: Wildfires force thousands from their homes"),
    ("link", "Texas abortion law:Abortion at the Supreme Court, a road map to the cases"),
    ("furniture", "Updated 10:32 AM ET, Tue June 14, 2022"),
    ("furniture", "Published 6:00 a.m. ET March 3, 2022"),
    ("furniture", "JUST WATCHED Heavy rains sweep away roads Replay More Videos ..."),
    ("furniture", "MUST WATCH Western Virginia devastated by heavy rain 02:39"),
    ("furniture", "Sign up here for the '5 Things' newsletter."),
    ("furniture", "Its content is produced independently of USA TODAY."),
    ("headline", "Senate Passes Climate Bill After Long Night The vote was 51 to 50 on Sunday."),
    ("headline", "Biden Signs Chips Act Into Law He called it a once-in-a-generation investment."),
    ("question", "What comes next?"),
    ("question", "Why are gas prices rising so quickly?"),
    ("question", '"Why now?"'),
    ("question", "Your questions answered: When will the bridge reopen?"),
    ("question", "Graham: 'How important is your faith?'"),
]

KEPT = [
    "1. The Astros won the World Series in six games.",
    "3. Play two schools each year that are roughly equal to the lost games.",
    "• Use unique passwords for every account.",
    "2022 was the hottest year on record in Europe, the agency said.",
    "19 people died in the fire, officials said on Monday.",
    "The vote: 51 to 50, with Vice President Kamala Harris breaking the tie.",
    "Population: 9,826",
    "Median household income: $91,359",
    '"Why now?" Blinken asked, adding that the talks had stalled for months.',
    'Asked about masks, he sniped, "How am I going to drink a beer with a mask on?"',
    "House Majority Leader Steny Hoyer said the session would be unusual but critical.",
    "By Friday night, 17 Iowans had tested positive for the disease.",
    "By Monday, however, the situation had changed.",
    "Pine Bluff: Two nonprofits will give away COVID-19 supplies to caregivers on Wednesday.",
    "WASHINGTON — President Joe Biden signed the bill on Tuesday.",
    "(CNN) The Lyrid meteor shower will peak overnight on April 22.",
    "The hearing will air live on CNN at 8 p.m. ET.",
    "Antony Blinken declined to comment on the possibility of a multinational force.",
    "Kate Spade's One In A Million pendant is a popular gift, the retailer said.",
    "Updated guidelines issued by the commission kept the mask rule in place.",
    "Published in November, the report made a number of recommendations.",
    "Dow tumbles into bear market as coronavirus fears intensify",
    "Getty Images photographer Mario Tama took the picture in Los Angeles.",
]


@pytest.mark.parametrize(("kind", "sentence"), REJECTED)
def test_furniture_is_not_an_answer(kind, sentence):
    assert not is_answer_sentence(sentence)
    assert rejection(sentence) == kind


@pytest.mark.parametrize("sentence", KEPT)
def test_a_statement_is_an_answer(sentence):
    assert is_answer_sentence(sentence), rejection(sentence)


CARDS = [
    {
        "id": "cards",
        "title": "The most valuable Pokémon cards sold this year",
        "source": "Collectors Weekly",
        "date": "2022-06-10",
        "text": "Collectors paid record prices for trading cards this spring.\n\n"
        "1.\n\n"
        "1999 First Edition Shadowless Holographic Charizard Card #4\n\n"
        "2.\n\n"
        "1998 Pikachu Illustrator Promo Card\n\n"
        "A shadowless first edition Charizard card from 1999 sold for $420,000 at an auction "
        "in March, the highest price paid for a single card this year.",
    },
    {
        "id": "markets",
        "title": "Stock markets close lower",
        "source": "Daily Ledger",
        "date": "2022-06-11",
        "text": "Stocks fell on Friday as investors weighed rising interest rates. "
        "The Dow Jones Industrial Average lost 2% and the Nasdaq fell 3%.",
    },
    {
        "id": "weather",
        "title": "Heat wave grips the Midwest",
        "source": "Evening Post",
        "date": "2022-06-12",
        "text": "Temperatures topped 100 degrees in Chicago on Saturday. "
        "Officials opened cooling centres across the city.",
    },
]


@pytest.fixture(scope="module")
def cards(tmp_path_factory, embedder):
    return service_over(tmp_path_factory.mktemp("cards"), CARDS, embedder)


def test_a_list_label_that_matches_best_is_passed_over_for_the_sentence_that_answers(cards):
    answer = cards.ask(
        "How much did the 1999 First Edition Shadowless Holographic Charizard card sell for?"
    )
    assert not answer.abstained
    assert answer.citations[0].quote.startswith("A shadowless first edition Charizard card")
    assert "$420,000" in answer.answer
    assert all("Card #4" not in c.quote and "Promo Card" not in c.quote for c in answer.citations)
    assert_citations_are_exact(answer, cards)
