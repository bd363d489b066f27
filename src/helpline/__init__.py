"""Helpline: a self-hosted live-chat server that speaks five vendors' integration APIs over one core."""

__version__ = "0.1.0"
