"""REST front end for persist collections: ``create_app(app) -> FastAPI``.

Optional extra ``rustmemodb[rest]`` (FastAPI, pydantic, uvicorn). Each collection of
the ``PersistApp`` gets CRUD routes under ``prefix`` (routes.py), errors are RFC 9457
problem documents (problems.py) and the OpenAPI 3.1 document carries the models' own
JSON Schemas (openapi.py). Every request that changes data is one committed engine
transaction, so anything watching the database (live grids) sees it at once.
"""
from .app import create_app

__all__ = ["create_app"]
