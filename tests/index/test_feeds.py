"""RSS and Atom files in a corpus: one article per entry with its link, date, outlet and text;
a broken or non-feed XML file skipped and named."""

from __future__ import annotations

from pathlib import Path

from index.articles import Article, read_corpus
from index.corpus_formats import SkippedInput

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Harbour Gazette</title>
  <link>https://gazette.example.org/</link>
  <item>
    <title>Port strike ends after nine days</title>
    <link>https://gazette.example.org/2024/03/04/port-strike-ends</link>
    <guid>https://gazette.example.org/?p=101</guid>
    <pubDate>Mon, 04 Mar 2024 22:30:00 -0500</pubDate>
    <description>Dock workers accepted a new contract.</description>
    <content:encoded><![CDATA[<p>Dock workers at the harbour accepted a new contract on
      Monday, ending a strike that had lasted <b>nine days</b>.</p>
      <p>Union leaders said wages would rise by 6 percent &amp; shifts would be shorter.</p>
      <script>track()</script>]]></content:encoded>
  </item>
  <item>
    <title>Ferry timetable changes for spring</title>
    <link>https://gazette.example.org/2024/03/05/ferry-timetable</link>
    <pubDate>Tue, 05 Mar 2024 08:00:00 +0000</pubDate>
    <description>&lt;p&gt;The island ferry will run every &lt;i&gt;forty&lt;/i&gt; minutes from
      April, the operator said.&lt;/p&gt;</description>
  </item>
  <item>
    <title>Council approves new sea wall</title>
    <link>https://gazette.example.org/2024/03/06/sea-wall</link>
    <pubDate>Wed, 06 Mar 2024 12:15:00 GMT</pubDate>
    <description>The council voted 7-2 to build a sea wall along the north quay.</description>
    <source url="https://wire.example.com/feed">Coastal Wire</source>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Valley Times</title>
  <id>urn:valley-times</id>
  <updated>2024-03-07T10:00:00Z</updated>
  <entry>
    <title type="html">Bridge &lt;em&gt;reopens&lt;/em&gt; to traffic</title>
    <link rel="alternate" href="https://valley.example.net/bridge-reopens"/>
    <id>urn:valley-times:1</id>
    <published>2024-03-06T23:10:00-08:00</published>
    <updated>2024-03-07T09:00:00Z</updated>
    <summary>The bridge is open.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>The river bridge reopened to traffic on Wednesday night after repairs.</p>
      <p>Engineers said the new bearings should last forty years.</p></div></content>
  </entry>
  <entry>
    <title>Library extends opening hours</title>
    <link href="https://valley.example.net/library-hours"/>
    <id>urn:valley-times:2</id>
    <updated>2024-03-07T08:00:00Z</updated>
    <summary>The town library will open until 9 pm on weekdays from next month.</summary>
  </entry>
</feed>
"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://hill.example.com/"><title>Hill Post</title></channel>
  <item rdf:about="https://hill.example.com/snow">
    <title>Snow closes the pass</title>
    <link>https://hill.example.com/snow</link>
    <dc:date>2024-01-09T07:00:00Z</dc:date>
    <description>Heavy snow closed the mountain pass overnight.</description>
  </item>
