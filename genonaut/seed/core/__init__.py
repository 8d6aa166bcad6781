"""The seed tool's pure core: schema graph, settings and rules, the fixture files on disk and
the load plan. Nothing here imports a database driver or opens a connection."""
