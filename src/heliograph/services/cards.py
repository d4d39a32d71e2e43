"""Card numbers in message text, masked (the app setting maskCreditCardNumbers).

A card number is a run of 13 to 19 ASCII digits, written together or in groups joined by one space or
one dash, that passes the Luhn check. Masked, each of its digits but the last four becomes `*` and the
separators stay: `4111 1111 1111 1111` → `**** **** **** 1111`. A longer run of groups is masked where a
stretch of whole groups in it is such a number (`ref 12 4111 1111 1111 1111`); any other digit run is
left as written. One precompiled scan finds the runs of 13 digits or more; only those are checked.
"""

from __future__ import annotations

import re
from typing import Any

TEXT_FIELDS = ("text", "htmlText", "altText")  # the content's own prose, every type
ITEM_FIELDS = ("title", "description")  # each carousel or list item's
_RUN = re.compile(r"[0-9](?:[ -]?[0-9]){12,}")
_GROUP = re.compile(r"[0-9]+")
_DIGIT = re.compile(r"[0-9]")


def mask_content(content: dict[str, Any]) -> dict[str, Any]:
    """The content with card numbers masked in its text fields; `content` itself when it holds none."""
    masked: dict[str, Any] = {k: mask(content[k]) for k in TEXT_FIELDS if k in content and _RUN.search(content[k])}
    items = content.get("items")
    if items and any(_RUN.search(item.get(k) or "") for item in items for k in ITEM_FIELDS):
        masked["items"] = [_mask_item(item) for item in items]
    return {**content, **masked} if masked else content


def _mask_item(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, **{k: mask(item[k]) for k in ITEM_FIELDS if isinstance(item.get(k), str)}}


def mask(text: str) -> str:
    """`text` with every card number in it masked."""
    return _RUN.sub(_mask_run, text)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    digits = run.replace(" ", "").replace("-", "")
    if len(digits) <= 19 and luhn(digits):
        return _masked(run)
    start, end = _card_groups(run)
    return run if start == end else run[:start] + _masked(run[start:end]) + run[end:]


def _card_groups(run: str) -> tuple[int, int]:
    """Where in `run` the first, longest stretch of whole groups is a card number; (0, 0) if none."""
    groups = list(_GROUP.finditer(run))
    for first in range(len(groups)):
        for last in range(len(groups) - 1, first, -1):
            digits = "".join(g.group() for g in groups[first:last + 1])
            if 13 <= len(digits) <= 19 and luhn(digits):
                return groups[first].start(), groups[last].end()
    return 0, 0


def _masked(card: str) -> str:
    """Every digit but the last four as `*`, the separators kept."""
    keep = len(card)
    for _ in range(4):
        keep = next(i for i in range(keep - 1, -1, -1) if card[i].isdigit())
    return _DIGIT.sub("*", card[:keep]) + card[keep:]


def luhn(digits: str) -> bool:
    """Whether the string of digits passes the Luhn (mod 10) check."""
    total = 0
    for n, char in enumerate(reversed(digits)):
        value = int(char) * (2 if n % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
