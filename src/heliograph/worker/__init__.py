"""Webhook delivery: one pure attempt, a retry policy, and a small loop that claims and sends."""
