"""OAuth routes (Authorize, GetToken, RevokeAccess, GetTokenInfo)."""

from __future__ import annotations

from heliograph.api.http import Routes

routes = Routes()
