"""Transitional: processing/runner.py still imports the failure classes from here.
Their one home is streamcore.media.failures; delete this file when the runner reads
`permanent` and `name` instead (the lifecycle refactor, issue 11)."""

from streamcore.media.failures import MediaError, TransientError

__all__ = ["MediaError", "TransientError"]
