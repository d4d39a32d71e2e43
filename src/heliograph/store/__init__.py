"""Persistence: one module per resource holding its statements, the tables, the Database (transactions,
plans, group commit), the outbox, LISTEN/NOTIFY and the Alembic migrations."""
