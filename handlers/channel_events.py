"""Channel events: following and leaving the Official Account, and messages that carry no text."""

from __future__ import annotations

from handlers.context import Context
from handlers.help import welcome_reply
from handlers.messages import Inbound, Reply
from handlers.routing import Router
from storage.subscriptions import set_reachable

router = Router("channel_events")

MEDIA_EVENTS = {
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "视频",
    "location": "位置",
    "link": "链接",
    "file": "文件",
    "sticker": "表情",
}


@router.event("subscribe")
async def followed(inbound: Inbound, ctx: Context) -> list[Reply]:
    ctx.state.unsubscribed = False
    await set_reachable(ctx.session, channel=ctx.channel, user_id=ctx.user_id, reachable=True, now=ctx.now)
    return [welcome_reply(ctx)]


@router.event("unsubscribe")
async def left(inbound: Inbound, ctx: Context) -> list[Reply]:
    # Nothing can be delivered to someone who left: stop every pending send to them.
    ctx.state.unsubscribed = True
    await set_reachable(
        ctx.session, channel=ctx.channel, user_id=ctx.user_id, reachable=False, now=ctx.now, reason="用户取消关注"
    )
    return []


@router.event(*MEDIA_EVENTS)
async def media(inbound: Inbound, ctx: Context) -> list[Reply]:
    kind = MEDIA_EVENTS[inbound.event or ""]
    return [Reply(f"暂时无法识别{kind}消息，请用文字描述您的问题，或回复“帮助”查看我能做什么。", ("帮助",))]


@router.event()
async def other_event(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [Reply("收到。请用文字描述您的问题，或回复“帮助”查看我能做什么。", ("帮助",))]
