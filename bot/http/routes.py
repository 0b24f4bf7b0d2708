"""The API's routes: the public ones (/ask, /search, /coverage, /timeline, /articles, /sessions,
/health) and the admin ones (/admin/reindex), mounted only when an admin token is set."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.http.models import (
    SESSION_ID_PATTERN,
    AnswerOut,
    ArticleOut,
    AskRequest,
    CoverageOut,
    CoverageQuery,
    HealthOut,
    Problem,
    ReindexStatus,
    SearchOut,
    SearchQuery,
    TimelineQuery,
)
from bot.http.reindex import reindex_isolated
from bot.http.state import ApiState

if TYPE_CHECKING:
    from bot.service import NewsdeskService

_UNAVAILABLE = {503: {"model": Problem, "description": "No index loaded yet."}}
_COMMON: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body could not be read (not UTF-8 JSON)."},
    413: {"model": Problem, "description": "The request body is over 64 KiB."},
    422: {"model": Problem, "description": "The input is invalid; `detail` says why."},
}


def _state(request: Request) -> ApiState:
    return request.app.state.newsdesk


async def _service(request: Request) -> NewsdeskService:
    return await _state(request).require_service()


State = Annotated[ApiState, Depends(_state)]
Service = Annotated["NewsdeskService", Depends(_service)]
SessionIdPath = Annotated[str, PathParam(pattern=SESSION_ID_PATTERN)]


def _filters(sources: list[str] | None, since: date | None, until: date | None) -> Any:
    """A `SearchFilters`, or None when nothing narrows the search."""
    if not sources and since is None and until is None:
        return None
    from retrieval.search import SearchFilters

    return SearchFilters(sources=tuple(sources or ()), since=since, until=until)


def _passage_hit(passage: Any) -> dict[str, Any]:
    return {
        "passage": passage.text,
        "score": float(passage.score),
        "article_id": passage.article_id,
        "title": passage.title,
        "source": passage.source,
        "date": passage.date,
        "url": passage.url,
        "start": passage.start,
        "end": passage.end,
        "also_in": [asdict(other) for other in passage.also_in],
    }


def _health(summary: Any, *, uptime_s: float, generation: Any = None) -> dict[str, Any]:
    """`IndexSummary` as the /health body (the server's own paths stay private: the generation
    is named, not its folder)."""
    return {
        "status": "ok",
        "generation": getattr(generation, "name", None),
        "articles": summary.articles,
        "chunks": summary.chunks,
        "model": summary.model,
        "built_at": summary.built_at,
        "first_date": summary.first_date,
        "last_date": summary.last_date,
        "sources": [{"name": name, "articles": count} for name, count in summary.sources],
        "skipped": summary.skipped,
        "size_bytes": summary.size_bytes,
        "uptime_s": round(uptime_s, 3),
    }


def public_routes() -> APIRouter:
    router = APIRouter(responses=_COMMON)

    @router.post("/ask", response_model=AnswerOut, responses=_UNAVAILABLE)
    async def ask(body: AskRequest, state: State, service: Service) -> dict[str, Any]:
        """Answer a question from the articles, with numbered citations; follow-ups share
        a `session_id` (a new one is issued when none is given)."""
        answer = await state.ask(
            service,
            question=body.question,
            session_id=body.session_id,
            k=body.k,
            filters=_filters(body.source, body.since, body.until),
            as_of=body.as_of,
        )
        return answer.to_dict()

    @router.get("/search", response_model=SearchOut, responses=_UNAVAILABLE)
    async def search(
        params: Annotated[SearchQuery, Query()], state: State, service: Service
    ) -> dict[str, Any]:
        """Ranked passages for a query, without composing an answer."""
        passages = await state.run(
            service.search,
            params.q,
            k=params.k,
            filters=_filters(params.source, params.since, params.until),
            as_of=params.as_of,
        )
        return {"results": [_passage_hit(p) for p in passages]}

    @router.get("/coverage", response_model=CoverageOut, responses=_UNAVAILABLE)
    async def coverage(
        params: Annotated[CoverageQuery, Query()], state: State, service: Service
    ) -> dict[str, Any]:
        """How many articles (and stories) mention a topic, by outlet and by month, with the
        first and last date and the most relevant headlines."""
        found = await state.run(
            service.coverage, params.q, _filters(params.source, params.since, params.until)
        )
        return asdict(found)

    @router.get("/timeline", response_model=AnswerOut, responses=_UNAVAILABLE)
    async def timeline(
        params: Annotated[TimelineQuery, Query()], state: State, service: Service
    ) -> dict[str, Any]:
        """How a story unfolded: its dated events, one cited line per day, earliest first, at
        most twelve from `offset` on (`timeline.more` says how many follow)."""
        answer = await state.run(
            service.timeline,
            params.q,
            filters=_filters(params.source, params.since, params.until),
            as_of=params.as_of,
            offset=params.offset,
        )
        return answer.to_dict()

    @router.get(
        "/articles/{article_id:path}",
        response_model=ArticleOut,
        responses={404: {"model": Problem}, **_UNAVAILABLE},
    )
    async def article(article_id: str, state: State, service: Service) -> dict[str, Any]:
        """One article's metadata and full text."""
        found = await state.run(service.article, article_id) if len(article_id) <= 512 else None
        if found is None:
            raise HTTPException(status_code=404, detail=f"No article with id {article_id!r}.")
        return found

    @router.delete(
        "/sessions/{session_id}",
        status_code=204,
        responses={404: {"model": Problem}, **_UNAVAILABLE},
    )
    async def forget_session(session_id: SessionIdPath, service: Service) -> Response:
        """Forget a conversation."""
        if not service.reset_session(session_id):
            raise HTTPException(status_code=404, detail="No such session (it may have expired).")
        return Response(status_code=204)

    @router.post(
        "/sessions/{session_id}/more",
        response_model=AnswerOut,
        responses={404: {"model": Problem}, **_UNAVAILABLE},
    )
    async def more(session_id: SessionIdPath, state: State, service: Service) -> dict[str, Any]:
        """The next passages for the session's last question."""
        from bot.service import SessionNotFound  # loaded with the service by now

        try:
            answer = await state.run(service.more, session_id)
        except SessionNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        return answer.to_dict()

    @router.get("/health", response_model=HealthOut, responses=_UNAVAILABLE)
    async def health(state: State, service: Service) -> dict[str, Any]:
        """Liveness plus what is loaded: the index generation and when it was built, counts,
        model, uptime."""
        return _health(
            service.summary(),
            uptime_s=time.monotonic() - state.started,
            generation=getattr(service, "generation", None),
        )

    return router


