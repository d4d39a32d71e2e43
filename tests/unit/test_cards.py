"""Card-number masking (services/cards.py): which digit runs count, and the masked format."""

from __future__ import annotations

import pytest

from heliograph.services.cards import luhn, mask, mask_content


@pytest.mark.parametrize(("written", "expected"), [
    ("4111111111111111", "************1111"),
    ("4111 1111 1111 1111", "**** **** **** 1111"),
    ("4111-1111-1111-1111", "****-****-****-1111"),
    ("amex 3782 822463 10005.", "amex **** ****** *0005."),
    ("4222222222222", "*********2222"),  # 13 digits
    ("ref 12 4111 1111 1111 1111 ok", "ref 12 **** **** **** 1111 ok"),  # the card inside a longer run
    ("a 4111111111111111 b 5555555555554444", "a ************1111 b ************4444"),
])
def test_card_numbers_are_masked_but_the_last_four_digits(written: str, expected: str) -> None:
    """A Luhn-valid run of 13–19 digits, together or in groups joined by one space or dash, keeps its
    separators and its last four digits; every other digit becomes *."""
    assert expected == mask(written)


@pytest.mark.parametrize("written", [
    "1234 5678 9012 3456",  # Luhn fails
    "411111111111",  # 12 digits
    "phone 555-123-4567",
    "12345678901234567890123",  # one 23-digit run with no groups
    "4111  1111  1111  1111",  # two spaces do not join groups
    "٤١١١١١١١١١١١١١١١",  # non-ASCII digits are not card digits
    "no digits at all",
])
def test_other_digit_runs_are_left_as_written(written: str) -> None:
    """Runs that are not card numbers are untouched."""
    assert written == mask(written)


def test_mask_content_masks_the_text_fields_and_items() -> None:
    """text, htmlText, altText and each item's title and description are masked; other fields are not."""
    content = {"type": "carousel", "text": "1. 4111111111111111", "items": [
        {"title": "4111111111111111", "description": "x 4111111111111111",
         "actions": [{"type": "postback", "text": "Buy", "payload": "4111111111111111"}]}]}
    expected = {"type": "carousel", "text": "1. ************1111", "items": [
        {"title": "************1111", "description": "x ************1111",
         "actions": [{"type": "postback", "text": "Buy", "payload": "4111111111111111"}]}]}
    assert expected == mask_content(content)


def test_mask_content_returns_the_same_content_when_there_is_nothing_to_mask() -> None:
    """Without a digit run of 13 or more the content is returned as it is, not copied."""
    content = {"type": "text", "text": "Hello 12345", "htmlText": "<p>Hello</p>"}
    assert content is mask_content(content)


def test_luhn() -> None:
    """The Luhn check of well-known test numbers and of near misses."""
    assert [True, True, False, False] == [luhn("4111111111111111"), luhn("378282246310005"),
                                          luhn("4111111111111112"), luhn("1234567890123456")]
