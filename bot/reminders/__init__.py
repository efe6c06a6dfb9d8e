"""Reminders and broadcasts: planning due messages into the outbox, dispatching them, and the one
elected process that runs both on a schedule."""
