"""Event payloads, shaped as the spec's EventWebhooks describe them: pure builders, rows in, payloads out.

Webhook delivery uses them today; the realtime stream and the channels will send the same payloads.
They import only `schemas/` (and `ids`), so every room that sends events can import them.
"""
