"""GET /metrics and the middleware that counts every request and names it with a request id.

Requests are labelled by route template (`/articles/{article_id:path}`, not the article asked
for), so the number of series stays fixed whatever clients send; a path no route matches is
`unmatched`, a static file `/static`.
"""

from __future__ import annotations

import time

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import logs
from bot.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"


class ObservedRequests:
    """Pure ASGI middleware (no per-request objects beyond a closure): sets the request id and
    the app's metrics for the request's context, echoes the id in `X-Request-ID`, and counts
    the request by route template, method and status with its duration."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = logs.accepted_or_new(Headers(scope=scope).get(REQUEST_ID_HEADER))
        logs.set_request_id(request_id)
        self.metrics.activate()  # this request's task only: the context is the task's copy
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_template(scope)
            self.metrics.http_requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.http_seconds.labels(route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request (the router writes it into the
    shared scope), `/static` for the mounted files, `unmatched` for anything else."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return route.path
    if scope.get("root_path", "").endswith("/static"):
        return "/static"
    return "unmatched"


def metrics_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """The app's series in the Prometheus text format."""
        observed: Metrics = request.app.state.metrics
        accept = request.headers.get("accept", "")
        if observed.renders_in_process():  # about a millisecond of CPU: no thread hop
            body, content_type = observed.exposition(accept)
        else:  # a shared session store's count must not stall the event loop
            body, content_type = await anyio.to_thread.run_sync(observed.exposition, accept)
        return Response(body, headers={"Content-Type": content_type})

    return router
