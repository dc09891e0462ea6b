"""OCPI 2.2.1 Locations module objects: Location, EVSE, Connector and their classes and enums."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from msgspec import Meta

from cpms.api.ocpi_models.common import (
    URL,
    CiString,
    CountryCode,
    DateTime,
    DisplayText,
    Number,
    PartyId,
    String,
    Struct_,
    TokenType,
)

Latitude = Annotated[str, Meta(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, Meta(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]


class Status(StrEnum):
    """The status of an EVSE."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorFormat(StrEnum):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(StrEnum):
    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class ParkingType(StrEnum):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class ParkingRestriction(StrEnum):
    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class Facility(StrEnum):
    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class EnergySourceCategory(StrEnum):
    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class GeoLocation(Struct_):
    """WGS 84; five decimals at least (about a metre)."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(Struct_):
    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class Image(Struct_):
    url: URL
    category: ImageCategory
    type: Annotated[str, CiString(4)]
    thumbnail: URL | None = None
    width: Annotated[int, Meta(ge=0, le=99999)] | None = None
    height: Annotated[int, Meta(ge=0, le=99999)] | None = None


class BusinessDetails(Struct_):
    name: Annotated[str, String(100)]
    website: URL | None = None
    logo: Image | None = None


class PublishTokenType(Struct_):
    uid: Annotated[str, CiString(36)] | None = None
    type: TokenType | None = None
    visual_number: Annotated[str, String(64)] | None = None
    issuer: Annotated[str, String(64)] | None = None
    group_id: Annotated[str, CiString(36)] | None = None


class RegularHours(Struct_):
    weekday: Annotated[int, Meta(ge=1, le=7)]
    period_begin: Annotated[str, Meta(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]
    period_end: Annotated[str, Meta(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]


class ExceptionalPeriod(Struct_):
    period_begin: DateTime
    period_end: DateTime


class Hours(Struct_):
    twentyfourseven: bool
    regular_hours: list[RegularHours] = []
    exceptional_openings: list[ExceptionalPeriod] = []
    exceptional_closings: list[ExceptionalPeriod] = []


class EnergySource(Struct_):
    source: EnergySourceCategory
    percentage: Number


class EnvironmentalImpact(Struct_):
    category: EnvironmentalImpactCategory
    amount: Number


class EnergyMix(Struct_):
    is_green_energy: bool
    energy_sources: list[EnergySource] = []
    environ_impact: list[EnvironmentalImpact] = []
    supplier_name: Annotated[str, String(64)] | None = None
    energy_product_name: Annotated[str, String(64)] | None = None


class StatusSchedule(Struct_):
    period_begin: DateTime
    status: Status
    period_end: DateTime | None = None


class Connector(Struct_):
    id: Annotated[str, CiString(36)]
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: int  # line to neutral for AC_3_PHASE, V
    max_amperage: int  # A
    last_updated: DateTime
    max_electric_power: int | None = None  # W
    tariff_ids: list[Annotated[str, CiString(36)]] = []
    terms_and_conditions: URL | None = None


class EVSE(Struct_):
    uid: Annotated[str, CiString(36)]
    status: Status
    connectors: Annotated[list[Connector], Meta(min_length=1)]
    last_updated: DateTime
    evse_id: Annotated[str, CiString(48)] | None = None
    status_schedule: list[StatusSchedule] = []
    capabilities: list[Capability] = []
    floor_level: Annotated[str, String(4)] | None = None
    coordinates: GeoLocation | None = None
    physical_reference: Annotated[str, String(16)] | None = None
    directions: list[DisplayText] = []
    parking_restrictions: list[ParkingRestriction] = []
    images: list[Image] = []


class Location(Struct_):
    country_code: CountryCode  # of the CPO
    party_id: PartyId
    id: Annotated[str, CiString(36)]
    publish: bool
    address: Annotated[str, String(45)]
    city: Annotated[str, String(45)]
    country: Annotated[str, String(3)]  # ISO 3166-1 alpha-3
    time_zone: Annotated[str, String(255)]  # IANA tzdata
    last_updated: DateTime
    coordinates: GeoLocation  # a site without coordinates is not published
    publish_allowed_to: list[PublishTokenType] = []
    name: Annotated[str, String(255)] | None = None
    postal_code: Annotated[str, String(10)] | None = None
    state: Annotated[str, String(20)] | None = None
    related_locations: list[AdditionalGeoLocation] = []
    parking_type: ParkingType | None = None
    evses: list[EVSE] = []
    directions: list[DisplayText] = []
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] = []
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    images: list[Image] = []
    energy_mix: EnergyMix | None = None
