"""Facts about a Dockerfile computed once and shared by every pass."""
