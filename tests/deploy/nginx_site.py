"""The shipped nginx site (deploy/nginx/jianding-bot.conf) rendered for a test and run as the current user.

Rendering swaps the values an operator would replace (server name, certificate, checkout, ports,
log and ACME paths) and nothing else, so what runs here is what ships. The site is included in a
main configuration with Debian 12's own `http { }` settings around it, so a directive the site
repeated at http level would fail here as it would on the server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "jianding-bot.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
MIME_TYPES = Path("/etc/nginx/mime.types")
SERVER_NAME = "localhost"
"""Resolves to loopback everywhere, and is sent as SNI (an IP address would not be)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ipv6_loopback() -> bool:
    """Whether [::1] can be bound here: the site listens on IPv6 too, which some CI machines lack."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed(directory: Path, name: str = SERVER_NAME) -> Certificate:
    """A P-256 certificate for `name` and 127.0.0.1, valid for a day: what the test's clients verify against."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    found = Certificate(directory / "fullchain.pem", directory / "privkey.pem")
    found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    found.key.chmod(0o600)
    return found


@dataclass(frozen=True)
class SiteValues:
    """What the test puts where the shipped file has the production values."""

    http_port: int
    https_port: int
    upstreams: tuple[int, int]
    certificate: Certificate
    app_root: Path
    access_log: Path
    acme_root: Path
    server_name: str = SERVER_NAME
    ipv6: bool = True


PRODUCTION_VALUES = (
    "bot.example.cn",
    "/etc/ssl/jianding-bot/fullchain.pem",
    "/etc/ssl/jianding-bot/privkey.pem",
    "/opt/jianding-bot",
    "127.0.0.1:8001",
    "127.0.0.1:8002",
    "/var/log/nginx/jianding-bot.access.log",
    "/var/www/letsencrypt",
)


def _directives(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def render(site: str, values: SiteValues) -> str:
    """The shipped site with `values` in place of the production ones. Fails when a value to replace is
    missing from the directives (the file changed shape) or one is left behind."""
    directives = _directives(site)
    missing = [v for v in PRODUCTION_VALUES if v not in directives]
    assert not missing, f"the shipped site no longer has {missing}: update the test's rendering"
    assert re.search(r"listen\s+80\b", directives) and re.search(r"listen\s+443\b", directives)
    replacements = dict(
        zip(
            PRODUCTION_VALUES,
            (
                values.server_name,
                str(values.certificate.cert),
                str(values.certificate.key),
                str(values.app_root),
                f"127.0.0.1:{values.upstreams[0]}",
                f"127.0.0.1:{values.upstreams[1]}",
                str(values.access_log),
                str(values.acme_root),
            ),
            strict=True,
        )
    )
    for old, new in replacements.items():
        site = site.replace(old, new)
    site = re.sub(r"(listen\s+(?:\[::\]:)?)80\b", rf"\g<1>{values.http_port}", site)
    site = re.sub(r"(listen\s+(?:\[::\]:)?)443\b", rf"\g<1>{values.https_port}", site)
    if not values.ipv6:
        site = re.sub(r"(?m)^\s*listen\s+\[::\]:.*\n", "", site)
    left = [v for v in PRODUCTION_VALUES if v in _directives(site)]
    assert not left, f"left unrendered: {left}"
    return site


def main_config(site_file: Path, directory: Path) -> str:
    """A main configuration around the site: Debian 12's http settings, files in `directory`."""
    # As root without a `user` directive, nginx hands its workers to `nobody`, who cannot read the
    # test's private temporary directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    mime = (
        f"include {MIME_TYPES};"
        if MIME_TYPES.exists()
        else "types { text/html html; text/css css; application/javascript js; image/svg+xml svg; }"
    )
    temp = "".join(
        f"    {kind}_temp_path {directory / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 2;
error_log {directory / "error.log"} warn;
events {{
    worker_connections 768;
}}
http {{
    # Debian 12's /etc/nginx/nginx.conf, http block:
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    {mime}
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {directory / "access.log"};
    gzip on;
    # Temporary files under the test's directory rather than /var/lib/nginx:
{temp}    include {site_file};
}}
"""


@dataclass
class Nginx:
    directory: Path
    values: SiteValues

    @property
    def conf(self) -> Path:
        return self.directory / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    def command(self, *extra: str) -> list[str]:
        assert NGINX is not None
        return [
            NGINX,
            "-e",
            str(self.error_log),
            "-p",
            str(self.directory),
            "-c",
            str(self.conf),
            "-g",
            f"daemon off; pid {self.directory / 'nginx.pid'};",
            *extra,
        ]

    def errors(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else "(no error log)"

    def access_lines(self) -> list[str]:
        log = self.values.access_log
        return log.read_text(errors="replace").splitlines() if log.exists() else []

    def base_url(self) -> str:
        return f"https://{self.values.server_name}:{self.values.https_port}"


def prepare(directory: Path, *, upstreams: tuple[int, int], app_root: Path = ROOT) -> Nginx:
    """Writes the certificate, the rendered site and the main configuration into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "acme"):
        (directory / kind).mkdir(exist_ok=True)
    values = SiteValues(
        http_port=free_port(),
        https_port=free_port(),
        upstreams=upstreams,
        certificate=self_signed(directory),
        app_root=app_root,
        access_log=directory / "jianding-bot.access.log",
        acme_root=directory / "acme",
        ipv6=ipv6_loopback(),
    )
    site = directory / "jianding-bot.conf"
    site.write_text(render(SITE.read_text(encoding="utf-8"), values), encoding="utf-8")
    nginx = Nginx(directory, values)
    nginx.conf.write_text(main_config(site, directory), encoding="utf-8")
    return nginx


def check_config(nginx: Nginx) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the rendered configuration."""
    return subprocess.run(nginx.command("-t"), capture_output=True, text=True, timeout=30, check=False)


@contextlib.asynccontextmanager
async def running(nginx: Nginx) -> AsyncIterator[Nginx]:
    """nginx in the foreground until the block ends; fails with its error log if it does not listen."""
    process = await asyncio.create_subprocess_exec(
        *nginx.command(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            if process.returncode is not None:
                raise AssertionError(f"nginx exited with {process.returncode}:\n{nginx.errors()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", nginx.values.https_port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.025)
        else:
            raise AssertionError(f"nginx does not listen:\n{nginx.errors()}")
        yield nginx
    finally:
        if process.returncode is None:
            process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
