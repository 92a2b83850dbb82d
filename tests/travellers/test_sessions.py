"""Handles never link presence sessions (issue 11), in both modes.

The probe: a viewer saw the same handle for a traveller after that traveller erased everything and shared
again under another name, so one account could follow everyone around it indefinitely. Now a session starts
with a share after an erase, a presence ``DELETE`` or an expiry, and every viewer sees new handles; blocks
and open reports are kept against the pseudonym and hold across sessions; staff handles stay stable; meetup
attendee handles follow the same rule.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.travellers.helpers import Clock, all_nearby, auth, install_clock, share

DUBAI = (25.2048, 55.2708)
NEAR = (25.2070, 55.2730)  # ~300 m away


def handles(client: FlaskClient, viewer: str) -> dict[str, str]:
    """Display name → the handle ``viewer`` is shown."""
    return {r["display_name"]: r["handle"] for r in all_nearby(client, viewer, radius_km=10)}


def staff_reports(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/v1/staff/traveller-reports", headers=auth("boss", "staff"))
    assert response.status_code == 200
    reports = response.json["reports"] if response.json else []
    assert isinstance(reports, list)
    return reports


def report(client: FlaskClient, reporter: str, handle: str) -> None:
    filed = client.post("/v1/travellers/reports", json={"handle": handle, "reason": "rude"}, headers=auth(reporter))
    assert filed.status_code == 202, filed.json


def new_session(client: FlaskClient, clock: Clock, sub: str, how: str, name: str) -> None:
    """End ``sub``'s session the way ``how`` says, then share again (after the one-minute update limit)."""
    if how == "delete":
        assert client.delete("/v1/travellers/me/presence", headers=auth(sub)).status_code == 204
    elif how == "erase":
        assert client.delete("/v1/travellers/me", headers=auth(sub)).status_code == 204
    clock.advance(minutes=16 if how == "expiry" else 2)  # "expiry": the 15-minute share has run out
    assert share(client, sub, *NEAR, display_name=name, share_minutes=15).status_code == 200


def test_every_new_session_gets_new_handles_for_every_viewer(mode_app: Flask) -> None:
    clock = install_clock(mode_app)
    client = mode_app.test_client()
    for viewer in ("viewer", "watcher"):
        assert share(client, viewer, *DUBAI, share_minutes=1440).status_code == 200
    assert share(client, "target", *NEAR, display_name="Aidos", share_minutes=15).status_code == 200
    seen = {v: [handles(client, v)["Aidos"]] for v in ("viewer", "watcher")}
    report(client, "viewer", seen["viewer"][0])

    clock.advance(minutes=2)  # a move within the session keeps the handles
    assert share(client, "target", *DUBAI, display_name="Aidos", share_minutes=15).status_code == 200
    assert {v: handles(client, v)["Aidos"] for v in seen} == {v: h[0] for v, h in seen.items()}

    for how in ("delete", "expiry", "erase"):
        new_session(client, clock, "target", how, "Aidos")  # the same name: only the handle could link them
        for viewer, history in seen.items():
            handle = handles(client, viewer)["Aidos"]
            assert handle not in history, (how, viewer)
            history.append(handle)
    assert not set(seen["viewer"]) & set(seen["watcher"])  # and never shared between viewers

    # Reports made in the first and the last session name one traveller for staff, who can suspend them now.
    report(client, "watcher", seen["watcher"][-1])
    targets = {r["target"] for r in staff_reports(client)}
    assert len(targets) == 1
    (staff_handle,) = targets
    assert client.post(f"/v1/staff/travellers/{staff_handle}/suspension",
                       headers=auth("boss", "staff")).status_code == 200
    assert "Aidos" not in handles(client, "viewer")
    clock.advance(minutes=2)
    assert_problem(share(client, "target", *NEAR), 403)


def test_blocks_hold_across_sessions_and_own_blocks_go_with_erase(mode_app: Flask) -> None:
    clock = install_clock(mode_app)
    client = mode_app.test_client()
    for sub, name in (("blocker", "Blocker"), ("friend", "Friend")):
        assert share(client, sub, *DUBAI, display_name=name, share_minutes=1440).status_code == 200
    assert share(client, "target", *NEAR, display_name="Aidos", share_minutes=15).status_code == 200
    first = handles(client, "blocker")["Aidos"]
    assert client.post("/v1/travellers/me/blocks", json={"handle": first}, headers=auth("blocker")).status_code == 204
    assert client.post("/v1/travellers/me/blocks", json={"handle": handles(client, "target")["Friend"]},
                       headers=auth("target")).status_code == 204
    for how in ("delete", "expiry", "erase"):
        new_session(client, clock, "target", how, f"Aidos {how}")
        assert not any(n.startswith("Aidos") for n in handles(client, "blocker")), how
        assert "Blocker" not in handles(client, "target"), how
    # The target's own block went with its erase; the block made against it did not.
    assert "Friend" in handles(client, "target") and "Aidos erase" in handles(client, "friend")
    # A handle from an earlier session still names the traveller for a day (for a late report).
    report(client, "blocker", first)
    assert len({r["target"] for r in staff_reports(client)}) == 1


def test_meetup_attendee_handles_follow_sessions(mode_app: Flask) -> None:
    clock = install_clock(mode_app)
    client = mode_app.test_client()
    assert share(client, "organiser", *DUBAI, share_minutes=1440).status_code == 200
    assert share(client, "attendee", *NEAR, display_name="Aigerim").status_code == 200
    body = {"title": "Nauryz", "description": "", "starts_at": "2026-03-21T14:00:00+04:00",
            "ends_at": "2026-03-21T18:00:00+04:00", "lat": DUBAI[0], "lon": DUBAI[1], "place_name": "Park",
            "capacity": 5}
    meetups = [client.post("/v1/meetups", json=body, headers=auth("organiser")).json["id"] for _ in range(2)]
    for mid in meetups:
        assert client.post(f"/v1/meetups/{mid}/attendance", headers=auth("attendee")).status_code == 200

    def attendee_handle(mid: str) -> str:
        (attendee,) = client.get(f"/v1/meetups/{mid}", headers=auth("organiser")).json["attendees"]
        assert isinstance(attendee["handle"], str)
        return attendee["handle"]

    first = handles(client, "organiser")["Aigerim"]
    assert attendee_handle(meetups[0]) == attendee_handle(meetups[1]) == first  # as nearby shows her now
    assert client.delete("/v1/travellers/me/presence", headers=auth("attendee")).status_code == 204
    resting = [attendee_handle(mid) for mid in meetups]  # not sharing: a handle of that meetup alone
    assert len({first, *resting}) == 3
    clock.advance(minutes=2)
    assert share(client, "attendee", *NEAR, display_name="Aigerim").status_code == 200
    second = handles(client, "organiser")["Aigerim"]
    assert attendee_handle(meetups[0]) == second and second not in (first, *resting)
