"""`GET /healthz`: 200 while the database is reachable, 503 otherwise (for the proxy and the operator's monitor)."""

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create(app: FastAPI, database_reachable: Callable[[], bool]) -> None:
    @app.get('/healthz')
    def healthz():
        if not database_reachable():
            return JSONResponse({'status': 'database unreachable'}, status_code=503)
        return {'status': 'ok'}
