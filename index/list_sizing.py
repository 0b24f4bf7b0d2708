"""How many lists an inverted file gets and how many of them an unfiltered search probes.

Measured choices (the figures below), kept apart from the FAISS code in `index.vectors` that
applies them at build, update and open.
"""

from __future__ import annotations

import numpy as np

PROBED_SHARE = 8  # an unfiltered search probes 1/8 of the lists …
# … but no more than this many: the cost grows with the lists probed, the recall much less. On
# the million-chunk index (1,017 lists) probing 32 kept 0.977 of the exact top 100 and 48 0.983
# (127: 0.995, at four times the cost of 40); the 100,000-chunk index (321 lists) probes 40 as
# before (0.977; 32 would keep 0.969), the development index (214 lists) 26.
MAX_PROBES = 40


def probes(lists: int) -> int:
    """How many of `lists` lists an unfiltered search probes."""
    return max(16, min(lists // PROBED_SHARE, MAX_PROBES))


def list_count(total: int) -> int:
    """About √n lists (at least 16)."""
    return max(16, int(np.sqrt(total)))
