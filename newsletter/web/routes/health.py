"""``/healthz`` for load balancers and container checks: can we reach the database, is the
scheduler running. 503 when either is down, so an orchestrator restarts or drains us."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from newsletter.store.database import Database
from newsletter.web.state import WebDep

router = APIRouter()
log = logging.getLogger(__name__)


def database_reachable(db: Database) -> bool:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        log.warning("health check: database unreachable", exc_info=True)
        return False
    return True


@router.get("/healthz")
async def healthz(web: WebDep) -> JSONResponse:
    database = await run_in_threadpool(database_reachable, web.db)
    if web.scheduler_running is None:
        scheduler = "not part of this process"
        scheduler_ok = True
    else:
        scheduler_ok = web.scheduler_running()
        scheduler = "running" if scheduler_ok else "stopped"
    healthy = database and scheduler_ok
    body = {
        "status": "ok" if healthy else "unhealthy",
        "database": "reachable" if database else "unreachable",
        "scheduler": scheduler,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
