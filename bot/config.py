"""All configuration in one Settings class, read from the environment (and an optional .env file).

Built only by the composition root (`bot.app`), never at import time."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.rate_limits import parse_rates
from handlers.reminder_times import parse_offsets, parse_quiet_hours

TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class WeChatTemplate(BaseModel):
    """A template message approved in the Official Account's back office.

    `fields` maps the template's keywords (thing1, time2 …) to the names of a message's fields
    (title, date, source …), because every account's templates number their keywords differently."""

    template_id: str
    fields: dict[str, str]
    url: str | None = None


DEFAULT_MENU: dict[str, Any] = {
    "button": [
        {"type": "click", "name": "政策问答", "key": "QA"},
        {"type": "click", "name": "退考退费", "key": "WITHDRAW"},
        {
            "name": "我的",
            "sub_button": [
                {"type": "click", "name": "我的申请", "key": "MY_REQUESTS"},
                {"type": "click", "name": "订阅提醒", "key": "REMIND"},
                {"type": "click", "name": "转人工", "key": "HUMAN"},
            ],
        },
    ]
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(default=Path("data"), description="SQLite 文件与加密密钥所在目录")
    database_url: str | None = Field(default=None, description="默认 sqlite+aiosqlite:///<DATA_DIR>/bot.db")
    pii_key: SecretStr | None = Field(default=None, description="个人信息加密主密钥（32 字节，base64 或 hex）")
    pii_previous_keys: SecretStr | None = Field(
        default=None, description="更换密钥期间的旧密钥（逗号分隔）：只用于读取尚未重新加密的数据"
    )
    bot_now: dt.datetime | dt.date | None = Field(
        default=None,
        description="时钟从此刻起走（YYYY-MM-DD 或 YYYY-MM-DDTHH:MM，北京时间），只给日期时取当前钟点",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="启动时自动迁移数据库；多实例部署设为 false，先运行 python -m bot migrate，版本落后时实例拒绝启动",
    )
    log_level: str = "INFO"
    log_format: str = Field(default="auto", description="json（每行一个 JSON）、text，或 auto：终端用 text")
    reply_budget_seconds: float = Field(default=4.0, description="微信被动回复的时间预算，超时改用客服消息")

    reminders_enabled: bool = Field(default=True, description="运行提醒的规划与发送（多进程时选举一个）")
    reminder_offsets: str = Field(
        default="7d@09:00,1d@09:00,0d@09:00", description="提前多少天、几点提醒（北京时间），逗号分隔"
    )
    quiet_hours: str = Field(default="21:00-08:00", description="免打扰时段（北京时间），其间应发的消息推迟到结束时")
    reminder_daily_cap: int = Field(default=3, ge=1, description="每位用户每天最多收到的提醒与群发条数")
    wechat_rate_per_second: float = Field(default=50.0, gt=0, description="微信主动消息的发送速率上限")
    wechat_daily_quota_template: int = Field(
        default=100_000, ge=0, description="公众号每天可发模板消息条数（以公众平台“接口权限”页为准），最紧急的先发"
    )
    wechat_daily_quota_custom: int = Field(
        default=500_000, ge=0, description="公众号每天可调用客服消息接口次数（48 小时内互动过的用户）"
    )
    telegram_rate_per_second: float = Field(default=25.0, gt=0, description="Telegram 速率上限（约 30 条/秒）")
    web_rate_per_second: float = Field(default=500.0, gt=0, description="网页收件箱的写入速率上限")
    claim_seconds: float = Field(default=60.0, gt=0, description="领取一条待发消息的租期，进程死亡后到期重发")
    leader_lease_seconds: float = Field(default=30.0, gt=0, description="SQLite 上调度主进程租约的时长")
    scheduler_interval_seconds: float = Field(default=10.0, gt=0, le=60, description="规划与发送的运行间隔（秒，≤60）")
    variants_poll_seconds: float = Field(
        default=30.0, gt=0, le=60, description="各进程检查问法（知识缺口补充的问题变体）是否有更新的间隔（秒）"
    )

    group_commit: bool = Field(
        default=True, description="繁忙时把同时到达的消息合并在一个事务中处理（见 handlers/group_commit.py）"
    )
    sqlite_fast_path: bool = Field(
        default=True,
        description="SQLite：每条语句一次线程往返、引擎事务内的语句在事件循环线程执行（见 storage/sqlite_driver.py）",
    )

    privacy_notice_file: Path | None = Field(
        default=None,
        description="个人信息处理说明的文本文件（UTF-8）：退考退费登记询问个人信息前展示并征得同意；默认为鉴定中心的通用说明",
    )
    pdf_font_file: Path | None = Field(
        default=None,
        description="弃考声明 PDF 嵌入的中文 TrueType 字体（.ttf/.ttc）；默认用已安装的文泉驿微米黑",
    )
    console_phrases_file: Path | None = Field(
        default=None,
        description="员工控制台的常用回复与驳回理由（YAML：handoff_replies、rejection_reasons 两个列表）；默认用内置的",
    )
    request_retention_days: int = Field(
        default=180, ge=1, le=3650, description="申请办结（已退费或未通过）后多少天删除其中的个人信息"
    )

    transcript_retention_days: int = Field(default=365, ge=1, le=3650, description="对话记录保存天数")
    conversation_retention_days: int = Field(
        default=180, ge=1, le=3650, description="多少天无消息后删除会话状态（地区、进行中的表单等）"
    )
    gap_question_retention_days: int = Field(default=365, ge=1, le=3650, description="知识缺口中考生原话的保存天数")
    handoff_retention_days: int = Field(default=365, ge=1, le=3650, description="人工服务办结后，其问题文本的保存天数")

    user_rate_limit: str = Field(
        default="20 per 10 seconds; 60 per minute",
        description="每位用户（任一渠道）发送消息的速率上限；超出时回复“请稍后再试”。设为 off 则不限",
    )
    web_address_rate_limit: str = Field(
        default="50 per 10 seconds; 300 per minute",
        description="网页聊天：同一客户端地址的请求速率上限（同一网络下的多位考生共用此额度）。设为 off 则不限",
    )
    gap_questions_per_user_day: int = Field(default=20, ge=0, description="每位用户每天最多记入“知识缺口”的未答问题数")

    admin_two_step_required: bool = Field(
        default=False,
        description="管理员登录须用两步验证（验证器 App 的 6 位动态码；用 python -m bot staff totp 用户名 启用）",
    )

    trusted_hosts: str = Field(
        default="localhost,127.0.0.1",
        description="服务对外的域名或地址（逗号分隔，可用 *.example.com）：其他 Host 请求头一律拒绝",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="可信反向代理的地址（逗号分隔）：只采信它们发来的 X-Forwarded-For/-Proto",
    )

    admin_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="员工控制台：无操作多少分钟后登录失效，需重新登录"
    )

    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = Field(default=None, description="EncodingAESKey（43 位），安全/兼容模式")
    wechat_signature_window_seconds: int = Field(
        default=300, ge=30, le=3600, description="微信请求签名的有效期（秒）：时间戳超出前后此范围的请求被拒绝"
    )
    wechat_api_base_url: str = "https://api.weixin.qq.com/"
    wechat_templates: dict[str, WeChatTemplate] = Field(
        default_factory=dict, description="模板消息（JSON）：消息类别 → 模板 id 与字段对应，48 小时窗口外使用"
    )
    wechat_menu: dict[str, Any] = Field(
        default_factory=lambda: DEFAULT_MENU, description="自定义菜单（JSON，微信 menu/create 格式）"
    )

    telegram_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"

    @field_validator(
        "bot_now",
        "wechat_token",
        "wechat_app_id",
        "wechat_app_secret",
        "wechat_aes_key",
        "telegram_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "pii_previous_keys",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v in ("", None) else v

    @field_validator("bot_now", mode="before")
    @classmethod
    def _bare_date(cls, v: object) -> object:
        # "2026-09-01" means that day at the current time of day, not midnight: keep it a date.
        if isinstance(v, str) and len(v.strip()) == 10:
            return dt.date.fromisoformat(v.strip())
        return v

    @field_validator("user_rate_limit", "web_address_rate_limit")
    @classmethod
    def _rate(cls, v: str) -> str:
        try:
            parse_rates(v)
        except ValueError:
            raise ValueError(f"速率写法无效：{v!r}，应如 “20 per 10 seconds; 60 per minute”，或 off") from None
        return v

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, v: str) -> str:
        parse_offsets(v)  # raises ValueError with the expected format
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, v: str) -> str:
        parse_quiet_hours(v)
        return v

    @model_validator(mode="after")
    def _telegram_webhook(self) -> Settings:
        if self.telegram_token is None or self.telegram_webhook_url is None:
            return self
        if self.telegram_webhook_secret is None:
            raise ValueError(
                "已设置 TELEGRAM_WEBHOOK_URL 但未设置 TELEGRAM_WEBHOOK_SECRET：没有密钥的 Webhook 任何人都能伪造消息。"
                "请设置 TELEGRAM_WEBHOOK_SECRET（1–256 位字母、数字、_ 或 -），或去掉 TELEGRAM_WEBHOOK_URL 改用轮询。"
            )
        if not TELEGRAM_SECRET.fullmatch(self.telegram_webhook_secret.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET 只能由 1–256 位字母、数字、_ 或 - 组成（Telegram 的要求）。")
        return self

    @property
    def trusted_host_list(self) -> list[str]:
        return [host.strip().lower() for host in self.trusted_hosts.split(",") if host.strip()]

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'bot.db'}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "pii.key"

    @property
    def previous_key_file(self) -> Path:
        return self.data_dir / "pii.key.previous"
