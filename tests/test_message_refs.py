"""DownloadMessageRef and PostConversionEvents: validated as the spec says, then refused with 502 bad_gateway,
since their answers would come from Apple Messages for Business and Meta, which Heliograph does not reach."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.utils import MISSING_ID, http_error, sdk_error

REF = {"url": "https://p61-content.icloud.com/M58C0A1A2EB6", "bid": "com.apple.messages.MSMessageExtension",
       "key": "00c0d1827fdc858fe7b4", "signature": "81a619c81da5a01c6139", "owner": "M58C0A2A1EB62B4E859B4F"}
EVENTS = {"payload": {"data": [{"action_source": "business_messaging", "event_name": "TestEvent",
                                "event_time": 1752161233, "messaging_channel": "instagram"}]}}
INTEGRATIONS = {"apple": {"businessId": "biz-1", "apiSecret": "apple-secret", "mspId": "msp-1"},
                "messenger": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
                "instagram": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
                "whatsapp": {}}


def integrate(http: httpx.Client, app_id: str, kind: str) -> None:
    response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": kind, **INTEGRATIONS[kind]})
    assert 201 == response.status_code, response.text


def download_body(user_id: str, **ref: Any) -> sc.DownloadMessageRefBody:
    return sc.DownloadMessageRefBody(user_id=user_id, apple=sc.DownloadMessageRefBodyAllOfApple(
        interactive_data_ref=sc.DownloadMessageRefBodyAllOfAppleInteractiveDataRef(**{**REF, **ref})))


def download(api: sc.ApiClient, app_id: str, conversation_id: str, body: sc.DownloadMessageRefBody) -> Any:
    return sc.ConversationsApi(api).download_message_ref(app_id, conversation_id, body)


def conversion_body(channel: str) -> sc.ConversionEventsBody:
    event = sc.MetaConversionEvent.from_dict(EVENTS)
    model = {"messenger": sc.MessengerConversionEventsBody, "instagram": sc.InstagramConversionEventsBody,
             "whatsapp": sc.WhatsAppConversionEventsBody}[channel]
    return sc.ConversionEventsBody(model(**{channel: event}))


# --- DownloadMessageRef -------------------------------------------------------------------------

def test_download_with_an_apple_integration_is_502(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                   user: sc.User, conversation_id: str) -> None:
    """A valid ref for an app with an apple integration: 502 bad_gateway, since Apple is out of reach."""
    integrate(http, app_id, "apple")
    with pytest.raises(sc.ApiException) as raised:
        download(account, app_id, conversation_id, download_body(user.id))
    assert (502, "bad_gateway", "Cannot download the message ref: this Heliograph server does not connect to "
            "Apple Messages for Business") == sdk_error(raised)


def test_download_without_an_apple_integration_is_400(account: sc.ApiClient, app_id: str, user: sc.User,
                                                      conversation_id: str) -> None:
    """An app without an apple integration has no channel to download from: 400."""
    with pytest.raises(sc.ApiException) as raised:
        download(account, app_id, conversation_id, download_body(user.id))
    assert (400, "bad_request", "The app has no apple integration") == sdk_error(raised)


def test_download_without_apple_is_400(account: sc.ApiClient, app_id: str, user: sc.User,
                                       conversation_id: str) -> None:
    """Only the apple channel is supported, so `apple` must be given."""
    with pytest.raises(sc.ApiException) as raised:
        download(account, app_id, conversation_id, sc.DownloadMessageRefBody(user_id=user.id))
    assert (400, "bad_request", "Missing required field `apple`: only the apple channel is supported") == (
        sdk_error(raised))


@pytest.mark.parametrize("body, title", [
    ({"apple": {"interactiveDataRef": REF}}, "Missing required field `userId`"),
    ({"userId": 5, "apple": {"interactiveDataRef": REF}}, "Invalid userId: Expected `str`, got `int`"),
    ({"userId": MISSING_ID, "apple": {}}, "Missing required field `interactiveDataRef` in apple"),
    ({"userId": MISSING_ID, "apple": {"interactiveDataRef": {k: v for k, v in REF.items() if k != "owner"}}},
     "Missing required field `owner` in apple.interactiveDataRef"),
    ({"userId": MISSING_ID, "apple": {"interactiveDataRef": {**REF, "key": 1}}},
     "Invalid apple.interactiveDataRef.key: Expected `str`, got `int`"),
])
def test_download_body_is_validated(http: httpx.Client, app_id: str, conversation_id: str, body: Any,
                                    title: str) -> None:
    """userId is required; an apple ref needs interactiveDataRef with url, bid, key, signature and owner."""
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/download", json=body)
    assert (400, "bad_request", title) == http_error(response)


def test_download_for_an_unknown_conversation_is_404(account: sc.ApiClient, app_id: str, user: sc.User) -> None:
    """An unknown conversation: 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        download(account, app_id, MISSING_ID, download_body(user.id))
    assert (404, "conversation_not_found", "Conversation not found") == sdk_error(raised)


