"""Heliograph's channel simulator (docs/channels.md): fakes of the channels' APIs, served over HTTP."""
