"""A candidate's question once analysed: what retrieval, the occupation rules and the wording read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge.datetext import FoundDate
from knowledge.occupations import OccupationMatch


@dataclass(frozen=True)
class Query:
    text: str
    """The question normalised and with its typos repaired."""
    words: list[str]
    region: str | None
    dates: list[FoundDate]
    now: dt.date
    occupation: OccupationMatch | None
    docs: frozenset[str] = frozenset()
    """Notices the question names by number (145号文)."""
    plain_words: tuple[str, ...] = ()
    """The words as segmented, before an unknown occupation is kept whole: what variants compare."""

    @property
    def known_occupation(self) -> str | None:
        """The occupation named, when some list of the knowledge base names it too."""
        return self.occupation.name if self.occupation and self.occupation.known else None
