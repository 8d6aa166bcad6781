"""What the scripts and a Python caller do, on any engine: export, import, verify, check.

Each command reads the URL's scheme to pick the engine's adapter (`engines.engine_for`) and
leaves the decisions to the core: settings, rules, the selection's plan, the fixture files.
"""
