"""Rendering: the Jinja2 environment (autoescaping on), the base context every page gets (staff,
CSRF token, navigation, flash messages), and small response helpers.

Templates live in `bot/console/templates/`; a page extends `base.html` and fills `content`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound
from starlette.templating import Jinja2Templates

from bot.console.nav import NAV
from bot.console.scope import ROLE_LABELS
from knowledge.timezone import SHANGHAI

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
MOUNT_NAME = "console"
FLASH_COOKIE = "jd_admin_flash"
COOKIE_PATH = "/admin"


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as Beijing time (the console shows every time that way)."""
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime(fmt)


def shown(value: Any) -> str:
    """A snapshot value as staff read it: lists joined, booleans as 是/否, nothing as 空."""
    if value is None or value == []:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(shown(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every value is text unless a template says otherwise
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails the test instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["shown"] = shown
    env.globals["role_labels"] = ROLE_LABELS
    return env


templates = Jinja2Templates(env=_environment())


def url(request: Request, name: str, **params: Any) -> str:
    """The path of the console route `name` (e.g. "audit", "static"), root path included."""
    full = name if ":" in name else f"{MOUNT_NAME}:{name}"
    return str(request.url_for(full, **params).path)


def has_route(request: Request, name: str) -> bool:
    try:
        url(request, name)
    except NoMatchFound:
        return False
    return True


def _flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(unquote(raw))
        return [(str(kind), str(text)) for kind, text in items][:5]
    except (ValueError, TypeError, RecursionError):
        return []


def flash(response: Response, text: str, *, kind: str = "ok") -> Response:
    """Shows `text` on the next page rendered (after a redirect). `kind`: ok or error."""
    payload = quote(json.dumps([[kind, text]], ensure_ascii=False))
    response.set_cookie(FLASH_COOKIE, payload, path=COOKIE_PATH, httponly=True, samesite="lax")
    return response


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """A page: `template` with the base context (the signed-in staff member, if any, the CSRF token,
    the navigation, pending flash messages) plus `context`."""
    staff = getattr(request.state, "staff", None)
    nav = []
    if staff is not None:
        home, path = url(request, "dashboard"), request.url.path
        for item in NAV:
            if staff.role in item.roles:
                href = url(request, item.route) if has_route(request, item.route) else None
                # A section is current on its own pages too (/admin/requests/12 under /admin/requests).
                current = href is not None and (path == href or (href != home and path.startswith(href + "/")))
                count = getattr(request.state, "nav_counts", {}).get(item.route, 0)
                nav.append({"item": item, "href": href, "current": current, "count": count})
    base: dict[str, Any] = {
        "staff": staff,
        "csrf": staff.csrf_token if staff is not None else "",
        "nav": nav,
        "flashes": _flashes(request),
        "url": lambda name, **params: url(request, name, **params),
    }
    response: Response = templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status_code
    )
    if base["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


def redirect(request: Request, name: str, *, query: str = "", **params: Any) -> RedirectResponse:
    """303 See Other to a console route: after a POST the browser follows with a GET."""
    target = url(request, name, **params) + (f"?{query}" if query else "")
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status_code: int, message: str) -> Response:
    return render(request, "error.html", {"status": status_code, "message": message}, status_code=status_code)
