"""The answer type every question produces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HUMAN_HINT = "如需进一步确认，可回复“转人工”，由工作人员为您解答。"


@dataclass(frozen=True)
class Answer:
    text: str
    matched: bool
    """False when the bot abstains: it found nothing it can stand behind."""
    sources: tuple[str, ...] = ()
    confidence: float = 0.0
    fact_ids: tuple[str, ...] = ()
    region: str | None = None
    regions: tuple[str, ...] = ()
    """Regions whose rules the answer gives; several when the question named none."""
    kind: str = "lookup"
    asked: str = ""
    """The question as understood when it was read with the previous one (a follow-up)."""
    more: tuple[str, ...] = ()
    """Facts related to the answer, given when the candidate asks for more (更多), not by default."""

    @property
    def asks_region(self) -> bool:
        """The answer differs by region and the question named none: a conversation may ask."""
        return self.region is None and len(self.regions) > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "matched": self.matched,
            "sources": list(self.sources),
            "confidence": round(self.confidence, 3),
            "facts": list(self.fact_ids),
            "region": self.region,
            "regions": list(self.regions),
            "kind": self.kind,
            "more": list(self.more),
        }
