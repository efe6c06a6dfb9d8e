"""Benchmarks: tools, not product. Not installed with the bot (see pyproject's packages.find);
run from a checkout as `python -m benchmarks.<name>` (qa, chat, console, draft, reminders, wechat)."""
