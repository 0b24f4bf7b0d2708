"""The conversation that replicas sharing Redis sessions are held to, in tests/cli/
test_shared_sessions.py and bench/replicas_http.py: follow-ups that lean on the turns before
them ("he", "Why?"), so that a replica without the whole history rewrites them otherwise."""

from __future__ import annotations

MORE = "MORE"  # a turn that is POST /sessions/{id}/more, not a question
CONVERSATION = (
    "Who became world chess champion?",
    "Who did he beat?",
    "What did Blinken say about a multinational force?",
    "And what about a two-state solution?",
    MORE,
    "Why?",
    "What else did he say?",
)
