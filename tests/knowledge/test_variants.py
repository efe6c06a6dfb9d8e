"""Question variants: a staff phrasing makes an abstained question answer, and nothing else moves."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.variants import UnknownEntryError, Variant
from tests.knowledge.scoring import load_items

ABSTAINED = "鉴定费几号前得打过去"
"""A real question about Guangzhou's fee deadline (考前7个工作日) that retrieval abstains on."""
FEE_DAILY = "gz145.fee-daily"
VARIANTS = [
    Variant(ABSTAINED, FEE_DAILY),
    Variant("缴费截至日子", "jl11.fees"),
    Variant("退考的钱多久到账", "gz145.refund-method"),
    Variant("考试报名截止时间", "jl11.daily-registration-deadline"),
    Variant("证书丢了咋整", "js239.lost-or-wrong-certificate"),
]


@pytest.fixture(scope="module")
def tuned(kb: KnowledgeBase) -> PolicyQA:
    """A PolicyQA of its own: the session's `qa` fixture stays without variants."""
    return PolicyQA(kb).with_variants(VARIANTS)


def test_the_question_abstains_without_the_variant(qa: PolicyQA) -> None:
    assert qa.variant_count == 0
    assert qa.answer(ABSTAINED).kind == "abstain"


def test_a_variant_makes_the_abstained_question_answer(tuned: PolicyQA) -> None:
    answer = tuned.answer(ABSTAINED)
    assert answer.matched and answer.kind == "variant"
    assert answer.fact_ids == (FEE_DAILY,) and answer.sources == ("穗人社职鉴函〔2017〕145号",)
    assert "考前7个工作日" in answer.text and "来源：穗人社职鉴函〔2017〕145号" in answer.text


@pytest.mark.parametrize(
    "question",
    ["我的鉴定费几号前得打过去啊？", "鉴定費幾號前得打過去", "广州鉴定费几号前要打过去", "鉴定费最晚几号前打过去"],
)
def test_close_phrasings_of_the_variant_answer_too(tuned: PolicyQA, question: str) -> None:
    answer = tuned.answer(question)
    assert answer.matched and answer.fact_ids == (FEE_DAILY,), answer.text


@pytest.mark.parametrize(
    ("question", "region"),
    [
        ("吉林鉴定费几号前得打过去", None),  # the variant's fact is Guangzhou's: not for Jilin
        (ABSTAINED, "吉林"),
        ("培训费几号前得打过去", None),  # another fee
        ("鉴定费打过去了怎么开发票", None),  # another question about the fee
    ],
)
def test_a_variant_does_not_answer_other_questions(tuned: PolicyQA, question: str, region: str | None) -> None:
    assert tuned.answer(question, region=region).kind == "abstain"


def test_the_exam_date_in_the_question_is_still_reasoned_about(tuned: PolicyQA) -> None:
    answer = tuned.answer("2026年6月22日的，鉴定费几号前得打过去", now=dt.date(2026, 5, 1))
    assert answer.matched and answer.fact_ids == (FEE_DAILY,)
    assert "2026年6月10日" in answer.text, "7 working days before the exam, 端午 skipped"


def test_an_unknown_entry_is_refused_and_nothing_changes(kb: KnowledgeBase) -> None:
    qa = PolicyQA(kb).with_variants([Variant(ABSTAINED, FEE_DAILY)])
    with pytest.raises(UnknownEntryError, match="gz145.no-such-fact") as refused:
        qa.with_variants([Variant("别的问法", "gz145.fee-competition"), Variant(ABSTAINED, "gz145.no-such-fact")])
    assert refused.value.entry_ids == ("gz145.no-such-fact",)
    assert qa.variant_count == 1 and qa.answer(ABSTAINED).kind == "variant"
    assert qa.has_entry(FEE_DAILY) and not qa.has_entry("gz145.no-such-fact")
    assert qa.with_variants([]).answer(ABSTAINED).kind == "abstain"


def test_with_variants_leaves_the_original_as_it_was(kb: KnowledgeBase) -> None:
    plain = PolicyQA(kb)
    assert plain.answer(ABSTAINED).kind == "abstain"  # now in plain's answer cache
    tuned = plain.with_variants([Variant(ABSTAINED, FEE_DAILY)])
    assert tuned.answer(ABSTAINED).kind == "variant", "a new cache: not plain's cached abstention"
    assert plain.variant_count == 0 and plain.answer(ABSTAINED).kind == "abstain"
    # What is built from the knowledge base is shared, not rebuilt.
    assert tuned.analyzer is plain.analyzer and tuned.index is plain.index and tuned.kb is plain.kb


def test_variants_change_no_answer_the_retrieval_gives(qa: PolicyQA, tuned: PolicyQA) -> None:
    """Over the whole question set: every answered question gets the same answer, and every
    out-of-scope question still abstains."""
    rescued = []
    for item in load_items():
        now = dt.date.fromisoformat(str(item["now"])) if item.get("now") else None
        before = qa.answer(item["question"], region=item.get("region"), now=now)
        after = tuned.answer(item["question"], region=item.get("region"), now=now)
        if before.matched or before.kind != "abstain":
            assert after == before, item["id"]
        elif after.matched:
            assert item.get("in_scope", True), f"{item['id']} is out of scope but a variant answered it"
            rescued.append(item["id"])
    assert len(rescued) <= 5, rescued