_bearer = HTTPBearer(auto_error=False, description="NEWSDESK_ADMIN_TOKEN")


async def _require_admin(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 without a bearer token, 403 with a wrong one (compared in constant time)."""
    if credentials is None:
        raise HTTPException(
            status_code=401,
            detail="Send `Authorization: Bearer <NEWSDESK_ADMIN_TOKEN>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = state.admin_token
    if not expected or not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status_code=403, detail="Wrong admin token.")


def admin_routes() -> APIRouter:
    """Mounted only when an admin token is configured; otherwise /admin/* is a plain 404."""
    denied = {401: {"model": Problem}, 403: {"model": Problem}}
    router = APIRouter(
        prefix="/admin", dependencies=[Depends(_require_admin)], tags=["admin"], responses=_COMMON
    )

    @router.post(
        "/reindex",
        status_code=202,
        response_model=ReindexStatus,
        responses={**denied, 409: {"model": Problem}, **_UNAVAILABLE},
    )
    async def start_reindex(state: State, service: Service) -> dict[str, Any]:
        """Update the index from the corpus in the background; requests keep being served
        from the current index until the new one is swapped in."""
        if not state.reindex.start(partial(reindex_isolated, service, state.settings)):
            raise HTTPException(
                status_code=409,
                detail="A reindex is already running; GET /admin/reindex shows its progress.",
            )
        return state.reindex.status()

    @router.get("/reindex", response_model=ReindexStatus, responses=denied)
    async def reindex_status(state: State) -> dict[str, Any]:
        """Progress of the running reindex and the result of the last one."""
        return state.reindex.status()

    return router
