"""How a route module declares its endpoints: on each handler, in the order written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.routing import BaseRoute, Route

__all__ = ["RouteTable"]

E = TypeVar("E", bound=Callable[..., Any])


class RouteTable(list[BaseRoute]):
    """A module's routes, each declared above its handler; starlette tries them in the
    order they were declared (a request whose path matches but whose method does not gets
    the 405 of the first such route).

    Example:
        >>> routes = RouteTable()
        >>> @routes.route("/things/{thing_id}", "GET", "DELETE")
        ... async def thing(request): ...
        >>> [(r.path, sorted(r.methods or ())) for r in routes]
        [('/things/{thing_id}', ['DELETE', 'GET', 'HEAD'])]
    """

    def add(
        self, path: str, endpoint: Callable[..., Any], *methods: str, name: str | None = None
    ) -> None:
        """Serve ``methods`` of ``path`` with ``endpoint`` (a handler made by a factory)."""
        self.append(Route(path, endpoint, methods=list(methods), name=name))

    def route(self, path: str, *methods: str, name: str | None = None) -> Callable[[E], E]:
        """A decorator: serve ``methods`` of ``path`` with the function below."""

        def register(endpoint: E) -> E:
            self.add(path, endpoint, *methods, name=name)
            return endpoint

        return register
