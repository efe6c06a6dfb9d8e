"""The shipped nginx site against the app it fronts: `nginx -t` accepts it inside Debian's http block,
its body limits sit at or just above the app's own, the long poll outlasts the app's wait, static files
come from the directories the app serves them from, and no POST is ever replayed on another instance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.channels import telegram, web, wechat
from bot.console import app as console_app
from bot.console import templates as console_templates
from bot.console.pages import notices
from tests.deploy.nginx_site import NGINX, ROOT, SITE, check_config, free_port, prepare

LOCATION = re.compile(r"location\s+(=\s+)?(\S+)\s*\{([^{}]*)\}")
DIRECTIVE = re.compile(r"(\w+)\s+([^;]*);")


def _directives(body: str) -> dict[str, str]:
    return {name: value.strip() for name, value in DIRECTIVE.findall(body)}


def _tls_server() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The https server's own directives, and each location's (keyed by "= /path" or "/prefix/")."""
    text = "\n".join(line.split("#", 1)[0] for line in SITE.read_text(encoding="utf-8").splitlines())
    servers = re.split(r"\bserver\s*\{", text)[1:]
    [tls] = [s for s in servers if re.search(r"listen\s+443\s+ssl\s+http2\s+default_server", s)]
    locations = {f"{'= ' if exact else ''}{path}": _directives(body) for exact, path, body in LOCATION.findall(tls)}
    return _directives(LOCATION.sub("", tls)), locations


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", size).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit.lower()]


def _seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "m" else 1)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt install nginx-light)")
def test_nginx_accepts_the_rendered_site_inside_debians_http_block(tmp_path: Path) -> None:
    nginx = prepare(tmp_path, upstreams=(free_port(), free_port()))
    checked = check_config(nginx)
    assert checked.returncode == 0, checked.stderr


def test_body_limits_sit_at_or_just_above_the_apps() -> None:
    server, locations = _tls_server()
    app_limits = {
        None: web.MAX_BODY,
        "= /wechat": wechat.MAX_BODY,
        "= /telegram": telegram.MAX_UPDATE_BODY,
        "/admin/": console_app.FORM_BODY,
        "= /admin/login": console_app.LOGIN_BODY,
        "= /admin/notices/drafts": notices.MAX_BODY,
    }
    assert console_app.PREFIX == "/admin" and console_app.UPLOADS == frozenset({"/notices/drafts"})
    for where, app_limit in app_limits.items():
        own = server if where is None else locations[where]
        limit = _bytes(own["client_max_body_size"])
        # Above: the app's own (Chinese) refusal is what a user sees. Just above: nginx still stops the rest.
        assert app_limit <= limit <= app_limit + max(8 * 1024, app_limit // 8), (where, limit, app_limit)


def test_the_long_poll_outlasts_the_apps_wait_and_no_post_is_replayed() -> None:
    server, locations = _tls_server()
    assert _seconds(locations["= /api/inbox"]["proxy_read_timeout"]) > web.MAX_WAIT + 5
    assert "non_idempotent" not in server["proxy_next_upstream"]
    assert all("proxy_next_upstream" not in own for own in locations.values())
    headers = dict(re.findall(r"proxy_set_header\s+(\S+)\s+([^;]+);", SITE.read_text(encoding="utf-8")))
    # X-Forwarded-For replaced, not appended to ($proxy_add_x_forwarded_for): a client cannot pick its address.
    assert headers == {
        "Host": "$host",
        "X-Real-IP": "$remote_addr",
        "X-Forwarded-For": "$remote_addr",
        "X-Forwarded-Proto": "$scheme",
    }


def test_static_files_come_from_the_directories_the_app_mounts() -> None:
    _, locations = _tls_server()
    served = {
        "/static/": web.STATIC_DIR,
        f"{console_app.PREFIX}/static/": console_templates.STATIC_DIR,
    }
    for url, directory in served.items():
        alias = locations[url]["alias"]
        assert alias == f"/opt/jianding-bot/{directory.relative_to(ROOT)}/", (url, alias)
    # The URLs the app's own routes answer at: the page asks for static/chat.css, the console for /admin/static/….
    assert 'href="static/chat.css"' in (web.STATIC_DIR / "chat.html").read_text(encoding="utf-8")
    assert {p.name for p in console_templates.STATIC_DIR.iterdir()} >= {"console.css"}
