"""Commands to a site's stations from the portal: the "temporarily deactivated" station (and back),
through the application's command and the `StationLink` port, as the API's are. The page shows
again with what the station answered."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cpms.api.context import organization, services
from cpms.application import CommandsUnavailable, Requester
from cpms.portal.pages import site_id_of, station_on_site
from cpms.portal.rendering import redirect
from cpms.portal.session import Form, action, field

CLIENT = "cpms portal"  # who asked, beside the organization, as the command records it


@action
async def change_availability(request: Request, form: Form) -> Response:
    org, site_id = organization(request), site_id_of(request)
    ocpp_id = await station_on_site(request, org, site_id)
    operative = field(form, "operative") == "true"
    try:
        result = await services(request).network.change_availability(
            Requester(org, CLIENT), ocpp_id, operative=operative
        )
        outcome = result.delivery.outcome
    except CommandsUnavailable:
        outcome = "unavailable"
    return redirect(f"/sites/{site_id}/stations", station=ocpp_id, outcome=outcome)
