"""`newsdesk index build | update | watch | stats`."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import partial
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.support import (
    BackendOption,
    BuildProgressBar,
    CorpusOption,
    IndexDirOption,
    JsonOption,
    ModelOption,
    err_console,
    friendly_errors,
    load_settings,
)
from bot.cli.watch import watch
from bot.factories import make_embedder, open_backend, qdrant_client_for
from bot.render import terminal_safe
from index.build import BuildReport, build_index
from index.qdrant_publish import publish_current
from index.summary import IndexSummary

index_app = typer.Typer(help="Build, update and describe the index.", no_args_is_help=True)
console = Console()

RayOption = Annotated[
    bool,
    typer.Option(
        "--ray",
        envvar="NEWSDESK_RAY",
        help="Read, chunk and encode on Ray (pip install 'newsdesk\\[ray]'): a local Ray started "
        "for this build, or the cluster at --ray-address. Pays only with many more cores, or "
        "GPUs, than this machine.",
    ),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        "--ray-address", envvar="NEWSDESK_RAY_ADDRESS", metavar="ADDRESS",
        help="The Ray cluster to build on (host:6379, ray://host:10001, or auto for the one "
        "started on this machine); implies --ray.",
    ),
]  # fmt: skip


def _run_build(
    corpus: CorpusOption,
    index_dir: IndexDirOption,
    model: ModelOption,
    *,
    incremental: bool,
    ray: bool = False,
    ray_address: str | None = None,
    backend: str | None = None,
) -> None:
    settings = load_settings(corpus=corpus, index_dir=index_dir, model=model, backend=backend)
    with friendly_errors():
        client = qdrant_client_for(settings)  # unreachable: say so before a long build
        embedder = make_embedder(settings)
        build = build_index
        if ray or ray_address:
            from index.ray_build import build_with_ray  # imports ray only when asked

            build = partial(build_with_ray, address=ray_address)  # type: ignore[assignment]
        with BuildProgressBar(err_console) as on_progress:
            report = build(
                settings.corpus,
                settings.index_dir,
                embedder,
                incremental=incremental,
                on_progress=on_progress,
                on_skip=lambda item: err_console.print(
                    f"skipped {item.origin}: {item.reason}",
                    style="yellow",
                    highlight=False,
                    soft_wrap=True,
                    markup=False,
                ),
            )
        where: object = settings.index_dir
        if client is not None:
            collection = publish_current(
                settings.index_dir, client, settings.qdrant_prefix, incremental=incremental,
                quantization=settings.qdrant_quantization,
            )  # fmt: skip
            where = f"Qdrant {settings.qdrant_location} ({collection})"
            client.close()
    console.print(_report_line(report, where), highlight=False, soft_wrap=True)


def _report_line(report: BuildReport, index_dir: object) -> str:
    verb = "Updated" if report.incremental else "Built"
    line = (
        f"{verb} {index_dir}: {_count(report.articles, 'article')}, "
        f"{_count(report.chunks, 'chunk')} "
        f"({report.embedded_chunks} embedded, {report.reused_chunks} reused), "
        f"{_count(report.statements, 'statement')} in {report.seconds:.1f}s"
    )
    if report.incremental:
        line += (
            f"; {report.added_articles} added, {report.changed_articles} changed, "
            f"{report.removed_articles} removed"
        )
    if report.clusters:
        stories = "1 story" if report.clusters == 1 else f"{report.clusters} stories"
        line += f"; {stories} told by several articles"
    if report.skipped:
        line += f"; {_count(len(report.skipped), 'input')} skipped (see warnings)"
    return line + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@index_app.command("build")
def build(corpus: CorpusOption = None, index_dir: IndexDirOption = None,
          model: ModelOption = None, ray: RayOption = False,
          ray_address: RayAddressOption = None, backend: BackendOption = None) -> None:  # fmt: skip
    """Build the index from scratch over the corpus (the old index serves until done)."""
    _run_build(corpus, index_dir, model, incremental=False, ray=ray, ray_address=ray_address,
               backend=backend)  # fmt: skip


@index_app.command("update")
def update(corpus: CorpusOption = None, index_dir: IndexDirOption = None,
           model: ModelOption = None, ray: RayOption = False,
           ray_address: RayAddressOption = None,
           backend: BackendOption = None) -> None:  # fmt: skip
    """Embed only new or changed articles and drop deleted ones (same result as a build)."""
    _run_build(corpus, index_dir, model, incremental=True, ray=ray, ray_address=ray_address,
               backend=backend)  # fmt: skip


index_app.command("watch")(watch)


@index_app.command("stats")
def stats(index_dir: IndexDirOption = None, as_json: JsonOption = False,
          backend: BackendOption = None) -> None:  # fmt: skip
    """Articles, chunks, statements and speakers, story clusters and the largest ones, sources,
    date range, model, size on disk, build time, skipped inputs."""
    settings = load_settings(index_dir=index_dir, backend=backend)
    with friendly_errors():
        reader = open_backend(settings)
        summary, skipped = reader.summary(), reader.skipped()
        reader.close()
    if as_json:
        inputs = [{"origin": origin, "reason": reason} for origin, reason in skipped]
        data = asdict(summary) | {"skipped_inputs": inputs}
        typer.echo(json.dumps(data, indent=2))
        return
    # Source names and file names come from the corpus: shown as text, never as markup/escapes.
    console.print(terminal_safe(_stats_text(summary, skipped)), highlight=False, markup=False)


def _clusters_text(summary: IndexSummary) -> str:
    """'2 stories told by several articles (7 articles); largest: Title (5), Title (2)'."""
    if not summary.clusters:
        return "none (no two articles tell the same story)"
    largest = "; ".join(f"{title} ({size})" for title, size in summary.largest_clusters[:3])
    stories = "1 story" if summary.clusters == 1 else f"{summary.clusters} stories"
    return (
        f"{stories} told by several articles "
        f"({_count(summary.clustered_articles, 'article')}); largest: {largest}"
    )


def _stats_text(summary: IndexSummary, skipped: list[tuple[str, str]]) -> str:
    sources = ", ".join(f"{name} ({count})" for name, count in summary.sources[:8]) or "—"
    speakers = ", ".join(f"{name} ({count})" for name, count in summary.top_speakers[:5])
    lines = [
        f"Index       {summary.path}",
        f"Articles    {summary.articles}",
        f"Chunks      {summary.chunks}",
        f"Statements  {summary.statements} by {_count(summary.speakers, 'speaker')}"
        + (f" (most: {speakers})" if speakers else ""),
        f"Clusters    {_clusters_text(summary)}",
        f"Sources     {sources}",
        f"Dates       {summary.first_date or '?'} – {summary.last_date or '?'}",
        f"Model       {summary.model}",
        f"Size        {summary.size_bytes / 1_048_576:.1f} MiB",
        f"Built at    {summary.built_at}",
        f"Skipped     {summary.skipped} inputs",
    ]
    lines += [f"  {origin}: {reason}" for origin, reason in skipped[:20]]
    if len(skipped) > 20:
        lines.append(f"  … and {len(skipped) - 20} more (see --json)")
    return "\n".join(lines)
