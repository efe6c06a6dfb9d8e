"""`python -m bot doctor`: checks a configuration before the server starts, each finding with its fix.

Read-only: it creates no key, no database and no table, so it is safe against a live deployment. `serve`
runs the same checks and refuses to start on a fatal finding with its message (not a traceback).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from storage.database import Database, code_revisions, masked_url, migration_version, schema_mismatch
from storage.models import Setting
from storage.pii import KEY_ENV_VAR, KEY_FINGERPRINT, PiiCipher, PiiKeyError, existing_key

Level = Literal["ok", "warn", "fatal"]
LABELS: dict[Level, str] = {"ok": "通过", "warn": "注意", "fatal": "无法启动"}
DISK_WARN = 1024**3
DISK_FATAL = 100 * 1024**2
_APP_ID = re.compile(r"wx[0-9a-f]{16}")
_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str = ""

    def line(self) -> str:
        return f"[{LABELS[self.level]}] {self.check}：{self.message}" + (f"\n    处理：{self.fix}" if self.fix else "")


def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in the order an operator fixes them."""
    found = [*_data_dir(settings.data_dir), _time_zone()]
    found += asyncio.run(_database_and_key(settings))
    found += [*_wechat(settings), *_telegram(settings), *_hosts(settings)]
    return found


def fatal(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "fatal"]


def _data_dir(path: Path) -> list[Finding]:
    where = path.resolve()
    probe = where if where.exists() else next((p for p in where.parents if p.exists()), Path("/"))
    if not os.access(probe, os.W_OK):
        return [
            Finding(
                "数据目录", "fatal", f"{where} 不可写", f"用运行服务的账号创建它并设为 0700：install -d -m 700 {where}"
            )
        ]
    out = [Finding("数据目录", "ok", f"{where}（{'已存在' if where.exists() else '首次启动时创建'}）")]
    if where.exists() and os.name != "nt" and where.stat().st_mode & 0o077:
        out.append(Finding("数据目录", "warn", f"{where} 其他账号可读", f"chmod 700 {where}（启动时也会自动收紧）"))
    free = shutil.disk_usage(probe).free
    level: Level = "fatal" if free < DISK_FATAL else "warn" if free < DISK_WARN else "ok"
    fix = "清理磁盘或把 DATA_DIR 放到更大的分区" if level != "ok" else ""
    out.append(Finding("磁盘空间", level, f"数据目录所在分区剩余 {free / 1024**3:.1f} GiB", fix))
    return out


def _time_zone() -> Finding:
    try:
        ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:
        return Finding(
            "时区", "fatal", "找不到 Asia/Shanghai 时区数据", "安装 tzdata（apt install tzdata，或 pip install tzdata）"
        )
    return Finding("时区", "ok", "截止日期与免打扰时段按北京时间（Asia/Shanghai）计算，与服务器本地时区无关")


async def _database_and_key(settings: Settings) -> list[Finding]:
    url = settings.effective_database_url
    shown = masked_url(url)
    if url.startswith("sqlite") and not Path(url.split(":///", 1)[-1]).exists():  # connecting would create it
        return [Finding("数据库", "ok", f"{shown}：首次启动时创建并迁移"), *_key(settings, None, encrypted=False)]
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            current = await conn.run_sync(migration_version)
            recorded = None
            if current is not None:
                recorded = (await conn.execute(select(Setting.value).where(Setting.name == KEY_FINGERPRINT))).scalar()
    except (SQLAlchemyError, OSError) as exc:
        return [
            Finding(
                "数据库",
                "fatal",
                f"无法连接 {shown}（{type(exc).__name__}）",
                "检查 DATABASE_URL，数据库服务是否运行、账号密码与防火墙",
            )
        ]
    finally:
        await db.dispose()
    head, known = code_revisions()
    if current == head:
        out = [Finding("数据库", "ok", f"{shown}：已迁移到最新版本 {head}")]
    elif current is not None and current not in known:
        out = [
            Finding(
                "数据库",
                "fatal",
                f"{shown} 的版本 {current} 比本程序（{head}）新",
                "用与数据库同版本或更新的程序启动；不要用旧版本程序连接已升级的数据库",
            )
        ]
    elif not settings.migrate_on_start:
        out = [Finding("数据库", "fatal", f"{shown}：{schema_mismatch(current, head)}", "运行 python -m bot migrate")]
    elif current is None:
        out = [Finding("数据库", "ok", f"{shown}：空库，启动时迁移到 {head}")]
    else:
        out = [Finding("数据库", "ok", f"{shown}：版本 {current}，启动时升级到 {head}")]
    return out + _key(settings, recorded, encrypted=recorded is not None)


