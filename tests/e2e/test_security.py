"""Security profiles end to end: wss with a test certificate, basic auth, client certificates, and each
station held to its own profile's transport while other chargers carry on."""

from __future__ import annotations

import base64
import ssl

import pytest
import trustme
import websockets
from websockets.exceptions import InvalidMessage, InvalidStatus

from tests.pki import Pki
from tests.support import api_client, commission, connected, create_site, settled

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.issue(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def node(start_node, pki: Pki):
    """A gateway serving ws and wss, trusting the test CA for station certificates."""
    return await start_node(tls_cert=pki.cert, tls_key=pki.key, tls_client_ca=pki.ca_pem, ocpp_tls_port=0)


def _wss(node, ocpp_id: str) -> str:
    return f"wss://127.0.0.1:{node.ocpp_tls_port}/ocpp/{ocpp_id}"


def _ws(node, ocpp_id: str) -> str:
    return f"ws://127.0.0.1:{node.ocpp_port}/ocpp/{ocpp_id}"


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _refused_with(url: str, **connect) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, subprotocols=["ocpp1.6"], **connect):  # type: ignore[list-item]
            pass
    return refused.value.response.status_code


async def test_a_profile_2_station_boots_over_wss_with_its_password(node, api, site, pki):
    await commission(api, site["id"], "CP-TLS", password=PASSWORD, security_profile=2)
    async with connected(
        node,
        "CP-TLS",
        url=_wss(node, "CP-TLS"),
        ssl=pki.client(),
        additional_headers=_basic("CP-TLS", PASSWORD),
    ) as charger:
        assert (await charger.boot()).status == "Accepted"
        await settled(node)
        station = (await api.get("/stations/CP-TLS")).json()
        assert (station["connection"], station["security_profile"]) == ("Connected", 2)


async def test_a_profile_2_station_is_refused_on_plain_ws_even_with_its_password(node, api, site, caplog):
    await commission(api, site["id"], "CP-TLS", password=PASSWORD, security_profile=2)
    assert await _refused_with(_ws(node, "CP-TLS"), additional_headers=_basic("CP-TLS", PASSWORD)) == 401
    assert "station 'CP-TLS' uses security profile 2 and must connect over wss" in caplog.text


async def test_a_profile_1_station_is_refused_on_wss(node, api, site, pki, caplog):
    await commission(api, site["id"], "CP-PLAIN", password=PASSWORD, security_profile=1)
    headers = _basic("CP-PLAIN", PASSWORD)
    assert await _refused_with(_wss(node, "CP-PLAIN"), ssl=pki.client(), additional_headers=headers) == 401
    assert "station 'CP-PLAIN' uses security profile 1 and must connect over plain ws" in caplog.text
    async with connected(node, "CP-PLAIN", additional_headers=headers) as charger:
        assert (await charger.boot()).status == "Accepted"


@pytest.mark.parametrize(
    "headers",
    [None, _basic("CP-TLS", "wrong-password-12345"), _basic("CP-OTHER", PASSWORD)],
    ids=["missing", "wrong-password", "wrong-username"],
)
async def test_a_profile_2_station_with_bad_credentials_is_refused_on_wss(node, api, site, pki, headers):
    await commission(api, site["id"], "CP-TLS", password=PASSWORD, security_profile=2)
    assert await _refused_with(_wss(node, "CP-TLS"), ssl=pki.client(), additional_headers=headers) == 401


async def test_a_profile_3_station_connects_with_a_certificate_naming_its_serial_number(node, api, site, pki):
    await commission(api, site["id"], "CP-CERT", security_profile=3)  # serial number SN-CP-CERT
    async with connected(node, "CP-CERT", url=_wss(node, "CP-CERT"), ssl=pki.client("SN-CP-CERT")) as cp:
        assert (await cp.boot()).status == "Accepted"


@pytest.mark.parametrize("common_name", [None, "SN-SOMEONE-ELSE"], ids=["no-certificate", "wrong-cn"])
async def test_a_profile_3_station_without_its_certificate_is_refused(
    node, api, site, pki, common_name, caplog
):
    await commission(api, site["id"], "CP-CERT", security_profile=3)
    assert await _refused_with(_wss(node, "CP-CERT"), ssl=pki.client(common_name)) == 401
    assert "station 'CP-CERT' uses security profile 3" in caplog.text


