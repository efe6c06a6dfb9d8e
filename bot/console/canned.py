"""Ready-made texts staff pick instead of typing: replies to a candidate in a handoff, and reasons for
rejecting a request. Each deployment may replace them (CONSOLE_PHRASES_FILE, a YAML file with the
lists `handoff_replies` and `rejection_reasons`); a list the file leaves out keeps its default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_HANDOFF_REPLIES = (
    "您好，您的问题已收到，我们正在核实，核实后会在这里回复您。",
    "您好，退考退费申请提交后由原报考机构审核，审核结果会通过本对话通知您，请耐心等待。",
    "您好，退费将在审核通过后按原缴费渠道退回，具体到账时间以报考机构办理为准。",
    "您好，该问题需要您联系原报考机构办理，联系电话请见通知中的联系方式。",
    "您好，请您补充说明报考的职业、等级和原定考试日期，以便我们核实。",
)
DEFAULT_REJECTION_REASONS = (
    "该职业不在本次可退考退费的范围内",
    "已超过通知规定的退考退费登记截止时间",
    "未查到该考生在本机构的报名缴费记录",
    "提交的身份信息与报名信息不一致，请核对后重新提交",
    "考试已经举行，不再办理退考退费",
)


@dataclass(frozen=True)
class Phrases:
    handoff_replies: tuple[str, ...] = DEFAULT_HANDOFF_REPLIES
    rejection_reasons: tuple[str, ...] = DEFAULT_REJECTION_REASONS

    @classmethod
    def load(cls, path: Path | None) -> Phrases:
        """The deployment's lists, or the defaults; a malformed file is refused at start with its path."""
        if path is None:
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: 应为包含 handoff_replies、rejection_reasons 两个列表的 YAML")
        found = {}
        for key in ("handoff_replies", "rejection_reasons"):
            value = data.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise ValueError(f"{path}: {key} 应为非空文字的列表")
            found[key] = tuple(v.strip() for v in value)
        return cls(**found)


def chosen(texts: tuple[str, ...], index: str) -> str:
    """The ready-made text a form's select named by its index, or "" for none or a made-up index."""
    return texts[int(index)] if index.isdigit() and int(index) < len(texts) else ""
