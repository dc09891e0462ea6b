"""Charging analytics of the organization, a site or a station, in the buckets of a time zone."""

from __future__ import annotations

from itertools import pairwise

from starlette.requests import Request
from starlette.responses import Response

from cpms import buckets
from cpms.aggregates.errors import InvalidValue
from cpms.api.context import Tx, organization, read
from cpms.api.errors import bad_request
from cpms.api.models.analytics import (
    Analytics,
    AnalyticsBucket,
    AnalyticsQuery,
    AnalyticsTotals,
    Durations,
    HistogramBin,
)
from cpms.api.responses import reply
from cpms.api.routing import Operation
from cpms.application import utc_now
from cpms.projections import analytics as view
from cpms.projections import sites, stations


async def get_analytics(request: Request, body: None, query: AnalyticsQuery) -> Response:
    zone = query.zone()
    try:
        period = buckets.period(query.bucket, zone, query.start(zone), query.end(zone), utc_now())
    except ValueError as error:
        raise bad_request(str(error)) from None
    site_id = None if query.site_id is None else str(query.site_id)
    bounds = [int(bound.timestamp()) for bound in period.bounds]
    sums = await read(request, _sums, organization(request), site_id, query.station, bounds)
    return reply(Analytics, _answer(period, query.tz, sums))


def _sums(
    tx: Tx, organization_id: str, site_id: str | None, station: str | None, bounds: list[int]
) -> list[view.Sums]:
    """The filters checked and the buckets summed in one read, from the station's, the site's or
    the organization's slots."""
    scope, scope_id = view.ORGANIZATION, ""
    if site_id is not None:
        if sites.get_site(tx, organization_id, site_id) is None:
            raise InvalidValue(f"site_id: no site {site_id!r} in this organization")
        scope, scope_id = view.SITE, site_id
    if station is not None:
        found = stations.get_station(tx, organization_id, station)
        if found is None:
            raise InvalidValue(f"station: no station {station!r} in this organization")
        if site_id is not None and found["site_id"] != site_id:
            raise InvalidValue(f"station: {station!r} is not a station of site {site_id!r}")
        scope, scope_id = view.STATION, station
    return view.bucket_sums(tx, organization_id, scope, scope_id, bounds)


def _answer(period: buckets.Period, tz: str, sums: list[view.Sums]) -> Analytics:
    """Built as the models themselves: 400 buckets are a few milliseconds less than as dicts."""
    local = [period.local(bound) for bound in period.bounds]
    hours = [(end - start).total_seconds() / 3600 for start, end in pairwise(period.bounds)]
    totals = view.total(sums)
    edges = [*view.HISTOGRAM_S[1:], None]
    return Analytics(
        from_=local[0],
        to=local[-1],
        bucket=period.bucket,
        tz=tz,
        buckets=[
            AnalyticsBucket(local[n], local[n + 1], hours[n], *_figures(found))
            for n, found in enumerate(sums)
        ],
        totals=AnalyticsTotals(*_figures(totals)),
        duration_histogram=[
            HistogramBin(low, high, count)
            for low, high, count in zip(view.HISTOGRAM_S, edges, totals.histogram, strict=True)
        ],
    )


def _figures(sums: view.Sums) -> tuple[int, int, float, Durations]:
    """Sessions, completed, energy_wh and duration_s, as buckets and totals show them."""
    mean = sums.duration_s / sums.completed if sums.completed else None
    # Sums of floats added and taken out again keep a trace of rounding: to the mWh, never -0.0.
    energy = round(sums.energy_wh, 3) + 0.0
    return sums.sessions, sums.completed, energy, Durations(sums.duration_s, mean)


ROUTES = (
    Operation(
        "GET",
        "/api/v1/analytics",
        get_analytics,
        "Listed sessions per day, ISO week or month of a time zone (by when they started): sessions,"
        " completed ones, their energy and duration; totals and a histogram of durations",
        query=AnalyticsQuery,
        responses={200: Analytics},
        errors=frozenset({422}),
    ),
)
