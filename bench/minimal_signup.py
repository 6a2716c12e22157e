"""The anchor of ``bench_subscribe.py``: the least a sign-up endpoint can do.

A FastAPI app that reads a form, validates the address and inserts one row into PostgreSQL
(SQLAlchemy, a connection pool, the threadpool), served by uvicorn in one process as
``newsletter serve`` is. Whatever our sign-up costs beyond this is ours to justify.

    .venv/bin/python bench/minimal_signup.py --port 8100 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import re
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine
from sqlalchemy.dialects.postgresql import insert

ADDRESS = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
metadata = MetaData()
signups = Table(
    "minimal_signups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), unique=True, nullable=False),
)


def make_app(database_url: str) -> FastAPI:
    engine = create_engine(database_url, pool_size=20, max_overflow=20)
    metadata.create_all(engine)
    app = FastAPI()

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return '<form><input name="csrf_token" value="none"></form>'

    @app.post("/subscribe", response_class=HTMLResponse)
    def subscribe(email: Annotated[str, Form()]) -> HTMLResponse:
        address = email.strip().lower()
        if len(address) > 254 or not ADDRESS.match(address):
            return HTMLResponse("<p>That address does not look right.</p>", status_code=400)
        with engine.begin() as conn:
            conn.execute(insert(signups).values(email=address).on_conflict_do_nothing())
        return HTMLResponse(f"<p>Check your inbox, {address}.</p>")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    uvicorn.run(make_app(args.database_url), host="127.0.0.1", port=args.port,
                log_level="warning", server_header=False)


if __name__ == "__main__":
    main()
