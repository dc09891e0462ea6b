"""For operators and load balancers: the health of each dependency and of each projection."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from cpms.api.models.common import Instant


class ProjectionFailure(Struct):
    """The event a projection stopped at; the error itself is in the logs and `cpms projections
    status` (its text may quote another organization's data)."""

    position: int
    event_type: str
    error_type: str
    since: Instant
    attempts: int


class OperatorFailure(ProjectionFailure):
    """As the operator sees it: with the error's text."""

    error: str


class Rebuild(Struct):
    """The projection's last side-by-side rebuild at its version: the live tables serve until
    it has caught up, then it replaces them in one transaction."""

    state: Literal["requested", "rebuilding", "failing", "done"]
    reason: str
    position: Annotated[int, Meta(description="the last event of the log the rebuild has folded")]
    progress: Annotated[float | None, Meta(description="share of the log folded, 0 to 1")]
    rate: Annotated[float | None, Meta(description="events of the log folded per second")]
    eta_seconds: Annotated[float | None, Meta(description="seconds left at that rate")]
    requested_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    error: str | None


STATE = Meta(description="live; rebuilding (its live tables serve meanwhile); failing (stopped at an event)")


class Projection(Struct):
    name: str
    version: int
    position: Annotated[int, Meta(description="the last event of the log it has folded")]
    head: Annotated[int | None, Meta(description="the log's last event (null: the store is down)")]
    lag: int | None
    state: Annotated[Literal["live", "rebuilding", "failing"], STATE]
    failure: ProjectionFailure | None


class OperatorProjection(Projection):
    """As the operator sees it: the failure's text, and the last rebuild."""

    failure: OperatorFailure | None
    rebuild: Rebuild | None


class ProjectionPage(Struct):
    items: list[OperatorProjection]
    next_cursor: str | None


class Dependency(Struct):
    """Why a dependency is down (a database's host and port, say) is for the logs, not here."""

    status: Literal["up", "down"]
    since: Instant


class WriterStats(Struct):
    """How many commands were stored in how many transactions (the group-commit factor)."""

    batches: int
    commands: int


class Health(Struct):
    """503 while a dependency is down; "degraded" (still 200) while a projection is failing."""

    status: Literal["ok", "degraded", "unavailable"]
    unavailable: list[str]
    failing_projections: list[str]
    dependencies: dict[str, Dependency]
    projections: dict[str, Projection]
    writer: WriterStats


class OpenApiDocument(Struct):
    """The OpenAPI 3.1 document of this API."""

    openapi: str
    info: dict[str, Any]
    security: list[dict[str, Any]]
    paths: dict[str, Any]
    components: dict[str, Any]
