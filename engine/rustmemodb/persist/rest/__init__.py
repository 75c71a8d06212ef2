"""REST front end for persist collections: ``create_app(app) -> FastAPI``.

Optional extra ``rustmemodb[rest]`` (FastAPI, pydantic, uvicorn). Each collection of
the ``PersistApp`` gets CRUD routes under ``prefix`` (routes.py), errors are RFC 9457
problem documents (problems.py) and the OpenAPI 3.1 document carries the models' own
JSON Schemas (openapi.py); ``@command``/``@query`` model methods become routes
(commands.py) and ``serve-rest --schemas DIR`` serves a watched directory of JSON
Schemas (schemas_dir.py). Every request that changes data is one committed engine
transaction, so anything watching the database (live grids) sees it at once.
"""


def create_app(app, prefix: str = "/api", *, token: str | None = None, **kwargs):
    """A FastAPI application serving every collection of ``app`` (see app.py):
    ``errors={DomainError: (status, "code")}`` maps domain exceptions to problems,
    ``follow=True`` serves collections registered later too.

    Imported on call, so ``rustmemodb.persist.rest.serve`` can explain a missing
    ``rest`` extra instead of failing on import.
    """
    from .app import create_app as build
    return build(app, prefix, token=token, **kwargs)


__all__ = ["create_app"]
