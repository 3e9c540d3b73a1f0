"""NYC 311 (NYC Open Data "311 Service Requests from 2010 to Present", 46-column export).

NYC files every request under a Complaint Type, so requests are ``complaint`` touchpoints.
The customer is the place the complaint is about, most stable key first:

1. the BBL (borough-block-lot tax parcel), when it is a real one: 10 digits, borough 1-5,
   not all zeros (the export writes ``0000000000`` for "unknown");
2. the incident address with its ZIP, normalised and hashed (the address itself is sealed,
   and also carried, sealed, with a BBL key);
3. the intersection (streets sorted, so "A & B" and "B & A" are one place) with the borough;
4. nothing usable: a key of the request itself, so the row still maps but joins no journey.
"""

from __future__ import annotations

from collections.abc import Mapping

from events.taxonomy import Kind
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

#: ``Open Data Channel Type`` -> channel. UNKNOWN is NYC's own "not recorded".
CHANNELS = {
    "PHONE": "phone",
    "ONLINE": "web",
    "MOBILE": "app",
    "UNKNOWN": "other",
    "OTHER": "other",
}

SPEC = City311Spec(
    system="nyc311",
    key_column="Unique Key",
    created_column="Created Date",
    closed_column="Closed Date",
    status_column="Status",
    service_type_column="Complaint Type",
    closer_column="Agency",
    timestamps=Timestamps.of(US_311_TIME_FORMAT, "America/New_York"),
    kind=Kind.COMPLAINT,
    channel=ValueRule(column="Open Data Channel Type", values=CHANNELS, default="other"),
    request_attributes={
        "agency": "Agency",
        "descriptor": "Descriptor",
        "location_type": "Location Type",
        "address_type": "Address Type",
        "borough": "Borough",
        "zip": "Incident Zip",
        "community_board": "Community Board",
        "status": "Status",
        "due_date": "Due Date",
    },
    closure_attributes={
        "agency": "Agency",
        "status": "Status",
        "resolution_updated": "Resolution Action Updated Date",
    },
    closure_text_column="Resolution Description",
)


def _valid_bbl(bbl: str) -> bool:
    return len(bbl) == 10 and bbl.isdigit() and bbl[0] in "12345" and bbl != "0" * 10


def _incident_address(row: Mapping[str, str]) -> str | None:
    street = cell(row, "Incident Address")
    return normalise_address(street, cell(row, "Incident Zip")) if street else None


def _bbl(row: Mapping[str, str]) -> Location | None:
    # The address still travels (sealed) with a parcel key: auditors replaying the scene need
    # to see where the problem was, and the parcel number alone does not say.
    bbl = cell(row, "BBL")
    return Location(f"nyc:bbl:{bbl}", "bbl", _incident_address(row)) if _valid_bbl(bbl) else None


def _address(row: Mapping[str, str]) -> Location | None:
    address = _incident_address(row)
    return address_location("nyc", "address", address) if address else None


def _intersection(row: Mapping[str, str]) -> Location | None:
    streets = sorted(" ".join(cell(row, c).upper().split()) for c in _INTERSECTION_COLUMNS)
    if not all(streets):
        return None
    place = normalise_address(" & ".join(streets), cell(row, "Borough"))
    return address_location("nyc", "intersection", place)


_INTERSECTION_COLUMNS = ("Intersection Street 1", "Intersection Street 2")
_LOCATORS = (_bbl, _address, _intersection)


def locate(row: Mapping[str, str], key: str) -> Location:
    """The customer key of a row: the first locator that finds one, else the request itself."""
    for locator in _LOCATORS:
        found = locator(row)
        if found is not None:
            return found
    return Location(f"nyc:sr:{key}", "request")


def mapping() -> City311Mapping:
    """The built-in ``nyc311`` mapping."""
    return City311Mapping(SPEC, locate)
