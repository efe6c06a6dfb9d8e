"""A question the bot asks outside a form (which region? shall I start the form?) waits for one
message only: the middleware below hands what was awaited to that message's handlers as
`ctx.awaited` and forgets it, so a handler that still waits must ask again."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Inbound
from handlers.routing import Dispatch, Handled


async def expire_awaiting(call: Dispatch, inbound: Inbound, ctx: Context) -> Handled | None:
    ctx.awaited, ctx.state.awaiting = ctx.state.awaiting, None
    return await call(inbound, ctx)
