"""Builds and reads the on-disk index: articles → chunks → vectors, lexical index and metadata."""
