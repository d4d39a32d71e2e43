"""Form responses (services/form_responses.py): which answers fit a form, and the formResponse they make."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from heliograph.errors import BadRequest
from heliograph.schemas.end_users import FormResponseField
from heliograph.services import form_responses

FORM: dict[str, Any] = {"type": "form", "submitted": False, "fields": [
    {"type": "text", "name": "qty", "label": "How many?", "format": "decimal", "minSize": 2, "maxSize": 4},
    {"type": "email", "name": "mail", "label": "Email"},
    {"type": "select", "name": "size", "label": "Size",
     "options": [{"name": "s", "label": "Small"}, {"name": "l", "label": "Large"}]}]}
QTY = {"type": "text", "name": "qty", "text": "1.5"}
MAIL = {"type": "email", "name": "mail", "email": "ana@example.com", "label": "ignored"}
SIZE = {"type": "select", "name": "size", "select": [{"name": "s"}, {"name": "l", "label": "ignored"}]}


def answered(*fields: dict[str, Any], form: dict[str, Any] = FORM) -> dict[str, Any]:
    return form_responses.answer(form, msgspec.convert(list(fields), list[FormResponseField]))


def refusal(*fields: dict[str, Any], form: dict[str, Any] = FORM) -> str:
    with pytest.raises(BadRequest) as raised:
        answered(*fields, form=form)
    return raised.value.title


def test_answers_take_the_forms_order_and_labels() -> None:
    """Fields come back in the form's order, labelled (and select options named) as the form has them, with
    a textFallback of `label: value` lines."""
    assert {"type": "formResponse", "fields": [
        {"type": "text", "name": "qty", "label": "How many?", "text": "1.5"},
        {"type": "email", "name": "mail", "label": "Email", "email": "ana@example.com"},
        {"type": "select", "name": "size", "label": "Size",
         "select": [{"name": "s", "label": "Small"}, {"name": "l", "label": "Large"}]}],
        "textFallback": "How many?: 1.5\nEmail: ana@example.com\nSize: Small, Large"} == answered(SIZE, MAIL, QTY)


@pytest.mark.parametrize(("fields", "expected"), [
    ((QTY, MAIL), "fields: the form's field 'size' is not answered"),
    ((QTY, MAIL, SIZE, QTY), "fields: each field of the form is answered once"),
    ((QTY, MAIL, SIZE, {"type": "text", "name": "age", "text": "3"}), "fields[3].name: the form has no field 'age'"),
    (({"type": "email", "name": "qty", "email": "a@b.c"}, MAIL, SIZE),
     "fields[0].type: the form's field 'qty' is of type text"),
    (({"type": "text", "name": "qty", "email": "a@b.c"}, MAIL, SIZE),
     "fields[0]: a text field is answered by `text` alone"),
    (({**QTY, "select": [{"name": "s"}]}, MAIL, SIZE), "fields[0]: a text field is answered by `text` alone"),
    (({**QTY, "text": "1"}, MAIL, SIZE), "fields[0].text: from 2 to 4 characters"),
    (({**QTY, "text": "12345"}, MAIL, SIZE), "fields[0].text: from 2 to 4 characters"),
    (({**QTY, "text": "1,5"}, MAIL, SIZE), "fields[0].text: expected a decimal"),
    ((QTY, MAIL, {**SIZE, "select": [{"name": "xl"}]}), "fields[2].select: the field has no option 'xl'"),
    ((QTY, MAIL, {**SIZE, "select": [{"label": "Small"}]}),
     "fields[2].select[0].name is required: the name of one of the field's options"),
    ((QTY, MAIL, {**SIZE, "select": [{"name": "s"}, {"name": "s"}]}),
     "fields[2].select: an option is chosen at most once"),
])
def test_answers_that_do_not_fit_the_form_are_refused(fields: tuple[dict[str, Any], ...], expected: str) -> None:
    assert expected == refusal(*fields)


def test_a_text_field_defaults_to_the_specs_sizes_and_any_format() -> None:
    """Without minSize and maxSize a text answer has 1 to 128 characters; without format, any text."""
    form = {"type": "form", "fields": [{"type": "text", "name": "note", "label": "Note"}]}
    assert ("Note: x", "fields[0].text: from 1 to 128 characters") == (
        answered({"type": "text", "name": "note", "text": "x"}, form=form)["textFallback"],
        refusal({"type": "text", "name": "note", "text": "x" * 129}, form=form))


def test_only_a_form_can_be_answered() -> None:
    assert "quotedMessageId: the message is a text message, not a form" == refusal(
        QTY, form={"type": "text", "text": "hi"})