async def test_a_certificate_from_a_ca_the_gateway_does_not_trust_fails_the_tls_handshake(
    node, api, site, pki
):
    await commission(api, site["id"], "CP-CERT", security_profile=3)
    context = pki.client()
    trustme.CA().issue_cert(common_name="SN-CP-CERT").configure_cert(context)
    with pytest.raises((InvalidMessage, ssl.SSLError, ConnectionError)):  # TLS alert: no HTTP answer
        async with websockets.connect(_wss(node, "CP-CERT"), ssl=context, subprotocols=["ocpp1.6"]):
            pass
    async with connected(node, "CP-CERT", url=_wss(node, "CP-CERT"), ssl=pki.client("SN-CP-CERT")) as cp:
        assert (await cp.boot()).status == "Accepted"


async def test_a_profile_3_station_is_refused_on_plain_ws(node, api, site):
    await commission(api, site["id"], "CP-CERT", security_profile=3)
    assert await _refused_with(_ws(node, "CP-CERT")) == 401


async def test_a_station_without_authentication_is_refused_on_wss(node, api, site, pki):
    await commission(api, site["id"], "CP-OPEN")
    assert await _refused_with(_wss(node, "CP-OPEN"), ssl=pki.client()) == 401
    async with connected(node, "CP-OPEN") as charger:
        assert (await charger.boot()).status == "Accepted"


async def test_an_unknown_station_on_wss_is_refused_with_404(node, pki):
    assert await _refused_with(_wss(node, "NOPE-1"), ssl=pki.client("NOPE-1")) == 404


async def test_refusals_leave_a_connected_station_working(node, api, site, pki):
    await commission(api, site["id"], "CP-GOOD", connectors=1, password=PASSWORD, security_profile=2)
    await commission(api, site["id"], "CP-TLS", password=PASSWORD, security_profile=2)
    await commission(api, site["id"], "CP-CERT", security_profile=3)
    good = _basic("CP-GOOD", PASSWORD)
    async with connected(
        node, "CP-GOOD", url=_wss(node, "CP-GOOD"), ssl=pki.client(), additional_headers=good
    ) as cp:
        assert (await cp.boot()).status == "Accepted"
        assert await _refused_with(_ws(node, "CP-TLS"), additional_headers=_basic("CP-TLS", PASSWORD)) == 401
        assert await _refused_with(_wss(node, "CP-TLS"), ssl=pki.client()) == 401
        assert await _refused_with(_wss(node, "CP-CERT"), ssl=pki.client("SN-CP-GOOD")) == 401
        assert await _refused_with(_wss(node, "NOPE-2"), ssl=pki.client()) == 404
        await cp.status(1, "Charging")
        await settled(node)
        rows = (await api.get(f"/sites/{site['id']}/charge-points")).json()["items"]
        assert {row["ocpp_id"]: row["status"] for row in rows}["CP-GOOD"] == "Charging"
        assert node.gateway.connected == ["CP-GOOD"]


# -- commissioning -------------------------------------------------------------------------------


async def test_the_security_profile_defaults_from_the_password_and_is_listed(start_node):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    assert (await commission(api, site["id"], "CP-0"))["security_profile"] == 0
    assert (await commission(api, site["id"], "CP-1", password=PASSWORD))["security_profile"] == 1
    assert (await commission(api, site["id"], "CP-3", security_profile=3))["security_profile"] == 3
    listed = (await api.get("/stations", params={"site_id": site["id"]})).json()["items"]
    assert {s["ocpp_id"]: s["security_profile"] for s in listed} == {"CP-0": 0, "CP-1": 1, "CP-3": 3}


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"security_profile": 5}, 422),
        ({"security_profile": -1}, 422),
        # Not an integer: malformed, refused at the door with 400 since issue 8 (422 before).
        ({"security_profile": "2", "password": PASSWORD}, 400),
        ({"security_profile": True, "password": PASSWORD}, 400),
        ({"security_profile": 2.0, "password": PASSWORD}, 400),
        ({"security_profile": 1}, 422),
        ({"security_profile": 2}, 422),
        ({"security_profile": 3, "password": PASSWORD}, 422),
        ({"security_profile": 0, "password": PASSWORD}, 422),
    ],
    ids=[
        "5",
        "negative",
        "string",
        "bool",
        "float",
        "1-no-password",
        "2-no-password",
        "3-password",
        "0-password",
    ],
)
async def test_a_security_profile_that_breaks_the_rules_is_refused(start_node, fields, status):
    node = await start_node()
    api = await api_client(node)
    site = await create_site(api)
    body = {"ocpp_id": "CP-X", "serial_number": "SN-X", "site_id": site["id"], **fields}
    response = await api.post("/stations", json=body)
    assert response.status_code == status, response.text
    assert "security_profile" in response.json()["error"]["message"]
    assert (await api.get("/stations/CP-X")).status_code == 404
