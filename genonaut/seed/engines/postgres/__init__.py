"""PostgreSQL through psycopg2: catalogs, row selection, COPY out and in, staged loading and
verification; `adapter.ENGINE` is the `core.engine.Engine` the commands use."""
