"""The one error model: every failure the API reports is an ApiError, rendered as the spec's envelope.

    ApiError (status, code, title)
    ├── BadRequest            400 bad_request
    │   └── TooManySwitchboardIntegrations  too_many_switchboard_integrations
    ├── Unauthorized          401 unauthorized
    ├── Forbidden             403 forbidden
    ├── NotFound              404 not_found
    │   ├── AppNotFound                     app_not_found
    │   ├── UserNotFound                    user_not_found
    │   ├── ConversationNotFound            conversation_not_found
    │   ├── IntegrationNotFound             integration_not_found
    │   ├── ClientNotFound                  client_not_found
    │   ├── DeviceNotFound                  device_not_found
    │   ├── SwitchboardNotFound             switchboard_not_found
    │   └── SwitchboardIntegrationNotFound  switchboard_integration_not_found
    ├── MethodNotAllowed      405 method_not_allowed
    ├── Conflict              409 conflict
    ├── PayloadTooLarge       413 payload_too_large
    ├── UnsupportedMediaType  415 unsupported_media_type
    ├── Locked                423 locked
    └── BadGateway            502 bad_gateway

Keys, messages, webhooks and deliveries answer a plain NotFound ("Key not found", …): the spec gives
them no code of their own.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    code = "internal_error"
    default_title = "Internal server error"

    def __init__(self, title: str | None = None) -> None:
        self.title = title or self.default_title
        super().__init__(self.title)

    def envelope(self) -> dict[str, list[dict[str, str]]]:
        return {"errors": [{"code": self.code, "title": self.title}]}


class BadRequest(ApiError):
    status, code, default_title = 400, "bad_request", "Bad request"


class Unauthorized(ApiError):
    status, code, default_title = 401, "unauthorized", "Authorization is required"


class Forbidden(ApiError):
    status, code, default_title = 403, "forbidden", "Forbidden"


class NotFound(ApiError):
    status, code, default_title = 404, "not_found", "Resource not found"


class AppNotFound(NotFound):
    code, default_title = "app_not_found", "App not found"


class UserNotFound(NotFound):
    code, default_title = "user_not_found", "User not found"


class ConversationNotFound(NotFound):
    code, default_title = "conversation_not_found", "Conversation not found"


class IntegrationNotFound(NotFound):
    code, default_title = "integration_not_found", "Integration not found"


class MethodNotAllowed(ApiError):
    status, code, default_title = 405, "method_not_allowed", "Method not allowed"


class Conflict(ApiError):
    status, code, default_title = 409, "conflict", "Conflict"


class PayloadTooLarge(ApiError):
    status, code, default_title = 413, "payload_too_large", "Request body is too large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"
    default_title = "Content-Type must be application/json"


class Locked(ApiError):
    status, code, default_title = 423, "locked", "Locked"


class ClientNotFound(NotFound):
    code, default_title = "client_not_found", "Client not found"


class DeviceNotFound(NotFound):
    code, default_title = "device_not_found", "Device not found"


# --- switchboards (NotFound and BadRequest subclasses) -------------------------------------------

class SwitchboardNotFound(NotFound):
    code, default_title = "switchboard_not_found", "Switchboard not found"


class SwitchboardIntegrationNotFound(NotFound):
    code, default_title = "switchboard_integration_not_found", "SwitchboardIntegration not found"


class TooManySwitchboardIntegrations(BadRequest):
    code = "too_many_switchboard_integrations"
    default_title = "Switchboard has reached the max number of switchboard integrations (10)"


class BadGateway(ApiError):
    """502: the answer would come from a service Heliograph does not reach (Apple, Meta)."""

    status, code, default_title = 502, "bad_gateway", "Bad gateway"
