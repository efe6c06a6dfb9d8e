"""The drafter on the development part of the notice corpus (tests/knowledge/draft_corpus/dev,
written by someone who never saw the drafter; see its README): a floor under what it gets right,
so that a change that loses facts shows. The held-out part is not run here."""

from __future__ import annotations

from pathlib import Path

import yaml

from knowledge.drafting import draft_notice, read_notice_file
from knowledge.drafting.corpus_score import CORRECT, Tally, score

DEV = Path(__file__).parent / "draft_corpus" / "dev"
STRUCTURED = ("header", "date", "period", "month", "relative", "list", "contact", "form")


def test_the_development_corpus_keeps_its_structured_facts() -> None:
    total = Tally()
    for path in sorted(DEV.glob("*.txt")):
        expected = yaml.safe_load(path.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
        total.add(score(draft_notice(read_notice_file(path), seed=path.name), expected))
    correct = sum(total.count(kind, CORRECT) for kind in STRUCTURED)
    expected_count = sum(total.count(kind) for kind in STRUCTURED)
    assert expected_count > 150
    assert correct / expected_count >= 0.85, total.notes
    assert total.precision >= 0.9
