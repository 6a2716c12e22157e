"""Fixtures for the web tests: the real app on a test database, mail to a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from newsletter.config import Settings
from newsletter.store.database import Database
from newsletter.web import create_app
from tests.smtp_server import SmtpServer
from tests.web.helpers import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web_settings(
    make_settings: Callable[..., Settings], db: Database, smtp_server: SmtpServer
) -> Settings:
    return make_settings(
        database_url=db.url,
        base_url="http://testserver",
        smtp_url=smtp_server.url,
        environment="development",
    )


@pytest.fixture
def make_app(db: Database, clock: Clock) -> Callable[..., FastAPI]:
    def build(settings: Settings, **kwargs: Any) -> FastAPI:
        kwargs.setdefault("clock", clock)
        return create_app(settings, db, **kwargs)

    return build


@pytest.fixture
def app(make_app: Callable[..., FastAPI], web_settings: Settings) -> FastAPI:
    return make_app(web_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
