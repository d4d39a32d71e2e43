"""Service-level tests: the rules of heliograph.services on a connection, without a server (the fast tier)."""
