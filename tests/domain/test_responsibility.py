"""Which post is responsible: district, resident, accredited, home, none; who can act consularly."""

from __future__ import annotations

from typing import Any

from yurt.domain.responsibility import responsible


def post(id_: str, type_: str, country: str, *, districts: list[str] | None = None,
         accredited: list[str] | None = None, services: list[str] | None = None, status: str = "open"
         ) -> dict[str, Any]:
    return {"id": id_, "type": type_, "host_country": country, "districts": districts or [],
            "accredited_to": accredited or [], "services": ["passports"] if services is None else services,
            "status": status}


POSTS = [
    post("emb-de", "embassy", "DE", accredited=["LU"]),
    post("cg-de-ffm", "consulate_general", "DE", districts=["DE-HE", "DE-BW"]),
    post("cg-de-muc", "consulate_general", "DE", districts=["DE-BY", "DE-BW"]),
    post("cg-hk", "consulate_general", "HK"),
    post("hc-fr-nice", "honorary_consulate", "FR", services=["emergency_assistance"]),
    post("pm-ch", "permanent_mission", "CH", services=[]),
    post("emb-us", "embassy", "US", accredited=["BS"]),
    post("emb-ca", "embassy", "CA", accredited=["BS"]),
    post("emb-closed", "embassy", "NO", status="closed"),
]


def ids(result: Any) -> list[str]:
    return [POSTS[i]["id"] for i in result.mission_indices]


def test_district_beats_resident() -> None:
    result = responsible(POSTS, "DE", ["DE-HE"])
    assert (result.basis, ids(result), result.conflict) == ("district", ["cg-de-ffm"], None)


def test_overlapping_districts_are_all_returned_with_a_conflict() -> None:
    result = responsible(POSTS, "DE", ["DE-BW"])
    assert ids(result) == ["cg-de-ffm", "cg-de-muc"] and result.conflict


def test_ambiguous_subdivision_is_flagged() -> None:
    result = responsible(POSTS, "DE", ["DE-HE", "DE-BY"], subdivision_ambiguous=True)
    assert ids(result) == ["cg-de-ffm", "cg-de-muc"] and "border" in (result.conflict or "")


def test_outside_every_district_the_embassy_answers() -> None:
    assert ids(responsible(POSTS, "DE", ["DE-BE"])) == ["emb-de"]


def test_a_consulate_without_districts_is_resident_where_there_is_no_embassy() -> None:
    result = responsible(POSTS, "HK", ["HK-KYT"])
    assert (result.basis, ids(result)) == ("resident", ["cg-hk"])


def test_accredited_and_conflicting_accreditation() -> None:
    assert ids(responsible(POSTS, "LU")) == ["emb-de"]
    result = responsible(POSTS, "BS")
    assert result.basis == "accredited" and ids(result) == ["emb-us", "emb-ca"] and result.conflict


def test_honorary_and_permanent_missions_without_consular_services_never_answer() -> None:
    assert responsible(POSTS, "FR").basis == "none"
    assert responsible(POSTS, "CH").basis == "none"


def test_closed_posts_never_answer() -> None:
    assert responsible(POSTS, "NO").basis == "none"


def test_home_and_nowhere() -> None:
    assert responsible(POSTS, "KZ").basis == "home"
    assert responsible(POSTS, None).basis == "none"
