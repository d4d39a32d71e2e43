"""App settings that change what a message says: maskCreditCardNumbers and useAnimalNames, through the SDK."""

from __future__ import annotations

import sunshine_conversations_client as sc

from heliograph.services.animals import animal_name
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.utils import make_conversation, make_user, post, text

CARD = "Pay with 4111 1111 1111 1111 please"
MASKED = "Pay with **** **** **** 1111 please"


def _settings(account: sc.ApiClient, app_id: str, **settings: bool) -> None:
    sc.AppsApi(account).update_app(app_id, sc.AppUpdateBody(settings=sc.AppSettings(**settings)))


def _listed_texts(account: sc.ApiClient, app_id: str, conversation_id: str) -> list[str]:
    listed = sc.MessagesApi(account).list_messages(app_id, conversation_id).messages
    return [m.content.actual_instance.text for m in listed]


def _user_author(user: sc.User) -> sc.Author:
    return sc.Author(type="user", user_id=user.id)


# --- maskCreditCardNumbers ------------------------------------------------------------------

def test_card_number_is_masked_in_the_response_and_the_list(account: sc.ApiClient, app_id: str,
                                                            conversation_id: str) -> None:
    """By default a Luhn-valid card number comes back from PostMessage and ListMessages masked, last 4 kept."""
    sent = post(account, app_id, conversation_id, text(CARD))
    assert [MASKED, MASKED] == [sent.content.actual_instance.text,
                                *_listed_texts(account, app_id, conversation_id)]


def test_card_number_is_masked_in_every_text_field(account: sc.ApiClient, app_id: str,
                                                   conversation_id: str) -> None:
    """markdownText's htmlText and the plain text made from it are masked too; dashes are kept."""
    content = sc.Content(sc.TextMessage(type="text", markdown_text="Card **4111-1111-1111-1111**"))
    sent = post(account, app_id, conversation_id, content).content.actual_instance
    assert ("<p>Card <strong>****-****-****-1111</strong></p>", "Card ****-****-****-1111") == (
        sent.html_text, sent.text)


def test_non_luhn_digit_runs_are_left_alone(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """Digit runs that are not card numbers (Luhn fails, or too short) stay as written."""
    written = "Order 1234 5678 9012 3456, phone 555-123-4567, tracking 12345678901234567890123"
    sent = post(account, app_id, conversation_id, text(written))
    assert [written, written] == [sent.content.actual_instance.text, *_listed_texts(account, app_id, conversation_id)]


def test_card_number_is_kept_when_the_setting_is_off(account: sc.ApiClient, app_id: str,
                                                     conversation_id: str) -> None:
    """With maskCreditCardNumbers false the text is stored and returned as sent."""
    _settings(account, app_id, mask_credit_card_numbers=False)
    sent = post(account, app_id, conversation_id, text(CARD))
    assert [CARD, CARD] == [sent.content.actual_instance.text, *_listed_texts(account, app_id, conversation_id)]


def test_card_number_is_masked_in_the_webhook_event(account: sc.ApiClient, app_id: str, conversation_id: str,
                                                    receiver: Receiver) -> None:
    """The conversation:message event carries the masked text: the number is never sent anywhere."""
    custom_integration(account, app_id, receiver.url, ["conversation:message"])
    post(account, app_id, conversation_id, text(CARD))
    [event] = receiver.wait_for(lambda got: len(got) >= 1)
    assert MASKED == event["payload"]["message"]["content"]["text"]


# --- useAnimalNames -------------------------------------------------------------------------

def test_unnamed_user_gets_a_stable_animal_name(account: sc.ApiClient, app_id: str) -> None:
    """With useAnimalNames a user author without givenName or surname is shown by the same animal name
    in every message, derived from the user's id."""
    _settings(account, app_id, use_animal_names=True)
    user = make_user(account, app_id, external_id="anon")
    conversation_id = str(make_conversation(account, app_id, user).id)
    names = [post(account, app_id, conversation_id, text(n), _user_author(user)).author.display_name
             for n in ("one", "two")]
    listed = sc.MessagesApi(account).list_messages(app_id, conversation_id).messages
    expected = animal_name(user.id)
    assert [expected] * 4 == names + [m.author.display_name for m in listed]
    assert 2 == len(expected.split())


def test_no_animal_name_without_the_setting(account: sc.ApiClient, app_id: str, user: sc.User,
                                            conversation_id: str) -> None:
    """By default (useAnimalNames false) an unnamed user author has no displayName."""
    sent = post(account, app_id, conversation_id, text("Hi"), _user_author(user))
    assert None is sent.author.display_name


def test_named_user_keeps_their_name(account: sc.ApiClient, app_id: str) -> None:
    """An animal name is only for the unnamed: a profile name, and a displayName in the body, come first."""
    _settings(account, app_id, use_animal_names=True)
    user = make_user(account, app_id, external_id="named",
                     profile=sc.Profile(given_name="Ana", surname="Lima"))
    conversation_id = str(make_conversation(account, app_id, user).id)
    profile = post(account, app_id, conversation_id, text("Hi"), _user_author(user)).author.display_name
    body = post(account, app_id, conversation_id, text("Hi"),
                sc.Author(type="user", user_id=user.id, display_name="Annie")).author.display_name
    assert ("Ana Lima", "Annie") == (profile, body)