def _key(settings: Settings, recorded: str | None, *, encrypted: bool) -> list[Finding]:
    configured = settings.pii_key.get_secret_value() if settings.pii_key else None
    try:
        key = existing_key(settings.key_file, configured=configured)
    except PiiKeyError as exc:
        return [Finding("个人信息密钥", "fatal", str(exc), f"恢复正确的密钥文件（0600）或设置 {KEY_ENV_VAR}")]
    if key is None:
        if encrypted:
            return [
                Finding(
                    "个人信息密钥",
                    "fatal",
                    f"没有密钥（{settings.key_file} 不存在，也未设置 {KEY_ENV_VAR}），但数据库已有加密的个人信息",
                    "从备份恢复密钥文件（0600）或设置 PII_KEY；换新密钥将无法读取已存的身份证号与手机号",
                )
            ]
        return [Finding("个人信息密钥", "ok", f"首次启动时生成 {settings.key_file}：请随数据库一起备份")]
    fingerprint = PiiCipher(key).fingerprint
    if recorded is not None and recorded != fingerprint:
        return [
            Finding(
                "个人信息密钥",
                "fatal",
                f"密钥指纹 {fingerprint} 与数据库记录的 {recorded} 不一致",
                "恢复原来的密钥文件或 PII_KEY（轮换密钥请用 python -m bot privacy rotate-key）",
            )
        ]
    source = KEY_ENV_VAR if configured is not None else str(settings.key_file)
    return [
        Finding("个人信息密钥", "ok", f"来自 {source}，指纹 {fingerprint}" + ("，与数据库一致" if recorded else ""))
    ]


def _wechat(settings: Settings) -> list[Finding]:
    token, app_id = settings.wechat_token, settings.wechat_app_id
    if token is None and app_id is None:
        return [Finding("微信公众号", "ok", "未配置（不启用）")]
    out: list[Finding] = []
    if token is None or not _TOKEN.fullmatch(token.get_secret_value()):
        out.append(
            Finding(
                "微信 Token",
                "fatal",
                "WECHAT_TOKEN 缺失或格式不对（3–32 位字母或数字）",
                "与公众号后台“服务器配置”中的 Token 保持一致",
            )
        )
    if app_id is None or not _APP_ID.fullmatch(app_id):
        out.append(
            Finding(
                "微信 AppID",
                "fatal",
                "WECHAT_APP_ID 缺失或格式不对（wx 加 16 位十六进制）",
                "从公众号后台“基本配置”复制",
            )
        )
    if settings.wechat_app_secret is None:
        out.append(
            Finding(
                "微信 AppSecret",
                "warn",
                "未设置 WECHAT_APP_SECRET：无法发送客服消息与提醒",
                "从公众号后台“基本配置”获取",
            )
        )
    aes = settings.wechat_aes_key
    if aes is None:
        out.append(
            Finding(
                "微信消息加密",
                "warn",
                "未设置 WECHAT_AES_KEY：明文模式，消息内容（含身份证号）以明文经过网络",
                "在公众号后台改用“安全模式”，并把 EncodingAESKey 填入 WECHAT_AES_KEY",
            )
        )
    elif not (_AES_KEY.fullmatch(aes.get_secret_value()) and _aes_decodes(aes.get_secret_value())):
        out.append(
            Finding("微信消息加密", "fatal", "WECHAT_AES_KEY 格式不对（43 位）", "从公众号后台复制 EncodingAESKey")
        )
    return out or [Finding("微信公众号", "ok", "Token、AppID、AppSecret 与 EncodingAESKey（安全模式）齐全")]


def _aes_decodes(value: str) -> bool:
    try:
        return len(base64.b64decode(value + "=")) == 32
    except ValueError:
        return False


def _telegram(settings: Settings) -> list[Finding]:
    # A webhook without its secret is refused when the settings are read, before any check runs.
    if settings.telegram_token is None:
        return [Finding("Telegram", "ok", "未配置（不启用）")]
    mode = "webhook（带密钥）" if settings.telegram_webhook_url else "长轮询（只宜单进程）"
    return [Finding("Telegram", "ok", mode)]


def _hosts(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    hosts = [h.strip() for h in settings.trusted_hosts.split(",") if h.strip()]
    if "*" in hosts:
        out.append(
            Finding(
                "可信域名",
                "warn",
                "TRUSTED_HOSTS 含 *：任何 Host 请求头都被接受",
                "改为服务对外的域名，如 bot.example.gov.cn",
            )
        )
    elif set(hosts) <= {"localhost", "127.0.0.1", "::1"}:
        out.append(Finding("可信域名", "warn", "TRUSTED_HOSTS 只有本机：外网访问会被拒绝", "加入服务对外的域名"))
    else:
        out.append(Finding("可信域名", "ok", "、".join(hosts)))
    bad = []
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if "*" in proxies:
        fix = "只填反向代理的地址，否则客户端可伪造 X-Forwarded-For 绕过按地址的限流"
        return [*out, Finding("可信代理", "warn", "TRUSTED_PROXIES 为 *：采信任何来源的 X-Forwarded-*", fix)]
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            bad.append(proxy)
    if bad:
        out.append(
            Finding(
                "可信代理",
                "fatal",
                f"TRUSTED_PROXIES 中不是地址：{'、'.join(bad)}",
                "只填反向代理的 IP 或网段，逗号分隔",
            )
        )
    else:
        out.append(Finding("可信代理", "ok", settings.trusted_proxies))
    return out
