"""The dashboard at /admin/: for now, the sections of the console and which of them are open."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.nav import NAV
from bot.console.templates import has_route, render, url


@staff_page()
async def dashboard(request: Request, staff: Staff) -> Response:
    sections = [
        {"item": item, "href": url(request, item.route) if has_route(request, item.route) else None}
        for item in NAV
        if item.route != "dashboard" and staff.role in item.roles
    ]
    return render(request, "dashboard.html", {"sections": sections})


routes: list[BaseRoute] = [Route("/", dashboard, methods=["GET", "HEAD"], name="dashboard")]
