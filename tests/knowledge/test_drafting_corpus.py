"""The drafter on the development parts of the two notice corpora (tests/knowledge/draft_corpus/dev
and second/dev, each written by someone who never saw the drafter; see their READMEs): a floor under
what it gets right, so that a change that loses facts shows. The held-out parts are not run here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.drafting import draft_notice, read_notice_file
from knowledge.drafting.corpus_score import CORRECT, Tally, score

CORPUS = Path(__file__).parent / "draft_corpus"
STRUCTURED = ("header", "date", "period", "month", "relative", "list", "contact", "form")


def _tally(part: Path) -> Tally:
    total = Tally()
    for path in sorted(part.glob("*.txt")):
        expected = yaml.safe_load(path.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
        total.add(score(draft_notice(read_notice_file(path), seed=path.name), expected))
    return total


@pytest.mark.parametrize(("part", "least"), [("dev", 150), ("second/dev", 60)])
def test_the_development_corpora_keep_their_facts(part: str, least: int) -> None:
    total = _tally(CORPUS / part)
    correct = sum(total.count(kind, CORRECT) for kind in STRUCTURED)
    expected_count = sum(total.count(kind) for kind in STRUCTURED)
    assert expected_count > least
    assert correct / expected_count >= 0.85, total.notes
    assert total.fully_correct >= 0.85, total.notes
    assert total.precision >= 0.95
    # Rules are read from sentences: most of those the person listed are found.
    assert total.count("rule", CORRECT) >= 0.7 * total.count("rule"), total.notes
