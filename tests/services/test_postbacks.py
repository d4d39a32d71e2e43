"""Postbacks (services/postbacks.py): how an actionId names a button, and which buttons can be clicked."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import BadRequest, NotFound
from heliograph.services import postbacks

MESSAGE_ID = "0123456789abcdef01234567"
YES = {"type": "postback", "text": "Yes", "payload": "YES"}
LINK = {"type": "link", "text": "Site", "uri": "https://shop.example"}
CONTENT: dict[str, Any] = {"type": "carousel", "actions": [LINK, YES], "items": [
    {"title": "Tea", "actions": [LINK, {**YES, "payload": "TEA"}]}]}


def test_an_action_id_names_a_message_and_a_place() -> None:
    assert ((MESSAGE_ID, (1,)), (MESSAGE_ID, (0, 12))) == (
        postbacks.parse_action_id(f"{MESSAGE_ID}:1"), postbacks.parse_action_id(f"{MESSAGE_ID}:0:12"))


@pytest.mark.parametrize("action_id", [
    MESSAGE_ID, f"{MESSAGE_ID}:", f"{MESSAGE_ID}:x", f"{MESSAGE_ID}:-1", f"{MESSAGE_ID}:1:2:3", "abc:1",
    f"{MESSAGE_ID}:99999"])
def test_malformed_action_ids_are_400(action_id: str) -> None:
    with pytest.raises(BadRequest):
        postbacks.parse_action_id(action_id)


def test_postback_actions_of_the_content_and_of_its_items_are_found() -> None:
    assert ("YES", "TEA") == (postbacks.find_action(CONTENT, (1,), "a")["payload"],
                              postbacks.find_action(CONTENT, (0, 1), "a")["payload"])


@pytest.mark.parametrize(("path", "error"), [
    ((0,), BadRequest), ((0, 0), BadRequest), ((2,), NotFound), ((1, 0), NotFound), ((0, 2), NotFound)])
def test_other_actions_are_400_and_missing_ones_404(path: tuple[int, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        postbacks.find_action(CONTENT, path, "a")
