"""Store-level tests on a database of each engine, without a server (the fast tier)."""
