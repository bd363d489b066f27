"""Storage adapters: one set of SQL repositories over SQLite (default) or PostgreSQL."""
