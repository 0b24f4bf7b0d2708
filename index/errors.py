"""Domain errors raised by the index package; each edge (CLI, HTTP, Telegram) translates them."""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base class: the message is one sentence a user can act on."""


class IndexNotFound(NewsdeskError):
    """No built index at the given directory."""


class IndexIncompatible(NewsdeskError):
    """The index was built with another model or on-disk format version."""


class CorpusError(NewsdeskError):
    """The corpus (a folder or one file) is missing or holds no readable article."""


class BuildInProgress(NewsdeskError):
    """Another build holds the index lock."""


class ModelLoadError(NewsdeskError):
    """The embedding model could not be loaded."""
