"""Notices published from the console join the shipped ones: validated as `kb check` validates a
file, cited with their version, and preferred over an older notice they supersede, which the
answer says."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.base import KnowledgeBase
from knowledge.loader import LoadProblem
from knowledge.published import (
    ACCEPT,
    PublishedNotice,
    build_knowledge_base,
    check_candidate,
    fact_of_problem,
    reviewed_mapping,
    with_unique_prefix,
)
from knowledge.qa import PolicyQA
from knowledge.regions import RegionRegistry
from knowledge.schema import Notice
from tests.knowledge.notice_samples import (
    DOC_A,
    DOC_B,
    KEEP_A,
    NOTICE_A,
    NOTICE_B,
    REGISTER_A,
    REGISTER_B,
    REGISTER_QUESTION,
    drafted,
    reviewed,
)

NOW = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def shipped(kb: KnowledgeBase) -> list[Notice]:
    return list(kb.notices.values())


@pytest.fixture(scope="module")
def regions(kb: KnowledgeBase) -> RegionRegistry:
    return kb.regions


def check(
    data: dict, shipped: list[Notice], regions: RegionRegistry, live: tuple[PublishedNotice, ...] = ()
) -> tuple[KnowledgeBase | None, list[LoadProblem]]:
    return check_candidate(
        PublishedNotice.of(data, data["doc_no"], data.get("version", 1)), shipped, list(live), regions
    )


def messages(problems: list[LoadProblem]) -> str:
    return "\n".join(f"{p.location}: {p.message}" for p in problems)


def test_a_reviewed_notice_validates_and_answers_citing_itself(shipped, regions) -> None:
    kb, problems = check(reviewed(NOTICE_A, KEEP_A, topical=(REGISTER_A,)), shipped, regions)
    assert problems == [] and kb is not None
    assert DOC_A in kb.notices and len(kb.notices) == len(shipped) + 1
    answer = PolicyQA(kb).answer(REGISTER_QUESTION, now=NOW)
    assert answer.matched and REGISTER_A in answer.fact_ids, answer.text
    assert "2027年3月15日" in answer.text and f"来源：{DOC_A}（一）" in answer.text
    assert answer.sources == (DOC_A,)


def test_a_later_version_is_cited_with_its_number(shipped, regions) -> None:
    data = {**reviewed(NOTICE_A, KEEP_A, topical=(REGISTER_A,)), "version": 2}
    kb, problems = check(data, shipped, regions)
    assert problems == [] and kb is not None
    answer = PolicyQA(kb).answer(REGISTER_QUESTION, now=NOW)
    assert f"来源：{DOC_A}（第2版）（一）" in answer.text, answer.text
    assert answer.sources == (DOC_A,), "sources stay document numbers, as the evaluation reads them"


def test_facts_still_to_review_and_open_problems_are_refused(shipped, regions) -> None:
    data = drafted(NOTICE_A)  # straight from the drafting: every fact and the header marked
    kb, problems = check(reviewed_mapping(data, {REGISTER_A: ACCEPT}), shipped, regions)
    assert kb is None
    text = messages(problems)
    assert "文头尚待核对" in text and "起草问题尚未解决：summary（本文概要）待填写" in text
    assert "条目 yue5.date-2 尚待审核（review: true），不能发布" in text
    assert f"条目 {REGISTER_A} 尚待审核" not in text, "an accepted fact loses its mark"
    pending = [p for p in problems if "尚待审核" in p.message and p.location.startswith("facts.")]
    assert {fact_of_problem(p, reviewed_mapping(data, {REGISTER_A: ACCEPT})) for p in pending} >= {"yue5.date-2"}


def test_a_date_that_does_not_exist_is_refused_and_located(shipped, regions) -> None:
    data = reviewed(NOTICE_A, KEEP_A)
    register = next(f for f in data["facts"] if f["id"] == REGISTER_A)
    register["dates"][0]["date"] = "2027-02-30"
    kb, problems = check(data, shipped, regions)
    assert kb is None and len(problems) == 1
    assert problems[0].location.startswith("facts.0.") and ".dates.0." in problems[0].location
    assert "valid date" in problems[0].message
    assert fact_of_problem(problems[0], data) == REGISTER_A


def test_the_drafting_never_writes_an_impossible_date(shipped, regions) -> None:
    data = drafted(NOTICE_A.replace("2027年3月15日前", "2027年2月30日前"))
    assert any("2月30日" in p for p in data["problems"]), data["problems"]
    assert not any(d.get("date") == "2027-02-30" for f in data["facts"] for d in f.get("dates") or []), (
        "the day is left out, not guessed"
    )


def test_what_no_single_notice_shows_is_refused_too(shipped, regions) -> None:
    base = reviewed(NOTICE_A, KEEP_A)
    unknown_region = {**base, "regions": ["火星市"]}
    clash = {**base, "doc_no": "穗人社职鉴函〔2017〕145号"}
    taken_id = {**base, "facts": [{**base["facts"][0], "id": "gz145.fee-daily"}, *base["facts"][1:]]}
    missing = {**base, "supersedes": ["粤人社职鉴〔2099〕1号"]}
    for data, expected in (
        (unknown_region, "未知地区：火星市"),
        (clash, "与知识库文件重复"),
        (taken_id, "fact id 与"),
        (missing, "不在知识库中"),
    ):
        kb, problems = check(data, shipped, regions)
        assert kb is None and expected in messages(problems), (expected, messages(problems))


def test_a_newer_notice_replaces_the_older_ones_rule_on_the_same_topic(shipped, regions) -> None:
    a = PublishedNotice.of(reviewed(NOTICE_A, KEEP_A, topical=(REGISTER_A,)), DOC_A, 1)
    b_data = reviewed(NOTICE_B, (REGISTER_B,), topical=(REGISTER_B,), supersedes=[DOC_A])
    kb, problems = check(b_data, shipped, regions, live=(a,))
    assert problems == [] and kb is not None
    assert kb.replaced[REGISTER_A].fact.id == REGISTER_B
    assert "yue5.date-2" not in kb.replaced, "the exam day is a topic the newer notice does not speak of"
    qa = PolicyQA(kb)

    answer = qa.answer(REGISTER_QUESTION, now=NOW)
    assert answer.fact_ids[0] == REGISTER_B and "2027年3月25日" in answer.text, answer.text
    assert f"{DOC_B}已取代{DOC_A}的相应规定" in answer.text
    assert "3月15日" not in answer.text

    # Asked by the old number, the old rule is given, with the newer one beside it.
    by_number = qa.answer("5号文网上报名最晚什么时候", region="广东省", now=NOW)
    assert by_number.fact_ids[0] == REGISTER_A, by_number.text
    assert f"已被{DOC_B}取代" in by_number.text and "现行规定" in by_number.text and "3月25日" in by_number.text

    # The older notice's other rules still answer, flagged as from a superseded notice.
    exam = qa.answer("广东笔试哪天考", now=NOW)
    assert exam.fact_ids[0] == "yue5.date-2" and f"{DOC_A}已被{DOC_B}取代/更新" in exam.text, exam.text


def test_a_broken_published_notice_costs_only_itself(shipped, regions) -> None:
    good = PublishedNotice.of(reviewed(NOTICE_A, KEEP_A), DOC_A, 1)
    broken = PublishedNotice.of({**reviewed(NOTICE_B, (REGISTER_B,)), "regions": ["火星市"]}, DOC_B, 1)
    kb, problems = build_knowledge_base(shipped, [good, broken], regions)
    assert DOC_A in kb.notices and DOC_B not in kb.notices
    assert [p.file for p in problems] == [DOC_B]
    # A notice whose superseded notice was withdrawn stays, without the dangling reference.
    newer = PublishedNotice.of(reviewed(NOTICE_B, (REGISTER_B,), supersedes=[DOC_A]), DOC_B, 1)
    kb, problems = build_knowledge_base(shipped, [newer], regions)
    assert problems == [] and kb.notices[DOC_B].supersedes == []


def test_fact_ids_are_made_unique_with_their_references(kb: KnowledgeBase) -> None:
    data = reviewed(NOTICE_A, KEEP_A)
    data["facts"][0]["applies"] = {"occupation_lists": ["yue5.list-1"]}
    renamed = with_unique_prefix(data, {"yue5", "gz145"})
    assert [f["id"] for f in renamed["facts"]][:1] == ["yue5-2027.date-1"]
    assert renamed["facts"][0]["applies"]["occupation_lists"] == ["yue5-2027.list-1"]
    assert with_unique_prefix(data, {"gz145"}) == data


def test_a_notice_without_a_number_is_cited_by_issuer_title_and_date(shipped, regions) -> None:
    data = {**reviewed(NOTICE_A, KEEP_A, topical=(REGISTER_A,)), "doc_no": None}
    kb, problems = check_candidate(PublishedNotice.of(data, "key", 1), shipped, [], regions)
    assert problems == [] and kb is not None
    cited = "广东省职业技能鉴定指导中心《关于2027年上半年职业技能等级认定考试安排的通知》（2026年2月20日）"
    assert cited in kb.notices and not kb.notices[cited].numbered
    answer = PolicyQA(kb).answer(REGISTER_QUESTION, now=NOW)
    assert answer.matched and "2027年3月15日" in answer.text and f"来源：{cited}" in answer.text, answer.text
