"""Who on the staff may act, and where: the roles that change things, and the regions a member sees.

Region names are canonical (广州市, 广东省 …, from `knowledge.regions`). A member's region covers
the regions nested in it: a reviewer of 广东省 sees the requests of 广州市 too. An empty list means
every region (admins, and viewers who oversee everything)."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.regions import RegionRegistry
from storage.staff import ROLES

ADMIN, REVIEWER, VIEWER = ROLES
WRITERS = (ADMIN, REVIEWER)
"""Roles that may change requests, handoffs and notices; viewers only read."""


def visible_regions(regions: Sequence[str], registry: RegionRegistry) -> frozenset[str] | None:
    """Every region a staff member with `regions` may see, nested ones included; None for all."""
    if not regions:
        return None
    seen = set(regions)
    for outer in regions:
        seen.update(registry.inside(outer))
    return frozenset(seen)


def sees(visible: frozenset[str] | None, region: str) -> bool:
    """Whether a member who sees `visible` (None: every region) sees records of `region`."""
    return visible is None or region in visible
