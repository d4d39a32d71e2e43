"""Attachments routes."""

from __future__ import annotations

from heliograph.api.http import Routes

routes = Routes()
