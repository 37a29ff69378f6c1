"""Rewrite passes. Each module has ``RULES`` (with their docs) and ``check(ctx)`` yielding
findings with fixes; :mod:`slimfile.pipeline` lists them in order."""
