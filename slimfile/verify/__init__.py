"""``slimfile verify``: prove a rewrite with real builds.

Builds the original and the rewritten Dockerfile with the Docker engine at ``DOCKER_HOST``
(BuildKit), then compares size, layers, cold and warm build, config, files and, on request, what
a command prints. Entry point: :func:`slimfile.verify.session.verify`.
"""

from slimfile.verify.report import EXIT_DIFFERENCE, EXIT_ERROR, EXIT_VERIFIED, VerifyReport
from slimfile.verify.session import VerifyRequest, verify

__all__ = ["EXIT_DIFFERENCE", "EXIT_ERROR", "EXIT_VERIFIED", "VerifyReport", "VerifyRequest", "verify"]
