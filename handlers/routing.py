"""Routers: which handler answers a message, declared by the features themselves.

Modelled on aiogram 3's `Router`. Each feature module owns a `Router` and registers handlers on it:

    router = Router("help")

    @router.command(Command.HELP, words=HELP_WORDS)
    async def show_help(inbound: Inbound, ctx: Context) -> list[Reply]: ...

and the root (`handlers.features`) includes the feature routers in order. A message is routed in
three kinds, each first match wins, in the order the routes were registered and included:

- an event (`Inbound.event`) goes to the `event` routes that name it (or name none);
- a command goes to the `command` routes for it. A channel may say what the command is (a menu key,
  /help); otherwise the text is compared with the words and prefixes every command route declares,
  across the whole tree, before any text route is tried. So a command word always means the command,
  whichever feature declares it and wherever that feature is included;
- other text, and typed words whose command routes all declined, go to the `text` routes whose
  filters all pass.

A handler returns its replies, or None to pass the message on to the next matching route (the
policy answerer passes on a question inside a form it cannot answer, say). Middlewares on the root
wrap the whole dispatch and see which route handled the message and its flags.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handlers.messages import Command, Inbound, Reply
from handlers.text import compact
from knowledge.analyzer import normalize

if TYPE_CHECKING:
    from handlers.context import Context

Handler = Callable[[Inbound, "Context"], Awaitable[list[Reply] | None]]
Filter = Callable[[Inbound, "Context"], bool]


@dataclass(frozen=True)
class Route:
    """One registered handler and what it applies to."""

    handler: Handler
    filters: tuple[Filter, ...] = ()
    flags: frozenset[str] = frozenset()
    """Marks that middlewares read (e.g. 'form': the route is the form's own)."""
    events: frozenset[str] = frozenset()
    """For event routes: the events it takes; empty for every event."""
    command: Command | None = None
    words: frozenset[str] = frozenset()
    """For command routes: the compacted texts that mean the command."""
    prefixes: tuple[str, ...] = ()
    """For command routes: compacted beginnings that mean the command (退订1, 转人工，我要投诉)."""

    @property
    def name(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"

    def passes(self, inbound: Inbound, ctx: Context) -> bool:
        return all(f(inbound, ctx) for f in self.filters)

    def means(self, word: str) -> bool:
        return word in self.words or (bool(word) and word.startswith(self.prefixes))


@dataclass(frozen=True)
class Handled:
    """The route that answered a message, and its replies."""

    route: Route
    replies: list[Reply]


Dispatch = Callable[[Inbound, "Context"], Awaitable[Handled | None]]
Middleware = Callable[[Dispatch, Inbound, "Context"], Awaitable[Handled | None]]


@dataclass
class Router:
    """Routes of one feature, and the routers it includes after them."""

    name: str
    _events: list[Route] = field(default_factory=list)
    _commands: list[Route] = field(default_factory=list)
    _texts: list[Route] = field(default_factory=list)
    _children: list[Router] = field(default_factory=list)
    _middlewares: list[Middleware] = field(default_factory=list)

    # -- registering ----------------------------------------------------------------------------
    def event(self, *events: str, flags: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        """Registers a handler for the named events (every event when none is named)."""
        return self._register(self._events, lambda h: Route(h, flags=frozenset(flags), events=frozenset(events)))

    def command(
        self,
        command: Command,
        *filters: Filter,
        words: Iterable[str] = (),
        prefixes: Iterable[str] = (),
        flags: Iterable[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Registers a handler for `command`, which candidates may also type as one of `words`
        (compared without spaces, punctuation or case) or as text starting with one of `prefixes`."""
        typed = frozenset(compact(w) for w in (*words, command.label))
        starts = tuple(compact(p) for p in prefixes)
        return self._register(
            self._commands,
            lambda h: Route(h, filters, frozenset(flags), command=command, words=typed, prefixes=starts),
        )

    def text(self, *filters: Filter, flags: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        """Registers a handler for text that is no command, when every filter passes."""
        return self._register(self._texts, lambda h: Route(h, filters, frozenset(flags)))

    def middleware(self, middleware: Middleware) -> Middleware:
        """Wraps this router's dispatch (use on the root: it sees every message)."""
        self._middlewares.append(middleware)
        return middleware

    def include_router(self, router: Router) -> Router:
        if router is self or router in self._children:
            raise ValueError(f"router {router.name} included twice")
        self._children.append(router)
        return router

    @staticmethod
    def _register(routes: list[Route], make: Callable[[Handler], Route]) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            routes.append(make(handler))
            return handler

        return decorate

    # -- routing --------------------------------------------------------------------------------
    def routes(self, kind: str) -> Iterator[Route]:
        """Every route of `kind` ('event', 'command', 'text') in this tree, in routing order."""
        yield from {"event": self._events, "command": self._commands, "text": self._texts}[kind]
        for child in self._children:
            yield from child.routes(kind)

    def command_meant(self, inbound: Inbound, ctx: Context) -> Command | None:
        """The command a message means, as `dispatch` would take it: the channel's, else the first
        command route of this tree whose words the typed text matches; None for an event or plain
        text. For middlewares that decide before dispatching (handoff mode lets some commands by)."""
        if inbound.event:
            return None
        if inbound.command is not None:
            return inbound.command
        word = command_word(inbound.text)
        return next((r.command for r in self.routes("command") if r.means(word) and r.passes(inbound, ctx)), None)

    async def dispatch(self, inbound: Inbound, ctx: Context) -> Handled | None:
        """Runs the first matching handler that answers; None when none did."""
        call: Dispatch = self._dispatch
        for middleware in reversed(self._middlewares):
            call = _wrap(middleware, call)
        return await call(inbound, ctx)

    async def _dispatch(self, inbound: Inbound, ctx: Context) -> Handled | None:
        if inbound.event:
            return await _first(
                inbound, ctx, (r for r in self.routes("event") if not r.events or inbound.event in r.events)
            )
        if inbound.command is not None:
            return await _first(inbound, ctx, (r for r in self.routes("command") if r.command == inbound.command))
        word = command_word(inbound.text)
        handled = await _first(inbound, ctx, (r for r in self.routes("command") if r.means(word)))
        return handled or await _first(inbound, ctx, self.routes("text"))


def command_word(text: str) -> str:
    """What a command route compares: compacted, in simplified characters (訂閱截止提醒 is 订阅截止提醒).
    Commands are short; a long message is not converted, only compacted."""
    return compact(normalize(text) if len(text) <= 40 else text)


async def _first(inbound: Inbound, ctx: Context, routes: Iterable[Route]) -> Handled | None:
    for route in routes:
        if not route.passes(inbound, ctx):
            continue
        replies = await route.handler(inbound, ctx)
        if replies is not None:
            return Handled(route, replies)
    return None


def _wrap(middleware: Middleware, call: Dispatch) -> Dispatch:
    async def wrapped(inbound: Inbound, ctx: Context) -> Handled | None:
        return await middleware(call, inbound, ctx)

    return wrapped
