"""Persistence: engine, models, repositories and migrations."""
