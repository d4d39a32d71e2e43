"""Attachments for tests: a one-pixel PNG, UploadAttachment through the official SDK, an image message."""

from __future__ import annotations

import base64
from typing import Any

import sunshine_conversations_client as sc

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
                       "AABJRU5ErkJggg==")  # one pixel


def upload(api: sc.ApiClient, app_id: str, source: Any, **query: Any) -> sc.AttachmentSchema:
    return sc.AttachmentsApi(api).upload_attachment(app_id, "public", source, **query).attachment


def image(url: str, **fields: Any) -> sc.Content:
    return sc.Content(sc.ImageMessage(type="image", media_url=url, **fields))
