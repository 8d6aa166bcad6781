"""SQLite (stdlib sqlite3), one module per operation, as for PostgreSQL:

connection  URL (sqlite:///path), read-only mode=ro, explicit transactions, a traced Session
catalog     the schema as `Schema` records ("main" read as "public"), plus WITHOUT ROWID,
            rowid alias, AUTOINCREMENT, triggers in a `Catalog`
row_source  `SQLiteRows`: the selection's row questions (row_queries: the SQL pieces)
values      each value as a COPY-text field that loads back with its storage class
dump        a table's rows (all, or by key) in key order, streamed; a whole directory
load        fixture files into a database in one transaction
verify      fixture rows present and unchanged; orphans per relation
clone       copy (backup API), empty copy of the schema, drop
adapter     `ENGINE`, the `core.engine.Engine` the commands use
"""
