"""The ASGI application for uvicorn: `uvicorn web.main:app`."""

from web.app import create_app

app = create_app()
