"""Telegram updates as the Bot API documents them, written by hand for these tests (not copied).

Source: core.telegram.org/bots/api#update, #message, #callbackquery and #location (the objects' fields);
the shapes are those of the examples in docs/channels.md's research (a private chat's text, a button press).
"""

from __future__ import annotations

ANN = {"id": 111, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "username": "annlee", "language_code": "en"}
PRIVATE = {"id": 111, "type": "private", "first_name": "Ann"}

TEXT = {"update_id": 10000, "message": {"message_id": 1365, "from": ANN, "chat": PRIVATE, "date": 1700000000,
                                         "text": "hi"}}
LOCATION = {"update_id": 10001, "message": {"message_id": 1366, "from": ANN, "chat": PRIVATE, "date": 1700000005,
                                             "location": {"latitude": 45.5017, "longitude": -73.5673}}}
BUTTON = {"update_id": 10002, "callback_query": {
    "id": "4382bfdwdsb323b2d9", "from": ANN, "chat_instance": "-42",
    "message": {"message_id": 1367, "from": {"id": 999, "is_bot": True, "first_name": "Shop"}, "chat": PRIVATE,
                "date": 1700000010, "text": "Pick one"},
    "data": "5f74a0d52b5315fc007e7900:1"}}
GROUP = {"update_id": 10003, "message": {"message_id": 7, "from": ANN, "date": 1700000020, "text": "hello all",
                                          "chat": {"id": -100200, "type": "group", "title": "Friends"}}}
EDITED = {"update_id": 10004, "edited_message": {**TEXT["message"], "edit_date": 1700000030, "text": "hi!"}}
STICKER = {"update_id": 10005, "message": {"message_id": 1368, "from": ANN, "chat": PRIVATE, "date": 1700000040,
                                            "sticker": {"file_id": "CAAC", "width": 512, "height": 512}}}