</rdf:RDF>
"""


def read(root: Path) -> tuple[list[Article], list[SkippedInput]]:
    skipped: list[SkippedInput] = []
    return list(read_corpus(root, skipped.append)), skipped


def test_an_rss_file_with_three_entries_is_three_articles(tmp_path: Path) -> None:
    (tmp_path / "gazette.rss").write_text(RSS, encoding="utf-8")

    articles, skipped = read(tmp_path)

    assert skipped == []
    assert [a.url for a in articles] == [
        "https://gazette.example.org/2024/03/04/port-strike-ends",
        "https://gazette.example.org/2024/03/05/ferry-timetable",
        "https://gazette.example.org/2024/03/06/sea-wall",
    ]
    # the day as the feed wrote it, in its own time zone (22:30 -0500 is still the 4th there)
    assert [a.date for a in articles] == ["2024-03-04", "2024-03-05", "2024-03-06"]
    assert [a.title for a in articles] == [
        "Port strike ends after nine days",
        "Ferry timetable changes for spring",
        "Council approves new sea wall",
    ]
    # the feed is the outlet, unless an entry names the one it came from
    assert [a.source for a in articles] == ["Harbour Gazette", "Harbour Gazette", "Coastal Wire"]
    strike, ferry, wall = articles
    # the full content wins over the summary; HTML stripped, paragraphs kept, scripts dropped
    assert strike.text.startswith("Dock workers at the harbour accepted a new contract")
    assert "wages would rise by 6 percent & shifts would be shorter." in strike.text
    assert "\n" in strike.text and "<" not in strike.text and "track()" not in strike.text
    assert ferry.text == (
        "The island ferry will run every forty minutes from April, the operator said."
    )
    assert wall.text == "The council voted 7-2 to build a sea wall along the north quay."
    assert [a.origin for a in articles] == [f"gazette.rss:[{i}]" for i in range(3)]


def test_atom_and_rss_1_0_feeds(tmp_path: Path) -> None:
    (tmp_path / "valley.atom").write_text(ATOM, encoding="utf-8")
    (tmp_path / "hill.xml").write_text(RDF, encoding="utf-8")

    articles, skipped = read(tmp_path)

    assert skipped == []
    snow, bridge, library = articles  # files in sorted order: hill.xml, valley.atom
    assert (bridge.title, bridge.url, bridge.date, bridge.source) == (
        "Bridge reopens to traffic",
        "https://valley.example.net/bridge-reopens",
        "2024-03-06",  # published wins over updated
        "Valley Times",
    )
    assert bridge.text.startswith("The river bridge reopened to traffic on Wednesday night")
    assert "forty years" in bridge.text
    assert (library.date, library.url) == ("2024-03-07", "https://valley.example.net/library-hours")
    assert (snow.title, snow.source) == ("Snow closes the pass", "Hill Post")
    assert snow.date == "2024-01-09"


def test_an_entry_keeps_its_id_when_the_feed_gains_newer_entries(tmp_path: Path) -> None:
    """Feeds grow at the top: an entry's id (and so its vectors) must not follow its position."""
    (tmp_path / "gazette.rss").write_text(RSS, encoding="utf-8")
    before = {a.url: a.content_hash for a in read(tmp_path)[0]}
    newer = RSS.replace(
        "<item>",
        "<item><title>Fish market moves</title><link>https://gazette.example.org/fish</link>"
        "<description>The fish market moved to pier 4.</description></item>\n  <item>",
        1,
    )
    (tmp_path / "gazette.rss").write_text(newer, encoding="utf-8")

    after = {a.url: a.content_hash for a in read(tmp_path)[0]}

    assert len(after) == 4
    assert {url: after[url] for url in before} == before


def test_broken_and_non_feed_xml_files_are_skipped_and_named(tmp_path: Path) -> None:
    (tmp_path / "cut.rss").write_text(RSS[: RSS.index("Ferry")], encoding="utf-8")
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>'
    )
    (tmp_path / "empty.atom").write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing yet</title></feed>'
    )
    (tmp_path / "garbage.rss").write_bytes(b"\x00\x01\x02 not xml")
    (tmp_path / "ok.rss").write_text(RSS, encoding="utf-8")

    articles, skipped = read(tmp_path)

    assert len(articles) == 3 and all(a.origin.startswith("ok.rss:") for a in articles)
    reasons = {item.origin: item.reason for item in skipped}
    assert set(reasons) == {"cut.rss", "sitemap.xml", "empty.atom", "garbage.rss"}
    assert reasons["cut.rss"].startswith("malformed feed:")
    assert reasons["sitemap.xml"] == "not an RSS or Atom feed (its root element is <urlset>)"
    assert reasons["empty.atom"] == "feed has no entries"
    assert reasons["garbage.rss"].startswith("not an RSS or Atom feed")


def test_html_entities_in_a_hand_written_feed_do_not_make_it_malformed(tmp_path: Path) -> None:
    (tmp_path / "club.rss").write_text(
        '<rss version="2.0"><channel><title>Rowing Club</title><item><title>Regatta'
        "&nbsp;results</title><link>https://club.example/regatta</link>"
        "<description>The club won three races.</description></item></channel></rss>"
    )

    [article], skipped = read(tmp_path)

    assert skipped == []
    assert article.text == "The club won three races." and article.source == "Rowing Club"
