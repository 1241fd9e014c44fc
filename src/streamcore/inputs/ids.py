"""The one id type: every object id is 32 lowercase hex digits (`db.base.new_id`).

Bodies use `EntityId`, paths `PathId`; both reject anything else with a validation
error (422) before a query runs, so an empty string, a NUL byte or a megabyte of text
never reaches a foreign key or an index lookup."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import Field

from streamcore.errors import BadRequest

ID_PATTERN = r"^[0-9a-f]{32}$"
_ID = re.compile(ID_PATTERN)
ID_DESCRIPTION = "An object id: 32 lowercase hexadecimal digits."

EntityId = Annotated[
    str, Field(min_length=32, max_length=32, pattern=ID_PATTERN, description=ID_DESCRIPTION)
]
OptionalEntityId = Annotated[EntityId | None, Field(description=f"{ID_DESCRIPTION} Null for none.")]
PathId = Annotated[
    str, Path(min_length=32, max_length=32, pattern=ID_PATTERN, description=ID_DESCRIPTION)
]


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def parse_id(value: str | None, what: str) -> str | None:
    """An id from a header or form field: None when empty or absent, BadRequest when
    it is not shaped like an id."""
    if value is None or value == "":
        return None
    if not is_id(value):
        raise BadRequest(f"{what} is not a valid id")
    return value
