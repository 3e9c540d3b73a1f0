"""LA 311 (data.lacity.org "MyLA311 Service Request Data", 33-column export).

LA calls every row a service request (bulky item pickup, graffiti removal, ...), so requests
are ``service_request`` touchpoints. The customer is the normalised ``Address`` (LA already
writes it with the ZIP, "2111 W BELLEVUE AVE, 90026"), or the request itself when blank.

Closures keep LA's final status as the outcome: a cancelled or referred-out request was closed
but not resolved, and counting it as resolved would flatter the resolution rate.
"""

from __future__ import annotations

from collections.abc import Mapping

from events.taxonomy import Kind, Outcome
from services.ingest.mappings.city311 import US_311_TIME_FORMAT, City311Mapping, City311Spec
from services.ingest.mappings.common import (
    Location,
    Timestamps,
    ValueRule,
    address_location,
    cell,
    normalise_address,
)

__all__ = ["SPEC", "locate", "mapping"]

#: ``RequestSource`` -> channel. "Driver Self Report" is a city crew (sanitation truck driver)
#: reporting from the street, hence ``field``; a council office forwarding a constituent's
#: request has no channel of ours and stays ``other`` (with its raw label kept).
CHANNELS = {
    "Call": "phone",
    "Voicemail": "phone",
    "Self Service": "web",
    "Mobile App": "app",
    "Email": "email",
    "Twitter": "social",
    "Walk-in": "counter",
    "Driver Self Report": "field",
    "Chat": "chat",
    "Letter": "letter",
    "Fax": "letter",
}

SPEC = City311Spec(
    system="la311",
    key_column="SRNumber",
    created_column="CreatedDate",
    closed_column="ClosedDate",
    status_column="Status",
    service_type_column="RequestType",
    closer_column="Owner",
    timestamps=Timestamps.of(US_311_TIME_FORMAT, "America/Los_Angeles"),
    kind=Kind.SERVICE_REQUEST,
    channel=ValueRule(column="RequestSource", values=CHANNELS, default="other"),
    request_attributes={
        "owner": "Owner",
        "status": "Status",
        "action_taken": "ActionTaken",
        "assign_to": "AssignTo",
        "mobile_os": "MobileOS",
        "anonymous": "Anonymous",
        "address_verified": "AddressVerified",
        "approximate_address": "ApproximateAddress",
        "zip": "ZipCode",
        "council_district": "CD",
        "neighborhood_council": "NCName",
        "area_planning_commission": "APC",
        "police_precinct": "PolicePrecinct",
        "service_date": "ServiceDate",
    },
    closure_attributes={"owner": "Owner", "status": "Status", "updated": "UpdatedDate"},
    outcomes={"Cancelled": Outcome.CANCELLED, "Referred Out": Outcome.TRANSFERRED},
)


def locate(row: Mapping[str, str], key: str) -> Location:
    """The normalised address's key, else a key of the request itself."""
    address = normalise_address(cell(row, "Address"))
    if address:
        return address_location("la", "address", address)
    return Location(f"la:sr:{key}", "request")


def mapping() -> City311Mapping:
    """The built-in ``la311`` mapping."""
    return City311Mapping(SPEC, locate)
