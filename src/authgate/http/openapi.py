"""The OpenAPI 3.1 document, built from the dialects' endpoint declarations and pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.responses import HTMLResponse

from authgate import __version__
from authgate.dialects.drf import Endpoint

SWAGGER_UI = """<!doctype html>
<html><head><meta charset="utf-8"><title>authgate API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_document(mounts: list[tuple[str, str, list[Endpoint]]]) -> dict[str, Any]:
    """OpenAPI for `(prefix, tag, endpoints)` mounts."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for prefix, tag, endpoints in mounts:
        for endpoint in endpoints:
            item: dict[str, Any] = {}
            for method, operation in endpoint.operations.items():
                spec: dict[str, Any] = {"summary": operation.summary, "tags": [tag]}
                if not operation.public:
                    spec["security"] = [{"token": []}]
                if operation.request is not None:
                    schema = _ref(operation.request, schemas)
                    spec["requestBody"] = {
                        "content": {
                            media: {"schema": schema}
                            for media in (
                                "application/json",
                                "application/x-www-form-urlencoded",
                                "multipart/form-data",
                            )
                        }
                    }
                answer: dict[str, Any] = {"description": "Success"}
                if operation.response is not None:
                    out: dict[str, Any] = _ref(operation.response, schemas)
                    if operation.many:
                        out = {"type": "array", "items": out}
                    answer["content"] = {"application/json": {"schema": out}}
                spec["responses"] = {str(operation.status): answer}
                item[method.lower()] = spec
            paths[prefix + endpoint.path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "authgate", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <key>` or `Bearer <key>`",
                }
            },
        },
    }


def swagger_ui() -> HTMLResponse:
    """Swagger UI over /openapi.json."""
    return HTMLResponse(SWAGGER_UI)
