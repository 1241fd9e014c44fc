"""The OpenAPI document as the API really answers: FastAPI's, with every validation
error in the project's own `{"error", "detail", "errors"}` shape, the 400 of a body
that cannot be parsed, and the 401/403/429 of every route behind credentials.

Routes still declare their own domain errors (`error_responses(...)`); this adds the
answers every route of a kind can give, in one place, so none is left out."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from streamcore.errors import ErrorRead


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str


class ValidationErrorRead(BaseModel):
    """A request that does not match the documented schema."""

    error: str
    detail: str
    errors: list[ValidationIssue]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, name: str = "ErrorRead") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


COMMON_AUTH = {
    "401": "authentication required",
    "403": "forbidden",
    "429": "too many requests",
}


def _schemas() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in (ErrorRead, ValidationErrorRead):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    if takes_input or "422" in responses:
        responses["422"] = _error("the request does not match the schema", "ValidationErrorRead")
    if "requestBody" in operation:
        responses.setdefault("400", _error("the body cannot be parsed"))
    if operation.get("security"):
        for code, description in COMMON_AUTH.items():
            responses.setdefault(code, _error(description))


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.update(_schemas())
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _complete(operation)
    return schema


def install(app: FastAPI) -> None:
    """Serve document(app) at /openapi.json (built once, on first request)."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(document(app))
        return cached

    app.openapi = openapi  # type: ignore[method-assign]
