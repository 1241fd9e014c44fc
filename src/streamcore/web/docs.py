"""The API documentation (/docs) from the Swagger UI copied into /static/vendor: nothing
loads from a CDN, so the page works on a machine without internet. Authorize offers the
two schemes the API declares (a bearer token, or an API key in X-API-Key)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor/swagger-ui"
OPENAPI_URL = "/openapi.json"
REDIRECT_URL = "/docs/oauth2-redirect"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="streamcore API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
        oauth2_redirect_url=REDIRECT_URL,
        swagger_ui_parameters={
            # No spec check against validator.swagger.io (a request off the machine).
            "validatorUrl": None,
            # Keep the credentials of Authorize across reloads of the page.
            "persistAuthorization": True,
            "tryItOutEnabled": False,
            "displayRequestDuration": True,
            "filter": True,
        },
    )


@router.get(REDIRECT_URL)
async def oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()
