"""OAuth bodies: GetToken's (snake_case on the wire, as the spec writes it) and the consent form's."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from heliograph.schemas.common import Struct

Text = Annotated[str, Meta(max_length=2048)]


class GetTokenBody(Struct, rename=None):
    code: Text
    grant_type: Text
    client_id: Text
    client_secret: Text


class ConsentForm(Struct, rename=None):
    """The consent page's form: which request, its CSRF token, the app chosen, and the answer."""

    request: Text
    csrf: Text
    decision: Literal["allow", "deny"]
    app_id: Text = ""
