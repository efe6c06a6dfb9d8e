"""What a candidate is told, and agrees to, before the withdrawal form asks for personal information
(个人信息保护法 art. 17, 29: who processes it, why, what, how long, and how to have it deleted).

The wording is the deployment's: `PRIVACY_NOTICE_FILE` replaces the default, which is written for a
certification centre. `{retention_days}` in it is replaced by the configured retention period. The
candidate's agreement is recorded with the notice's version (a digest of its text), so that a changed
notice is told apart from the one agreed to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from handlers.parsing import Invalid, Ok, Parsed, Stop

DEFAULT_NOTICE = (
    "【个人信息处理说明】办理退考退费登记需要收集您的姓名、身份证号、手机号及报考信息（地区、职业、等级、"
    "考试日期、报考机构、缴费票据号）。\n"
    "· 用途：生成您的个人弃考声明，供职业技能鉴定中心和您的原报考机构核对报名、办理退考退费，并通知您办理进度；"
    "不用于其他目的。\n"
    "· 谁能看到：鉴定中心及您的原报考机构负责审核的工作人员；身份证号和手机号加密保存，页面上默认隐藏。\n"
    "· 保存期限：申请办结（已退费或未通过）后 {retention_days} 天删除，仅保留不含个人信息的统计。\n"
    "· 您的权利：可随时回复“删除我的信息”申请查阅、更正或删除，工作人员会处理并答复您。\n"
    "同意请回复“同意”；不同意将无法在线办理，可回复“转人工”由工作人员协助。"
)
AGREE = frozenset({"同意", "我同意", "好", "好的", "可以", "行", "是", "是的", "确认", "ok", "OK", "yes"})
DECLINE = frozenset({"不同意", "拒绝", "不", "否", "不要", "不行", "不可以", "no"})
DECLINED = (
    "您未同意个人信息处理说明，因此无法在线办理退考退费登记。"
    "如需办理，请回复“转人工”由工作人员协助，或直接联系您的原报考机构。"
)


@dataclass(frozen=True)
class PrivacyNotice:
    text: str
    retention_days: int = 180
    """Days after a request is finished until its personal data is erased (REQUEST_RETENTION_DAYS)."""

    @classmethod
    def from_template(cls, template: str, *, retention_days: int) -> PrivacyNotice:
        return cls(template.replace("{retention_days}", str(retention_days)).strip(), retention_days)

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:8]

    def parse(self, text: str) -> Parsed:
        """同意 → the version agreed to; 不同意 → the form stops; anything else is asked again."""
        answer = text.strip().strip("。.！!").strip()
        if answer in AGREE:
            return Ok(self.version, f"已同意（说明版本 {self.version}）")
        if answer in DECLINE:
            return Stop(DECLINED)
        return Invalid("请先阅读上面的个人信息处理说明，同意请回复“同意”，不同意请回复“不同意”。")


DEFAULT = PrivacyNotice.from_template(DEFAULT_NOTICE, retention_days=180)
