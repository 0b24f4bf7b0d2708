"""Deep links: the cost of a text fragment per citation, how often one needs context, and
whether a real browser lands where the simulation says.

Usage: .venv/bin/python bench/deep_links.py [--articles 1000] [--browser 150] [--corpus PATH]

Every sentence of the first `--articles` articles of the dev corpus is cited in turn (the
worst case: a quote anywhere, in articles of every length), as `deep_url` does for each
citation of an answer. Prints the time per citation (median, 99th percentile, max), the share
of quotes whose start words come earlier in their article (a prefix or suffix), and the share
a browser's search, as simulated, lands on exactly. With `--browser N`, N of those links (two
in five with a prefix or suffix) are opened in Debian's headless Chromium against the
articles served on 127.0.0.1, one paragraph a screen, and the paragraph it scrolled to is
compared with the one the simulation expects.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import statistics
import sys
import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.chunking import split_sentences  # noqa: E402
from retrieval.deep_links import deep_url, find_text, text_directive  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--browser", type=int, default=0, help="links to open in Chromium")
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    args = parser.parse_args()
    timings, with_context, exact, cited = [], 0, 0, 0
    samples: list[tuple[str, tuple[int, int], bool]] = []  # article, where it lands, context?
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        for _, line in zip(range(args.articles), lines, strict=False):
            text = json.loads(line).get("text") or ""
            for start, end in split_sentences(text):
                began = time.perf_counter()
                linked = deep_url("https://example.com/a", text, start, end)
                timings.append(time.perf_counter() - began)
                directive = text_directive(text, start, end)
                if linked is None or directive is None:
                    continue
                cited += 1
                context = bool(directive.prefix or directive.suffix)
                with_context += context
                quote = text[start:end]
                first = start + len(quote) - len(quote.lstrip())
                last = end - (len(quote) - len(quote.rstrip()))
                landed = find_text(text, directive)
                exact += landed == (first, last)
                if landed and "\n\n" not in quote:
                    samples.append((text, (start, end), context))
    micro = sorted(t * 1e6 for t in timings)
    print(f"{cited} citations in {args.articles} articles")
    print(
        f"per citation: median {statistics.median(micro):.1f} µs, "
        f"p99 {micro[int(len(micro) * 0.99)]:.1f} µs, max {micro[-1]:.0f} µs"
    )
    print(f"with a prefix or suffix: {with_context / cited:.1%}")
    print(f"a browser's search (simulated) lands on the quote: {exact / cited:.2%}")
    if args.browser:
        chosen = _sample(samples, args.browser)
        agree = _in_chromium(chosen)
        print(
            f"Chromium scrolled to the paragraph the simulation expects: {agree} of {len(chosen)} "
            f"({sum(c for _, _, c in chosen)} with a prefix or suffix)"
        )


def _sample(samples: list[tuple[str, tuple[int, int], bool]], count: int) -> list:
    rng = random.Random(7)
    hard = [s for s in samples if s[2]]
    easy = [s for s in samples if not s[2]]
    some_hard = rng.sample(hard, min(len(hard), count * 2 // 5))
    return some_hard + rng.sample(easy, min(len(easy), count - len(some_hard)))


def _in_chromium(chosen: list[tuple[str, tuple[int, int], bool]]) -> int:
    from playwright.sync_api import TimeoutError as NoScroll
    from playwright.sync_api import sync_playwright

    pages: dict[str, str] = {}

    class Articles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Articles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    agree = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 900, "height": 700})
            for n, (text, (start, end), _) in enumerate(chosen):
                path = f"/a{n}"
                pages[path] = "<!doctype html><meta charset=utf-8><body style='padding-top:150vh'>"
                pages[path] += "".join(
                    f"<p id=p{i} style='margin:0 0 90vh'>{html.escape(p)}</p>"
                    for i, p in enumerate(text.split("\n\n"))
                )
                url = deep_url(f"http://127.0.0.1:{server.server_port}{path}", text, start, end)
                landed = find_text(text, text_directive(text, start, end))  # type: ignore[arg-type]
                page = context.new_page()
                page.goto(url)  # type: ignore[arg-type]
                with suppress(NoScroll):  # it did not scroll: counted as a miss below
                    page.wait_for_function("window.scrollY > 0", timeout=3000)
                middle = "document.elementFromPoint(innerWidth/2, innerHeight/2)?.closest('p')?.id"
                expected = f"p{text[: landed[0]].count(chr(10) * 2)}"  # type: ignore[index]
                agree += page.evaluate(middle) == expected
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return agree


if __name__ == "__main__":
    main()
