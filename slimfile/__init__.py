"""slimfile: rewrite Dockerfiles so that images get smaller and rebuild faster."""

__version__ = "0.1.0"
