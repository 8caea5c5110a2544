"""A TestClient on the real app (lifespan run, scheduler and ingest off) over the per-test database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision.settings import get_settings
from tests.conftest import PASSWORD
from web.app import create_app


@pytest.fixture
def app_client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(get_settings(), engine, migrate=False, services=[])
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login_token(client: TestClient) -> str:
    """The login form's CSRF token (its cookie is set on the client by the same request)."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; return a CSRF token for later posts."""
    response = client.post("/login", data={"username": username, "password": password, "next": "/",
                                           "csrf_token": login_token(client)})
    assert response.status_code == 303, response.text
    home = client.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)


@pytest.fixture
def logged_in(engine: Engine, org_data: SimpleNamespace) -> Callable[[str], tuple[TestClient, str]]:
    """Factory: a client logged in as one of the org's users, and its CSRF token."""
    clients: list[TestClient] = []

    def make(username: str) -> tuple[TestClient, str]:
        app = create_app(get_settings(), engine, migrate=False, services=[])
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client, login(client, username)

    yield make  # type: ignore[misc]
    for client in clients:
        client.__exit__(None, None, None)


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
