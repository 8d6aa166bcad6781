"""Database engines: one package per engine holds everything that speaks to it through its
driver (connecting, catalogs, choosing rows, dumping and loading them, verifying)."""
