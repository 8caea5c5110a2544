"""Form routes: a service call whose refusal is shown again on its form leaves nothing written behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session


@contextmanager
def all_or_nothing(session: Session) -> Iterator[None]:
    """Run a form's service call in a savepoint, undone if it raises.

    A route that catches the refusal and renders the form again returns normally, so the request's
    transaction commits: without the savepoint, whatever the service wrote (or changed on a loaded row)
    before it refused would be committed with it. The page built afterwards sees the data as it was.
    """
    with session.begin_nested():
        yield
