"""Console pages. Every module here exports `routes: list[BaseRoute]`; `bot.console.app` collects
them all, so a new page is one new module (see `audit.py` for a small example)."""
