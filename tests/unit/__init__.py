"""Pure unit tests: no database, no server (the fast tier, with tests/store and tests/services)."""
