"""A candidate's question once analysed: what retrieval, the occupation rules and the wording read."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.datetext import FoundDate
from knowledge.occupations import OccupationMatch

# "Which ones" about occupations: the answer is a list, so the lists rank first.
_WANTS_LIST = re.compile(
    r"(?:职业|工种|项目)[^，。？?]{0,4}(?:有哪些|哪些|哪几|名单|清单|目录|都有|有什么|有啥)|(?:哪些|哪几个?)(?:职业|工种)"
    # How many: the list states its count (42个职业, 22项职业资格).
    r"|(?:多少|几)(?:个|项|种)(?:职业|工种|职业资格)|(?:职业|工种|职业资格)[^，。？?]{0,4}(?:多少|几)(?:个|项|种)"
)


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
    def wants_list(self) -> bool:
        """The question asks which occupations (福建退出目录的职业有哪些, 名单, 哪几个工种)."""
        return bool(_WANTS_LIST.search(self.text))

    @property
    def known_occupation(self) -> str | None:
        """The occupation named, when some list of the knowledge base names it too."""
        return self.occupation.name if self.occupation and self.occupation.known else None
