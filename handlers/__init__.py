"""Conversation logic: one module per feature; handlers never import a channel SDK."""
