"""Turns a question into ranked passages and an extractive, cited answer."""
