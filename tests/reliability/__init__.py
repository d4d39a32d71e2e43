"""Reliability: crashes, receiver outages, fuzzing, isolation and limits (issue 5)."""
