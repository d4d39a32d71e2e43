"""The migrations' head as `store.migrate` reads it without Alembic (to skip Alembic on a migrated database)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from heliograph.store.migrate import alembic_config, head_revision


def test_the_head_read_from_the_files_is_alembics() -> None:
    """head_revision, read from the revision files' text, is the head Alembic itself computes."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
