"""OAuth routes (Authorize, GetToken, RevokeAccess, GetTokenInfo) and the consent page they lead to.

Authorize, GetToken and GetTokenInfo have no security block in the spec (PUBLIC): GetToken
authenticates the client by its body, GetTokenInfo reads the access token itself. The consent page
(`/oauth/consent`, no operation of the spec) is where the owner of an app, signed in with an account
or app key through the browser's Basic-auth prompt, picks the app and allows or denies the request.
"""

from __future__ import annotations

import html

import msgspec

from heliograph.api.http import APP, FORM, JSON, PUBLIC, Call, Raw, Reply, Routes
from heliograph.errors import BadRequest
from heliograph.schemas.oauth import ConsentForm, GetTokenBody
from heliograph.services import oauth as service

routes = Routes()
consent = Routes()  # outside the spec: listed in heliograph.api.OUTSIDE_SPEC
INTEGRATION_ONLY = frozenset({"integration"})
_NO_STORE = (("cache-control", "no-store"), ("pragma", "no-cache"))
_PAGE_HEADERS = (*_NO_STORE, ("x-frame-options", "DENY"), ("referrer-policy", "no-referrer"),
                 ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"))


def _redirect(location: str) -> Reply:
    return 302, Raw(f"Found. Redirecting to {location}".encode(), "text/plain; charset=utf-8",
                    (("location", location), *_NO_STORE))


@routes("GET", "/oauth/authorize", "Authorize", PUBLIC)
async def authorize(call: Call) -> Reply:
    """GET /oauth/authorize (Authorize): on to the consent page, or back to the client with an error."""
    async with call.services.db.write() as conn:
        location = await service.authorize(
            conn, ids=call.services.ids, client_id=call.query_value("client_id"),
            response_type=call.query_value("response_type"), state=call.query_value("state"),
            redirect_uri=call.query_value("redirect_uri"))
    return _redirect(location)


@routes("POST", "/oauth/token", "GetToken", PUBLIC, JSON | {FORM})
async def get_token(call: Call) -> Reply:
    """POST /oauth/token (GetToken): the client trades its code for an access token."""
    body = call.body(GetTokenBody)
    async with call.services.db.write() as conn:
        token = await service.get_token(conn, ids=call.services.ids, body=body)
    if isinstance(token, service.CodeReused):  # the revocation has committed: now the refusal
        if token.revoked is not None:
            call.services.auth.forget(token.revoked)
        raise token
    return 200, Raw(msgspec.json.encode(token), "application/json; charset=utf-8", _NO_STORE)


@routes("DELETE", "/oauth/authorization", "RevokeAccess", INTEGRATION_ONLY)
async def revoke_access(call: Call) -> Reply:
    """DELETE /oauth/authorization (RevokeAccess): the token's integration, webhooks and tokens go."""
    async with call.services.db.write() as conn:
        integration_id = await service.revoke_access(conn, principal=call.principal)
    call.services.auth.forget_integration(integration_id)
    return 200, {}


@routes("GET", "/v2/tokenInfo", "GetTokenInfo", PUBLIC)
async def get_token_info(call: Call) -> Reply:
    """GET /v2/tokenInfo (GetTokenInfo): the app an OAuth access token is for."""
    principal = await call.services.auth.authenticate(call.authorization)
    async with call.services.db.read() as conn:
        return 200, {"app": await service.get_token_info(conn, principal=principal)}


@consent("GET", "/oauth/consent", "OAuthConsentPage", APP)
async def consent_page(call: Call) -> Reply:
    """GET /oauth/consent?request=…: the Allow / Deny page for one authorization request."""
    request_id = call.query_value("request")
    if not request_id:
        raise BadRequest("Missing required query parameter `request`")
    async with call.services.db.read() as conn:
        shown = await service.consent(conn, request_id=request_id, principal=call.principal,
                                      now=call.services.ids.clock())
    return 200, Raw(_page(shown).encode(), "text/html; charset=utf-8", _PAGE_HEADERS)


@consent("POST", "/oauth/consent", "OAuthConsentAnswer", APP, frozenset({FORM}))
async def consent_answer(call: Call) -> Reply:
    """POST /oauth/consent: the page's form; back to the client with a code or `access_denied`."""
    form = call.body(ConsentForm)
    async with call.services.db.write() as conn:
        location = await service.decide(conn, now=call.services.ids.clock(), form=form, principal=call.principal)
    return _redirect(location)


def _page(shown: dict[str, object]) -> str:
    e = html.escape
    apps = shown["apps"]
    assert isinstance(apps, list)
    options = "".join(f'<option value="{e(i)}">{e(name)} ({e(i)})</option>' for i, name in apps)
    choose = (f'<label>App <select name="app_id" required>{options}</select></label>' if apps
              else "<p>There is no app to connect yet: create one first.</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect {e(str(shown["client"]))}</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:3em auto;padding:0 1em;line-height:1.5}}
select{{display:block;max-width:100%;margin-top:.25em;font:inherit}}
button{{font:inherit;padding:.3em 1em}}</style></head>
<body><h1>Connect {e(str(shown["client"]))}?</h1>
<p><strong>{e(str(shown["client"]))}</strong> asks to connect to an app of this Heliograph server. It will be able to
read, create and change the app's users and conversations (messages included), and to manage webhooks of
its own. It will not see the app's settings, keys, other integrations or their webhooks.</p>
<form method="post" action="consent">
<input type="hidden" name="request" value="{e(str(shown["request"]))}">
<input type="hidden" name="csrf" value="{e(str(shown["csrf"]))}">
<p>{choose}</p>
<p><button name="decision" value="allow"{"" if apps else " disabled"}>Allow</button>
<button name="decision" value="deny" formnovalidate>Deny</button></p>
</form></body></html>
"""
