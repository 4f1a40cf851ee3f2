"""Who is acting, for the rotation history: ``user@host``, or the Lambda function."""

from __future__ import annotations

import os

__all__ = ["actor"]


def actor() -> str:
    """Who is acting: ``user@host`` (or the Lambda function name)."""
    fn = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if fn:
        return f"lambda:{fn}"
    try:
        import getpass

        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid())
    import socket  # here, not at import: readers never need it

    return f"{user}@{socket.gethostname()}"
