"""Outbound HTTP driven from the outbox: webhooks today, bot endpoints and hookpoints later."""
