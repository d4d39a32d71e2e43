"""The channels' APIs as this process calls them: one httpx client for all of them (its connection pool shared),
and each channel type's base URL: the setting's (HELIOGRAPH_CHANNEL_BASE_URL_<TYPE>), else the channel's own."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from heliograph.channels.base import Adapter

TIMEOUT = httpx.Timeout(20.0, connect=10.0)  # a channel's call: as long as a webhook's (the spec's 20 s)


class ChannelApis:
    def __init__(self, base_urls: Iterable[tuple[str, str]] = (), transport: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        self.base_urls = dict(base_urls)
        self._transport = transport  # tests: httpx's mock transport
        self._http: httpx.AsyncClient | None = None

    def base_url(self, channel: Adapter) -> str:
        return self.base_urls.get(channel.type, channel.default_base_url)

    @property
    def http(self) -> httpx.AsyncClient:
        """The client, made at the first call (a process that never calls a channel makes none)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=TIMEOUT, transport=self._transport, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
