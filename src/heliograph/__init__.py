"""Heliograph: a self-hostable server that speaks the Sunshine Conversations API v2."""

__version__ = "0.1.0"
