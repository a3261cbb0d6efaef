"""Page R in the studio: the song being edited, its folder, and playing it (routes added to the app)."""

from __future__ import annotations


def routes(session, read_json) -> list:
    """The Page R routes (none until the song format is available)."""
    return []
