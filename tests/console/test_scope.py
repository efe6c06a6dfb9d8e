"""Region scoping: a reviewer of 广东省 sees 广州市's requests, not 吉林省's; an empty list means all."""

from __future__ import annotations

import pytest

from bot.console.auth import Staff, can_see_region
from bot.console.scope import UnknownRegionError, normalize_regions, role_problem, visible_regions
from knowledge.base import KnowledgeBase


def staff(kb: KnowledgeBase, role: str, regions: list[str]) -> Staff:
    return Staff(1, "someone", role, tuple(regions), "t", visible_regions(regions, kb.regions))


def test_a_province_covers_its_cities(kb: KnowledgeBase) -> None:
    guangdong = staff(kb, "reviewer", ["广东省"])
    assert can_see_region(guangdong, "广东省") and can_see_region(guangdong, "广州市")
    assert not can_see_region(guangdong, "吉林省") and not can_see_region(guangdong, "厦门市")


def test_a_city_does_not_cover_its_province(kb: KnowledgeBase) -> None:
    guangzhou = staff(kb, "reviewer", ["广州市"])
    assert can_see_region(guangzhou, "广州市")
    assert not can_see_region(guangzhou, "广东省") and not can_see_region(guangzhou, "深圳市")


def test_several_regions_and_none_at_all(kb: KnowledgeBase) -> None:
    two = staff(kb, "reviewer", ["吉林省", "江苏省"])
    assert can_see_region(two, "长春市") and can_see_region(two, "苏州市") and not can_see_region(two, "广州市")
    for role in ("admin", "viewer"):
        everyone = staff(kb, role, [])
        assert everyone.visible is None
        assert all(can_see_region(everyone, region) for region in ("广州市", "吉林省", "江苏省", "厦门市"))


def test_region_names_are_normalised_strictly(kb: KnowledgeBase) -> None:
    assert normalize_regions(["广东, 吉林", "苏州", "广东省"], kb.regions) == ["广东省", "吉林省", "苏州市"]
    assert normalize_regions(["广州、厦门；江苏"], kb.regions) == ["广州市", "厦门市", "江苏省"]
    with pytest.raises(UnknownRegionError, match="火星、广东某地"):
        normalize_regions(["火星", "广东某地"], kb.regions)


def test_a_reviewer_needs_a_region() -> None:
    assert role_problem("reviewer", []) == "审核员至少需要一个负责地区。"
    assert role_problem("reviewer", ["广东省"]) is None
    assert role_problem("admin", []) is None and role_problem("viewer", []) is None
    assert role_problem("boss", []) is not None
