"""Who said what: each pattern on a short article, speakers resolved, offsets exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.articles import read_corpus
from index.chunking import split_sentences
from index.statements import Statement, extract_statements

SEED = Path(__file__).resolve().parents[2] / "corpus"


def said(text: str) -> list[tuple[str, str, str]]:
    """(speaker, kind, content) of every statement, content cut from `text` by its offsets."""
    return [
        (s.speaker, s.kind, text[s.content_start : s.content_end]) for s in extract_statements(text)
    ]


def only(text: str) -> Statement:
    statements = extract_statements(text)
    assert len(statements) == 1, statements
    return statements[0]


@pytest.mark.parametrize(
    "text",
    [
        "“We will not back down,” Antony Blinken said on Friday.",
        '"We will not back down," Antony Blinken said on Friday.',
        "“We will not back down,” said Antony Blinken.",
        "Antony Blinken said: “We will not back down.”",
        "“We will not back down.” Antony Blinken added.",
    ],
)
def test_direct_quote_takes_the_speaker_next_to_it(text: str):
    statement = only(text)
    assert statement.kind == "direct"
    assert statement.speaker == "Antony Blinken"
    assert text[statement.content_start : statement.content_end] == "We will not back down"
    assert (statement.sentence_start, statement.sentence_end) == (0, len(text))


def test_multi_sentence_quote_ends_with_its_attribution():
    text = (
        "Antony Blinken landed in Tel Aviv.\n\n"
        "“The talks were hard. We made progress. More is needed,” Blinken said."
    )
    statement = only(text)
    assert (statement.speaker, statement.speaker_as_written) == ("Antony Blinken", "Blinken")
    assert text[statement.content_start : statement.content_end] == (
        "The talks were hard. We made progress. More is needed"
    )
    assert text[statement.sentence_start : statement.sentence_end] == text.split("\n\n")[1]


def test_a_quote_after_an_attributed_one_continues_it():
    text = "“We need calm,” Blinken said. “The United States will respond to attacks.”"
    assert said(text) == [
        ("Blinken", "direct", "We need calm"),
        ("Blinken", "direct", "The United States will respond to attacks"),
    ]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("Blinken said the US wants to avoid a wider war.", "the US wants to avoid a wider war"),
        ("Blinken said on Friday that aid must reach Gaza.", "aid must reach Gaza"),
        ("Blinken told CNN that aid must reach Gaza.", "aid must reach Gaza"),
        ("Blinken told CNN aid must reach Gaza.", "aid must reach Gaza"),
        ("According to Blinken, aid must reach Gaza.", "aid must reach Gaza"),
        ("Aid must reach Gaza, according to Blinken.", "Aid must reach Gaza"),
        ("Aid must reach Gaza, Blinken told reporters.", "Aid must reach Gaza"),
        ("Blinken warned that the war could spread.", "the war could spread"),
        ("Blinken argued the war could spread.", "the war could spread"),
        ("Blinken also noted that the war could spread.", "the war could spread"),
        ("Blinken insisted the war could not spread.", "the war could not spread"),
        ("Blinken added that talks would go on.", "talks would go on"),
    ],
)
def test_reported_speech(text: str, content: str):
    statement = only(text)
    assert (statement.speaker, statement.kind) == ("Blinken", "reported")
    assert text[statement.content_start : statement.content_end] == content


def test_two_verbs_of_one_speaker_are_two_statements():
    text = (
        "Blinken said a two-state solution was the only path, and declined to comment on "
        "a multinational force."
    )
    statements = extract_statements(text)
    assert [(s.verb, text[s.content_start : s.content_end]) for s in statements] == [
        ("said", "a two-state solution was the only path"),
        ("declined to comment on", "a multinational force"),
    ]


def test_titles_come_off_and_a_surname_becomes_the_full_name():
    text = (
        "Secretary of State Antony Blinken said aid must reach Gaza. Israeli Prime Minister "
        "Benjamin Netanyahu said the war would go on.\n\n"
        "Netanyahu added that hostages must be freed. Blinken said talks would continue."
    )
    statements = extract_statements(text)
    assert [(s.speaker_as_written, s.speaker) for s in statements] == [
        ("Secretary of State Antony Blinken", "Antony Blinken"),
        ("Israeli Prime Minister Benjamin Netanyahu", "Benjamin Netanyahu"),
        ("Netanyahu", "Benjamin Netanyahu"),
        ("Blinken", "Antony Blinken"),
    ]


def test_a_role_noun_is_the_last_person_given_that_title():
    text = (
        "Secretary of State Antony Blinken met President Joe Biden on Friday. "
        "The secretary said aid must reach Gaza. The president said talks would continue."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Antony Blinken", "Joe Biden"]


def test_a_spokesperson_speaks_for_the_body_named():
    text = "Instagram will appeal, a Meta spokesperson said in an emailed statement."
    assert said(text) == [("Meta", "reported", "Instagram will appeal")]


def test_a_pronoun_is_the_subject_of_the_previous_sentence():
    text = (
        "Blinken spoke after meeting Israeli Prime Minister Benjamin Netanyahu on Friday. "
        "He said the US and Israel were discussing concrete steps."
    )
    assert only(text).speaker == "Blinken"


def test_a_pronoun_resolves_across_a_paragraph_boundary():
    text = (
        "“The deal is done,” said Maria Lopez, the mayor of Springfield.\n\n"
        "She said the city would vote on it in May."
    )
    assert said(text) == [
        ("Maria Lopez", "direct", "The deal is done"),
        ("Maria Lopez", "reported", "the city would vote on it in May"),
    ]


def test_the_analyst_is_quoted_not_the_person_the_story_is_about():
    text = (
        "President Vladimir Putin announced a new offensive on Monday.\n\n"
        "“This is an escalation he cannot sustain,” said Mary Jones, a journalist who has "
        "covered the Kremlin for years. Analyst John Smith said the move would backfire. "
        "He added that sanctions would follow."
    )
    assert said(text) == [
        ("Mary Jones", "direct", "This is an escalation he cannot sustain"),
        ("John Smith", "reported", "the move would backfire"),
        ("John Smith", "reported", "sanctions would follow"),
    ]


def test_a_name_after_by_is_not_a_speaker():
    text = "NATO has condemned the announcement by Vladimir Putin of a partial mobilisation."
    assert extract_statements(text) == []


def test_a_scare_quote_inside_a_reported_clause_is_not_a_direct_quote():
    text = "Biden said Israel and Hamas ought to “pause” fighting to free hostages."
    assert said(text) == [
        ("Biden", "reported", "Israel and Hamas ought to “pause” fighting to free hostages")
    ]


def test_given_sentence_spans_give_the_same_statements():
    article = next(read_corpus(SEED))
    assert extract_statements(article.text, split_sentences(article.text)) == extract_statements(
        article.text
    )


def test_seed_article_declined_to_comment_is_blinken():
    article = next(read_corpus(SEED))
    statements = extract_statements(article.text)
    declined = [s for s in statements if s.verb.startswith("declined to comment")]
    assert len(declined) == 1
    statement = declined[0]
    assert (statement.speaker, statement.speaker_as_written) == ("Antony Blinken", "he")
    assert article.text[statement.content_start : statement.content_end] == (
        "the possibility of a multinational force that could involve US troops"
    )
    assert "declined to comment" in article.text[statement.sentence_start : statement.sentence_end]
    quoted = [s for s in statements if s.kind == "direct"]
    assert quoted and all(s.speaker == "Antony Blinken" for s in quoted)


def test_a_surname_that_is_also_a_title_is_still_a_name():
    text = (
        "The bunkhouse was swept away, said Austin King, a firefighter in Gardiner.\n\n"
        "“I’ve never seen this,” said King Monday evening."
    )
    assert said(text) == [
        ("Austin King", "reported", "The bunkhouse was swept away"),
        ("Austin King", "direct", "I’ve never seen this"),
    ]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "Justice Department officials said the review would take months.",
            "Justice Department officials",
        ),
        (
            "Two people familiar with the talks told CNN the review would take months.",
            "people familiar with the talks",
        ),
        ("Prosecutors said the review would take months.", "prosecutors"),
        (
            "Russia's defense ministry said the review would take months.",
            "Russian defense ministry",
        ),
        ("The Daily Herald reported that the review would take months.", "The Daily Herald"),
        ("The mayor's office said the review would take months.", "mayor's office"),
    ],
)
def test_bodies_and_groups_speak_as_described(text: str, speaker: str):
    assert only(text).speaker == speaker


def test_a_described_body_takes_the_fullest_name_the_article_gives_it():
    text = (
        "The Lake County Sheriff's Office arrested a hiker on Sunday.\n\n"
        "The hiker had lit a campfire, the sheriff’s office said."
    )
    assert said(text) == [
        ("Lake County Sheriff's Office", "reported", "The hiker had lit a campfire")
    ]


def test_the_company_and_it_are_the_body_quoted_before():
    text = (
        "Acme said it would close two plants. The company said orders had fallen. "
        "It added that no jobs would be lost this year."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Acme"] * 3


def test_his_office_is_the_office_of_the_person_named():
    text = "Two buses were sent north by Governor Paul Reed on Monday, his office said."
    assert only(text).speaker == "Paul Reed's office"


def test_the_statement_is_its_last_source():
    text = (
        "The airline will refund every ticket, the company said in a statement on Friday.\n\n"
        "“We are sorry,” the statement said."
    )
    statements = extract_statements(text)
    assert statements == [] or all(s.speaker != "statement" for s in statements)
    text = (
        "Northwind Air said in a statement that it would refund every ticket.\n\n"
        "“We are sorry,” the statement said."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Northwind Air", "Northwind Air"]


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "Rates will rise in June, according to Fed Chair Jane Doyle, who spoke in Ohio.",
            "Jane Doyle",
            "Rates will rise in June",
        ),
        (
            "The plan is “dead on arrival,” according to Senator Ruth Kane.",
            "Ruth Kane",
            "The plan is “dead on arrival,”",
        ),
        (
            "The driver was speeding, according to court documents filed on Monday.",
            "court documents",
            "The driver was speeding",
        ),
        (
            "Mayor Tom Berg will appeal, according to a statement issued by his office.",
            "Tom Berg's office",
            "Mayor Tom Berg will appeal",
        ),
    ],
)
def test_according_to_its_source(text: str, speaker: str, content: str):
    statement = only(text)
    assert statement.speaker == speaker
    assert text[statement.content_start : statement.content_end] == content


def test_a_quote_running_over_paragraphs_is_the_speaker_who_closes_it():
    text = (
        "Coach Dan Miller spoke after the game.\n\n"
        "“We lost a lot this year.\n\n"
        "“We'll be better next season,” Miller said.\n\n"
        "“Nobody wants it more.”"
    )
    assert said(text) == [
        ("Dan Miller", "direct", "We lost a lot this year"),
        ("Dan Miller", "direct", "We'll be better next season"),
        ("Dan Miller", "direct", "Nobody wants it more"),
    ]


def test_a_quote_paragraph_after_an_attributed_one_is_the_same_speakers():
    text = (
        "“We will fight,” Maria Lopez told reporters on Friday.\n\n"
        "“This is not the end. We will be back.”"
    )
    assert said(text) == [
        ("Maria Lopez", "direct", "We will fight"),
        ("Maria Lopez", "direct", "This is not the end. We will be back"),
    ]


def test_an_appositive_may_lose_its_closing_comma():
    text = "“We fought,” Edward Smith, editor of the Courier explained on Monday."
    assert only(text).speaker == "Edward Smith"


def test_a_pronoun_skips_a_body_named_in_between():
    text = (
        "Fed Chair Jane Doyle said rates would rise. The Fed meets again in June.\n\n"
        "She said inflation was too high."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Jane Doyle", "Jane Doyle"]


@pytest.mark.parametrize(
    "text",
    [
        "Senator Ruth Kane criticized the airline in a letter to its chief executive.",
        "“We are sorry,” Tom Berg said, reported the Courier.",
        "Applicants told the paper the website kept crashing.",
        "JUST WATCHED Lawmaker says the plan failed Replay More Videos",
        "The agency, which regulates airlines, said fares were too high.",
    ],
)
def test_not_a_new_statement(text: str):
    assert [s.verb for s in extract_statements(text)] in ([], ["said"])
    assert all(
        s.speaker not in ("Applicants", "Courier", "JUST WATCHED Lawmaker")
        for s in extract_statements(text)
    )
    assert all(s.verb != "criticized" for s in extract_statements(text))


def test_a_subordinate_clause_before_the_speaker():
    text = "Shares fell on Monday after Acme said it would close two plants."
    assert said(text) == [("Acme", "reported", "it would close two plants")]


@pytest.mark.parametrize(
    "text",
    [
        "“We are worried,” said committee member Dr. Eric Rubin, editor of the Valley Journal.",
        "“We are worried,” said Dr. Eric Rubin.",
        "“We are worried,” said Eric J. Rubin, the county's health officer.",
        "“We are worried,” said Dr. Eric Rubin, noting that the wards were full.",
    ],
)
def test_a_title_or_initial_with_a_full_stop_is_part_of_the_name(text: str):
    assert {s.speaker for s in extract_statements(text)} == {
        "Eric J. Rubin" if " J. " in text else "Eric Rubin"
    }


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "In its filing, the Justice Department said the boxes held 40 documents.",
            "Justice Department",
        ),
        (
            "The boxes held 40 documents, according to the U.S. Department of Justice.",
            "U.S. Department of Justice",
        ),
        ("In early May the State Department said the boxes held 40 documents.", "State Department"),
        (
            "Britain's Defense Ministry said the convoy had stalled north of the city.",
            "British Defense Ministry",
        ),
        ("Major League Baseball said the season would start late.", "Major League Baseball"),
    ],
)
def test_a_department_keeps_the_words_that_name_it(text: str, speaker: str):
    assert only(text).speaker == speaker


def test_a_spokesperson_named_after_an_inverted_verb_is_the_speaker():
    text = "“We reject this,” said State Department spokesperson Ned Price in a statement."
    assert only(text).speaker == "Ned Price"


def test_an_inverted_verb_does_not_take_a_clause_for_its_speaker():
    text = "Rep. Ann Kuster, D-N.H., said she hadn't seen Pelosi leave the chamber."
    assert only(text).speaker == "Ann Kuster"


def test_the_first_person_is_never_a_speaker():
    text = (
        "Mayor Lena Ortiz visited the flooded streets on Sunday.\n\n"
        "I said that the city was not ready. We asked what would happen next.\n\n"
        "“The water came fast,” she said."
    )
    assert said(text) == [("Lena Ortiz", "direct", "The water came fast")]


def test_a_surname_is_the_person_introduced_first_with_it():
    text = (
        "President Tom Hale spoke at the base where his son, Major Ben Hale, once served.\n\n"
        "“We owe them everything,” Hale said."
    )
    assert only(text).speaker == "Tom Hale"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Columnist Anna Reed wrote that the plan would fail.", "Anna Reed"),
        ("Actor Sam Lowe said the plan would fail.", "Sam Lowe"),
        ("American Jo Banks said the final would be hard.", "Jo Banks"),
        ("“It was hard,” said Apple's Tim Cook.", "Tim Cook"),
        ("Liberal Democrat MP Tim Farron said the plan would fail.", "Tim Farron"),
        ("Californian Kerry Kaye said the show would go on.", "Kerry Kaye"),
    ],
)
def test_a_description_before_a_full_name_comes_off(text: str, speaker: str):
    assert only(text).speaker == speaker


def test_a_word_that_only_opens_the_sentence_is_not_part_of_the_name():
    text = (
        "Prime Minister Boris Johnson met the unions on Monday.\n\n"
        "Though Johnson said the talks went well, the strike went ahead.\n\n"
        "Unlike Johnson, Keir Starmer said the talks had failed."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Boris Johnson", "Keir Starmer"]


def test_a_weekday_after_the_verb_is_when_not_who():
    text = (
        "Rates will rise again, Steve Rosenthal, a senior fellow at the Urban Institute, "
        "said Tuesday."
    )
    assert only(text).speaker == "Steve Rosenthal"


def test_an_appositive_speaker_is_written_without_its_comma():
    text = "The president's adviser, Jake Sullivan, said Sunday that the airlift would go on."
    statement = only(text)
    assert (statement.speaker, statement.speaker_as_written) == ("Jake Sullivan", "Jake Sullivan")


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("The lawsuit says the road was never rebuilt.", "lawsuit"),
        ("The road was never rebuilt, police said.", "police"),
    ],
)
def test_documents_and_police_stay_descriptive(text: str, speaker: str):
    assert only(text).speaker == speaker


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("But the talks will go on for weeks, Blinken said.", "But the talks will go on for weeks"),
        (
            "In Gaza, aid trucks are waiting at the border, Blinken said on Friday.",
            "In Gaza, aid trucks are waiting at the border",
        ),
        (
            "When the talks began, the mood was tense, Blinken told reporters.",
            "When the talks began, the mood was tense",
        ),
    ],
)
def test_an_attribution_closes_a_sentence_that_opens_with_a_conjunction_or_a_phrase(
    text: str, content: str
):
    assert said(text) == [("Blinken", "reported", content)]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("In a statement, Blinken said the talks would go on.", "the talks would go on"),
        (
            "When the envoys arrived in Cairo, Blinken said the mood seemed tense.",
            "the mood seemed tense",
        ),
        ("Still, Blinken insisted the talks would go on.", "the talks would go on"),
    ],
)
def test_an_opening_phrase_alone_is_not_the_statement(text: str, content: str):
    assert said(text) == [("Blinken", "reported", content)]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        (
            "The trial was a “sham from the start,” Ann Lee said.",
            "The trial was a “sham from the start,”",
        ),
        (
            'Still, the ruling was "a huge relief," Ann Lee told reporters.',
            'Still, the ruling was "a huge relief,"',
        ),
    ],
)
def test_a_quoted_phrase_closing_the_writers_sentence_is_reported_speech(text: str, content: str):
    assert said(text) == [("Ann Lee", "reported", content)]


def test_a_first_person_contraction_is_never_a_speaker():
    text = "“I'm tired,” Ann Lee said. I'm not sure the claim is “entirely fair,” she said."
    assert {s.speaker for s in extract_statements(text)} == {"Ann Lee"}


def test_state_is_a_speech_verb_only_before_what_is_stated():
    text = (
        "Court records state the parties have accepted the settlement. Local and state police "
        "were on alert, Mayor Jim Hammond said."
    )
    assert said(text) == [
        ("court records", "reported", "the parties have accepted the settlement"),
        ("Jim Hammond", "reported", "Local and state police were on alert"),
    ]


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        ("Details will follow, officials said.", "officials", "Details will follow"),
        (
            "About 2 million people ride the ferries each year, state transportation officials "
            "said Tuesday.",
            "state transportation officials",
            "About 2 million people ride the ferries each year",
        ),
        (
            "The arrests are an embarrassment for the group, experts told USA TODAY.",
            "experts",
            "The arrests are an embarrassment for the group",
        ),
        (
            "A deep recession is likely, Deutsche Bank economists wrote.",
            "Deutsche Bank economists",
            "A deep recession is likely",
        ),
        (
            "The lineup will be announced by June, organizers said.",
            "organizers",
            "The lineup will be announced by June",
        ),
        (
            "A senior administration official said the package could be approved this week.",
            "senior administration official",
            "the package could be approved this week",
        ),
        (
            "The vote may slip, another administration official said.",
            "administration official",
            "The vote may slip",
        ),
    ],
)
def test_an_unnamed_group_speaks_as_described(text: str, speaker: str, content: str):
    assert said(text) == [(speaker, "reported", content)]


def test_city_officials_are_those_of_the_city_the_sentence_names():
    text = (
        "Boston will pay $2 million to settle the case, city officials said.\n\n"
        "A Boston City Council member welcomed it."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Boston City officials"]


def test_it_and_the_company_never_point_to_an_unnamed_group():
    text = (
        "The recall covers 40 stores, officials said. “We are sorry,” the company said. "
        "It added that refunds would follow."
    )
    assert [s.speaker for s in extract_statements(text)] == ["officials"]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "The Food and Drug Administration said it would act. Formula makers must report "
            "shortages, the agency said.",
            "Food and Drug Administration",
        ),
        (
            "Rangers at Yellowstone National Park closed the roads. Refunds would be issued, "
            "the park said.",
            "Yellowstone National Park",
        ),
        (
            "The National Weather Service issued a warning. The river could surge by Tuesday, "
            "the weather service said.",
            "National Weather Service",
        ),
        (
            "School officials said in a letter that a student fell ill. The student is isolating, "
            "the letter said.",
            "school officials",
        ),
    ],
)
def test_the_agency_the_park_and_the_letter_are_the_ones_named_before(text: str, speaker: str):
    assert [s.speaker.lower() for s in extract_statements(text)][-1] == speaker.lower()


def test_a_word_opening_the_sentence_is_not_the_company():
    text = "These fish will provide excellent fishing in the coming months, the agency says."
    assert extract_statements(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Sea levels rose again, the World Meteorological Organization (WMO) said on Wednesday.",
        "On Wednesday, the World Meteorological Organization (WMO) said sea levels rose again.",
    ],
)
def test_initials_in_brackets_after_a_body_are_not_its_name(text: str):
    assert [s.speaker for s in extract_statements(text)] == ["World Meteorological Organization"]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        (
            "Patrick De Haan said on Monday demand will dictate prices.",
            "demand will dictate prices",
        ),
        ("Patrick De Haan said last week prices would fall.", "prices would fall"),
        (
            "Patrick De Haan warned, however, that prices would climb.",
            "prices would climb",
        ),
        (
            "Patrick De Haan said in a tweet the chances are remote.",
            "the chances are remote",
        ),
        ("Patrick De Haan said about 6,000 stations ran dry.", "about 6,000 stations ran dry"),
    ],
)
def test_when_or_where_it_was_said_may_stand_before_the_clause(text: str, content: str):
    assert said(text) == [("Patrick De Haan", "reported", content)]


def test_a_setting_without_a_clause_is_no_statement():
    assert extract_statements("Patrick De Haan said in a statement posted on Facebook.") == []


@pytest.mark.parametrize(
    ("text", "verb", "content"),
    [
        (
            "Ann Lee called the trial a “sham” on Friday.",
            "called",
            "the trial a “sham” on Friday",
        ),
        (
            "Ann Lee described the response as an “abject failure.”",
            "described",
            "the response as an “abject failure.”",
        ),
        (
            "Ann Lee has complained that there are no appointment slots.",
            "complained",
            "there are no appointment slots",
        ),
        (
            "Ann Lee informed the committee that she would resign.",
            "informed",
            "she would resign",
        ),
        ("Ann Lee testified that the door was locked.", "testified", "the door was locked"),
        (
            "NATO Secretary-General Ann Lee called it a “brutal act of war.”",
            "called",
            "it a “brutal act of war.”",
        ),
    ],
)
def test_called_described_complained_informed_testified(text: str, verb: str, content: str):
    statement = only(text)
    assert (statement.speaker, statement.verb) == ("Ann Lee", verb)
    assert text[statement.content_start : statement.content_end] == content


@pytest.mark.parametrize(
    "text",
    [
        "Ann Lee called for talks on the “new deal.”",
        "Ann Lee described files that were deleted.",
        "Ann Lee testified about her search for her daughter that afternoon.",
        "Ann Lee revealed what she believes are the ten best stocks.",
        "Ann Lee called him on Monday to discuss the “new deal.”",
    ],
)
def test_a_call_for_or_a_described_thing_is_no_statement(text: str):
    assert extract_statements(text) == []


def test_a_statement_ends_where_another_speaker_begins():
    text = (
        "A senior administration official said the package could be approved this week, "
        "though another administration official said the timing isn't locked down."
    )
    assert said(text) == [
        ("senior administration official", "reported", "the package could be approved this week"),
        ("administration official", "reported", "the timing isn't locked down"),
    ]


def test_a_second_verb_calling_for_something_is_no_second_statement():
    text = "Ann Lee said the window was open and called for background checks."
    assert said(text) == [
        ("Ann Lee", "reported", "the window was open and called for background checks")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The problem, according to Ann Lee, is that inflation will take a long time to fall.",
        "Prices rose, according to Ann Lee, and will keep rising for a year.",
    ],
)
def test_according_to_inside_the_sentence_makes_it_all_the_statement(text: str):
    assert said(text) == [("Ann Lee", "reported", text.rstrip("."))]


@pytest.mark.parametrize(
    "text",
    [
        "Casey Murray, president of the pilots association, the union for 9,000 pilots, said work "
        "has turned into a “flightmare.”",
        "Cory Mottice, a meteorologist in Billings, Montana, said rain may lessen flooding.",
        "Casey Murray, who wrote to Rep. Nancy Pelosi, D-Calif., said work has turned bad.",
    ],
)
def test_the_speaker_comes_before_all_the_descriptions_between_commas(text: str):
    assert [s.speaker for s in extract_statements(text)] == [text.split(",")[0]]


def test_the_spokesperson_is_the_one_quoted_just_before():
    text = (
        "Instagram will appeal, a spokesperson for Meta said. "
        "The fine is unfair, the spokesperson said."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Meta", "Meta"]


def test_a_description_holding_a_clause_is_not_the_speaker():
    text = (
        "Rep. Ken Buck, R-Colo., who also did not support removing Cheney, told reporters "
        "there was no vote."
    )
    assert said(text) == [("Ken Buck", "reported", "there was no vote")]


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "The talks were hard, according to Jens Stoltenberg, who added that differences "
            "will not be easy to bridge.",
            "Jens Stoltenberg",
            "differences will not be easy to bridge",
        ),
        (
            "The water is still rising, said Cam Sholly, who added that more rain was forecast.",
            "Cam Sholly",
            "more rain was forecast",
        ),
    ],
)
def test_who_added_is_the_speaker_named_before_it(text: str, speaker: str, content: str):
    assert said(text)[-1] == (speaker, "reported", content)


@pytest.mark.parametrize(
    "text",
    [
        "The former president, who maintained close ties to the lobby, spoke at the event.",
        "Jay Portnoy, an allergist in Kansas City, Missouri, who said the risk was low, left.",
    ],
)
def test_who_with_no_statement_or_after_a_place_is_no_speaker(text: str):
    assert extract_statements(text) == []


def test_she_never_points_to_someone_the_article_calls_he():
    text = (
        "Donald Trump met Liz Cheney on Sunday. “We will win,” he said. "
        "“This is about our duty,” she said."
    )
    assert [s.speaker for s in extract_statements(text)] == ["Donald Trump", "Liz Cheney"]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("Ann Lee on Friday said the city would appeal.", "the city would appeal"),
        ("Ann Lee last week said the city would appeal.", "the city would appeal"),
        (
            "Ann Lee on Tuesday declined to answer questions on the search.",
            "questions on the search",
        ),
    ],
)
def test_when_it_was_said_may_stand_between_the_speaker_and_the_verb(text: str, content: str):
    assert said(text) == [("Ann Lee", "reported", content)]
