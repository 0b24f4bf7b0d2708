"""The chat page draws a timeline as a vertical, dated list with the outlet on each item: Debian's
headless Chromium against a real uvicorn server, checked on element boxes and on the pixels of a
screenshot taken here."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.http.app import create_app
from bot.service import NewsdeskService
from tests.bot.http.browser import chat_page
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import settings_for
from tests.timeline_corpus import EVENTS, LATER

# Tall enough that the whole timeline shows without scrolling; phone width.
VIEWPORT = {"width": 400, "height": 2600}
ACCENT = (0x1F, 0x5F, 0xBF)  # --accent in the light scheme: the dot of each day
DOT_ROWS = """async ([data, left, right, colour]) => {
  // The rows of the screenshot where `colour` shows between `left` and `right`.
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const rows = [];
  for (let y = 0; y < image.height; y++) {
    for (let x = left; x < right; x++) {
      const at = 4 * (y * image.width + x);
      const distance = [0, 1, 2].reduce((sum, i) => sum + Math.abs(pixels[at + i] - colour[i]), 0);
      if (distance < 24) { rows.push(y); break; }
    }
  }
  return rows;
}"""


@pytest.fixture(scope="module")
def base_url(timeline_index: Path, timeline_service: NewsdeskService) -> Iterator[str]:
    app = create_app(settings_for(timeline_index), service=timeline_service)
    with serve_in_thread(app) as url:
        yield url


def ask(page: Page, question: str) -> None:
    before = page.locator(".msg.bot:not(.pending)").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator(".msg.bot:not(.pending)")).to_have_count(before + 1)


def dot_rows(browser: Browser, png: bytes, left: int, right: int) -> list[int]:
    """Decode the screenshot in a blank page of the same browser and find the dots' rows."""
    page = browser.new_page()
    try:
        return page.evaluate(DOT_ROWS, [base64.b64encode(png).decode(), left, right, ACCENT])
    finally:
        page.close()


def runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive rows grouped: (first, last) of each dot."""
    groups: list[tuple[int, int]] = []
    for y in rows:
        if groups and y == groups[-1][1] + 1:
            groups[-1] = (groups[-1][0], y)
        else:
            groups.append((y, y))
    return groups


def test_timeline_is_a_vertical_dated_list_with_outlets(
    browser: Browser, base_url: str, tmp_path: Path
) -> None:
    with chat_page(browser, base_url, viewport=VIEWPORT) as page:
        ask(page, "Timeline of the Kessler Bridge")
        answer = page.locator(".msg.bot").last
        events = answer.locator("ol.timeline > li.event")
        expect(events).to_have_count(12)
        expect(answer.locator(".timeline-more")).to_have_text("2 more dates follow.")

        dates = events.locator("time.event-date")
        expect(dates.first).to_have_text("4 Mar 2024")
        expect(dates.first).to_have_attribute("datetime", "2024-03-04")
        expect(events.first.locator(".event-source")).to_have_text("Westmere Herald")
        expect(events.first.locator(".event-text")).to_contain_text(EVENTS["2024-03-04"])
        iso = [dates.nth(i).get_attribute("datetime") for i in range(12)]
        assert iso == sorted(iso) and len(set(iso)) == 12  # one item a day, earliest first
        assert all(events.nth(i).locator(".event-source").inner_text() for i in range(12))

        # Stacked vertically: each item below the one before, all starting at the same left edge,
        # the date and outlet on the item's first line, above its sentence.
        boxes = [events.nth(i).bounding_box() for i in range(12)]
        assert all(b is not None for b in boxes)
        for upper, lower in zip(boxes, boxes[1:], strict=False):
            assert lower["y"] >= upper["y"] + upper["height"] - 1
            assert abs(lower["x"] - upper["x"]) < 1
        first_date = dates.first.bounding_box()
        first_text = events.first.locator(".event-text").bounding_box()
        assert first_date["y"] + first_date["height"] <= first_text["y"] + 1

        # The screenshot shows one dot per day down the line, level with its item.
        shot = tmp_path / "timeline.png"
        png = page.screenshot(path=str(shot))
        assert shot.stat().st_size > 0
        line = answer.locator("ol.timeline").bounding_box()
        dots = runs(dot_rows(browser, png, int(line["x"]) - 10, int(line["x"]) + 6))
        assert len(dots) == 12, dots
        for (top, bottom), box in zip(dots, boxes, strict=True):
            assert box["y"] <= top and bottom <= box["y"] + box["height"], (top, bottom, box)
            assert 6 <= bottom - top + 1 <= 14  # a dot, not a bar

        # [n] opens the day's source like any citation; More shows the remaining days.
        answer.locator("button.cite").first.click()
        expect(answer.locator(".source").first).to_be_visible()
        expect(answer.locator(".source .passage mark").first).to_have_text(EVENTS["2024-03-04"])
        answer.get_by_role("button", name="More from the articles").click()
        expect(page.locator(".msg.bot:not(.pending)")).to_have_count(2)
        rest = page.locator(".msg.bot").last.locator("ol.timeline > li.event")
        expect(rest).to_have_count(2)
        expect(rest.last.locator("time")).to_have_attribute("datetime", LATER[-1][0])
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
