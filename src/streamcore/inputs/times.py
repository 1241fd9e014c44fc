"""Times in requests: RFC 3339 date-times only, as the OpenAPI document says
(`format: date-time`). pydantic would also take a bare number as Unix seconds
(`created_after=0`), which the documented type does not allow."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator

# A date, a time and an offset (or Z); fractions of a second allowed.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _RFC3339.fullmatch(value.strip()) is None:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-12-01T12:00:00Z")
    return value.strip()


DateTimeParam = Annotated[datetime, BeforeValidator(_rfc3339)]