def test_download_for_an_unknown_user_is_404(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                             conversation_id: str) -> None:
    """A userId that names no user of the app: 404 user_not_found."""
    integrate(http, app_id, "apple")
    with pytest.raises(sc.ApiException) as raised:
        download(account, app_id, conversation_id, download_body(MISSING_ID))
    assert (404, "user_not_found", "User not found") == sdk_error(raised)


# --- PostConversionEvents -----------------------------------------------------------------------

@pytest.mark.parametrize("channel", ["messenger", "instagram", "whatsapp"])
def test_conversion_events_with_the_integration_are_502(account: sc.ApiClient, http: httpx.Client, app_id: str,
                                                        conversation_id: str, channel: str) -> None:
    """Valid events for an app with the channel's integration: 502 bad_gateway, since Meta is out of reach."""
    integrate(http, app_id, channel)
    with pytest.raises(sc.ApiException) as raised:
        sc.ConversationsApi(account).post_conversion_events(app_id, conversation_id, conversion_body(channel))
    assert (502, "bad_gateway", "Cannot send the conversion events: this Heliograph server does not connect to "
            "Meta's Conversions API") == sdk_error(raised)


def test_conversion_events_without_the_integration_are_400(account: sc.ApiClient, http: httpx.Client,
                                                           app_id: str, conversation_id: str) -> None:
    """Events for a channel the app has no integration of: 400 (an integration of another channel does not do)."""
    integrate(http, app_id, "messenger")
    with pytest.raises(sc.ApiException) as raised:
        sc.ConversationsApi(account).post_conversion_events(app_id, conversation_id, conversion_body("whatsapp"))
    assert (400, "bad_request", "The app has no whatsapp integration") == sdk_error(raised)


@pytest.mark.parametrize("body, title", [
    ({}, "Exactly one of messenger, instagram, whatsapp is required"),
    ({"messenger": EVENTS, "whatsapp": EVENTS}, "Exactly one of messenger, instagram, whatsapp is required"),
    ({"messenger": {}}, "Missing required field `payload` in messenger"),
    ({"instagram": {"payload": {}}}, "Missing required field `data` in instagram.payload"),
    ({"whatsapp": {"payload": {"data": {"event_name": "x"}}}},
     "Invalid whatsapp.payload.data: Expected `array`, got `object`"),
    ({"whatsapp": {"payload": {"data": ["x"]}}}, "Invalid whatsapp.payload.data[0]: Expected `object`, got `str`"),
    ([EVENTS], "Invalid request body: Expected `object`, got `array`"),
])
def test_conversion_events_body_is_validated(http: httpx.Client, app_id: str, conversation_id: str, body: Any,
                                             title: str) -> None:
    """One of messenger, instagram or whatsapp (oneOf), holding payload.data: an array of objects."""
    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/conversionEvents", json=body)
    assert (400, "bad_request", title) == http_error(response)


def test_conversion_events_for_an_unknown_conversation_are_404(account: sc.ApiClient, app_id: str) -> None:
    """An unknown conversation: 404 conversation_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        sc.ConversationsApi(account).post_conversion_events(app_id, MISSING_ID, conversion_body("messenger"))
    assert (404, "conversation_not_found", "Conversation not found") == sdk_error(raised)


def test_conversion_events_for_an_unknown_app_are_404(account: sc.ApiClient) -> None:
    """An unknown app: 404 app_not_found."""
    with pytest.raises(sc.ApiException) as raised:
        sc.ConversationsApi(account).post_conversion_events(MISSING_ID, MISSING_ID, conversion_body("messenger"))
    assert (404, "app_not_found", "App not found") == sdk_error(raised)
