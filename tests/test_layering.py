"""Imports point one way: bot → retrieval → index; heavy libraries stay behind one module each."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = {"index": set(), "retrieval": {"index"}, "bot": {"retrieval", "index"}}
EDGE_LIBRARIES = {
    "telegram",
    "fastapi",
    "starlette",
    "uvicorn",
    "typer",
    "rich",
    "pydantic_settings",
}
OWNERS = {"faiss": {"index/vectors.py"}, "sentence_transformers": {"index/embedder.py"},
          "onnxruntime": {"index/embedder.py", "index/embedding_runners.py"},
          "qdrant_client": {"index/qdrant_backend.py", "index/qdrant_publish.py",
                            "index/qdrant_collection.py", "index/qdrant_query.py"}}  # fmt: skip


def imported_names(path: Path) -> set[str]:
    """Every module `path` imports, in full (`bot.telegram.app`), at any depth of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imported_modules(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_names(path)}


def package_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_point_one_way(package: str):
    forbidden = set(LAYERS) - LAYERS[package] - {package}
    if package != "bot":
        forbidden |= EDGE_LIBRARIES | {"bot"}
    for path in package_files(package):
        wrong = imported_modules(path) & forbidden
        assert not wrong, f"{path.relative_to(REPO)} imports {sorted(wrong)}"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_heavy_libraries_have_one_owner(library: str):
    users = {
        str(path.relative_to(REPO))
        for package in LAYERS
        for path in package_files(package)
        if library in imported_modules(path)
    }
    assert users == OWNERS[library]


# The edges in bot/: HTTP and Telegram never import each other (nor the CLI, which starts and
# composes them); what they share lives at bot/'s top.
EDGES = {"bot.http": {"bot.telegram", "bot.cli"}, "bot.telegram": {"bot.http", "bot.cli"}}


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_edges_do_not_import_each_other(edge: str):
    files = package_files(edge.replace(".", "/"))
    assert files, f"no package {edge}"
    for path in files:
        wrong = {
            name
            for name in imported_names(path)
            for other in EDGES[edge]
            if name == other or name.startswith(other + ".")
        }
        assert not wrong, f"{path.relative_to(REPO)} imports {sorted(wrong)}"


def test_shared_modules_import_no_edge():
    for name in ("settings", "service", "render"):
        path = REPO / "bot" / f"{name}.py"
        wrong = {n for n in imported_names(path) if n.split(".")[:2] in (["bot", "cli"],
                 ["bot", "http"], ["bot", "telegram"])}  # fmt: skip
        assert not wrong, f"bot/{name}.py imports {sorted(wrong)}"
