"""The OpenAPI 3.1 document, built from the dialects' endpoint declarations and pydantic models."""

from __future__ import annotations

import json
import re
from functools import cache
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import DEFAULT_REF_TEMPLATE
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from authgate import __version__
from authgate.dialects.base import Dialect, ErrorDocs
from authgate.dialects.endpoints import Operation
from authgate.dialects.security_schemes import SecurityScheme
from authgate.http.security_headers import DOCS_CSP

# Swagger UI, pinned in web/package.json and copied into the package by
# scripts/update-swagger-ui.sh: served from this origin, so the page works without internet
# and runs no script a CDN could change.
SWAGGER_UI_FILES = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
SWAGGER_UI_PATH = "/docs/assets"
SWAGGER_UI = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authgate API</title>
<link rel="stylesheet" href="{SWAGGER_UI_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{SWAGGER_UI_PATH}/favicon-32x32.png">
</head><body><div id="ui"></div>
<script src="{SWAGGER_UI_PATH}/swagger-ui-bundle.js"></script>
<script src="{SWAGGER_UI_PATH}/swagger-init.js"></script>
</body></html>"""
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


# Only JSON is described: a generator given several media types for one body sends them all
# (openapi-python-client: JSON, then a form, then multipart, over each other).
BODY_NOTE = (
    "Described as JSON, which every client should send. As in DRF, the same fields are also "
    "read from `application/x-www-form-urlencoded` and `multipart/form-data` (a list as a "
    "repeated key); any other type is 415."
)


# Methods whose requests carry a body, and so may fail on it (400, 413, 415).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
BODY_ERRORS = frozenset({400, 413, 415})
PATH_SEGMENT = r"^[^/.\s]+$"


@cache
def _schema_text(model: type[BaseModel], ref_template: str) -> str:
    """A model's JSON schema, made once per process: pydantic makes it anew at every call
    (about 1 ms a model, some 70 per document), and every app builds its document (the tests
    build hundreds of apps). Kept as JSON text, so that each caller gets a copy of its own."""
    return json.dumps(model.model_json_schema(ref_template=ref_template))


def _model_schema(model: type[BaseModel], ref_template: str = DEFAULT_REF_TEMPLATE) -> Any:
    return json.loads(_schema_text(model, ref_template))


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = _model_schema(model, "#/components/schemas/{model}")
    # Nested models come as `$defs`; the references point at the components.
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    """The `{name}` parameters of a path: what a route segment matches (DRF's router takes
    any run of characters without `/` or `.`; whitespace never names an object)."""
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": PATH_SEGMENT},
        }
        for name in re.findall(r"{(\w+)}", path)
    ]


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as optional query parameters (a value is never null there)."""
    parameters = []
    for name, schema in _model_schema(model)["properties"].items():
        options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
        kept = {k: v for k, v in options[0].items() if k not in ("default", "title")}
        parameters.append({"name": name, "in": "query", "required": False, "schema": kept})
    return parameters


def _error_statuses(
    errors: ErrorDocs, method: str, path: str, *, has_body: bool, has_query: bool
) -> list[int]:
    """The error statuses an operation may answer: its dialect's, less those that cannot apply
    (a body's without one, 404 without a path parameter). A DELETE that reads a body (Djoser's
    `current_password`) may fail on it too, and a GET on its query parameters (400)."""
    statuses = set(errors.statuses)
    if method not in BODY_METHODS and not has_body:
        statuses -= BODY_ERRORS - ({400} if has_query else set())
    if "{" not in path:
        statuses.discard(404)
    return sorted(statuses)


def _security(operation: Operation, schemes: tuple[SecurityScheme, ...]) -> list[Any] | None:
    """What an operation takes: any one of its dialect's schemes, none for a public one (or
    none as one more choice, for one that only acts on credentials it is given)."""
    choices: list[Any] = [{scheme.name: []} for scheme in schemes]
    if not operation.public:
        return choices
    return [*choices, {}] if operation.optional_credentials else None


def _security_schemes(dialects: list[Dialect]) -> dict[str, Any]:
    """`components.securitySchemes`: the schemes of every dialect with an operation that
    takes credentials, each name meaning one scheme."""
    found: dict[str, Any] = {}
    for dialect in dialects:
        operations = [op for endpoint in dialect.endpoints for op in endpoint.operations.values()]
        if all(_security(operation, dialect.security) is None for operation in operations):
            continue
        for scheme in dialect.security:
            if found.setdefault(scheme.name, dict(scheme.definition)) != scheme.definition:
                raise ValueError(f"two security schemes are named {scheme.name!r}")
    return found


def build_document(dialects: list[Dialect]) -> dict[str, Any]:
    """OpenAPI for the dialects, each under its first prefix and tagged with its name."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for dialect in dialects:
        prefix, errors = dialect.prefixes[0], dialect.errors
        schemas[errors.name] = errors.schema
        error_schema = {"$ref": f"#/components/schemas/{errors.name}"}
        error_answer = {
            "description": "Failure, in the dialect's error shape",
            "content": {"application/json": {"schema": error_schema}},
        }
        # A path no route matches (a parameter outside its pattern) gets a web server's plain
        # `Not Found`, as Django answers outside its views.
        not_found = {
            "description": "No such object (JSON), or no such path (plain text)",
            "content": {
                "application/json": {"schema": error_schema},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
        for endpoint in dialect.endpoints:
            item: dict[str, Any] = {}
            for method, operation in endpoint.operations.items():
                spec: dict[str, Any] = {"summary": operation.summary, "tags": [dialect.name]}
                parameters = _path_parameters(endpoint.path)
                if operation.query is not None:
                    parameters += _query_parameters(operation.query)
                if parameters:
                    spec["parameters"] = parameters
                security = _security(operation, dialect.security)
                if security is not None:
                    spec["security"] = security
                if operation.request is not None:
                    spec["requestBody"] = {
                        "description": BODY_NOTE,
                        "content": {
                            "application/json": {"schema": _ref(operation.request, schemas)}
                        },
                    }
                answer: dict[str, Any] = {"description": "Success"}
                if operation.response is not None:
                    out: dict[str, Any] = _ref(operation.response, schemas)
                    if operation.many:
                        out = {"type": "array", "items": out}
                    answer["content"] = {"application/json": {"schema": out}}
                spec["responses"] = {str(operation.status): answer} | {
                    str(status): not_found if status == 404 else error_answer
                    for status in _error_statuses(
                        errors,
                        method,
                        endpoint.path,
                        has_body=operation.request is not None,
                        has_query=operation.query is not None,
                    )
                }
                item[method.lower()] = spec
            paths[prefix + endpoint.path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "authgate", "version": __version__},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": _security_schemes(dialects)},
    }


def swagger_ui() -> HTMLResponse:
    """Swagger UI over /openapi.json."""
    return HTMLResponse(SWAGGER_UI, headers={"Content-Security-Policy": DOCS_CSP})


class SwaggerUiFiles(StaticFiles):
    """The page's files, from the package. Each answer is revalidated by its ETag rather than
    kept (its path does not change with the version); the type is set, never sniffed."""

    def __init__(self) -> None:
        super().__init__(directory=SWAGGER_UI_FILES)

    def file_response(self, full_path: PathLike[str] | str, *args: Any, **kwargs: Any) -> Response:
        """StaticFiles' answer, with our content type and cache policy."""
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        if response.status_code == 200:  # not a 304's
            suffix = Path(full_path).suffix
            response.headers["content-type"] = CONTENT_TYPES.get(
                suffix, "text/plain; charset=utf-8"
            )
        return response
