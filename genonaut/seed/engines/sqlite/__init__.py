"""SQLite (stdlib sqlite3): connecting, the schema, the fixture encoding, dump, load, verify."""
