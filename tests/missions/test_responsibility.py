"""Which post is responsible: district, seat, resident (with an assumed nearer post), accredited, home, none."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yurt.geo.subdivisions import subdivision_closure
from yurt.missions.model.responsibility import responsible


def post(id_: str, type_: str, country: str, *, districts: list[str] | None = None,
         accredited: list[str] | None = None, services: list[str] | None = None, status: str = "open",
         refer_to: str | None = None) -> dict[str, Any]:
    return {"id": id_, "type": type_, "host_country": country, "districts": districts or [],
            "accredited_to": accredited or [], "services": ["passports"] if services is None else services,
            "status": status, "refer_to": refer_to}


POSTS = [
    post("emb-de", "embassy", "DE", accredited=["LU"]),
    post("cg-de-ffm", "consulate_general", "DE", districts=["DE-HE", "DE-BW"]),
    post("cg-de-muc", "consulate_general", "DE", districts=["DE-BY", "DE-BW"]),
    post("cg-hk", "consulate_general", "HK", accredited=["MO"]),
    post("hc-fr-nice", "honorary_consulate", "FR", services=["emergency_assistance"]),
    post("pm-ch", "permanent_mission", "CH", services=[]),
    post("emb-us", "embassy", "US", accredited=["BS"]),
    post("emb-ca", "embassy", "CA", accredited=["BS"]),
    post("emb-closed", "embassy", "NO", status="closed"),
    post("emb-ru", "embassy", "RU"),
    post("c-ru-omsk", "consulate", "RU"),
    post("cg-ru-ekb", "consulate_general", "RU", districts=["RU-SVE", "RU-TYU"]),
    post("cg-ru-kzn", "consulate_general", "RU", districts=["RU-OMS", "RU-TA"]),  # an old list claiming Omsk
    post("emb-ir", "embassy", "IR", status="suspended", refer_to="emb-tm"),
    post("emb-tm", "embassy", "TM"),
    post("cg-fr-sxb", "consulate_general", "FR", districts=["FR-GES"]),
    post("emb-xx-closed", "embassy", "AM", status="closed", refer_to="emb-ge"),
    post("emb-ge", "embassy", "GE"),
]
SEATS: list[str | None] = [None] * len(POSTS)
SEATS[0], SEATS[1], SEATS[2], SEATS[9], SEATS[10], SEATS[11] = "DE-BE", "DE-HE", "DE-BY", "RU-MOW", "RU-OMS", "RU-SVE"
SEATS[12], SEATS[15] = "RU-TA", "FR-67"
# Kilometres from Novosibirsk (55.0 N, 82.9 E), rounded: Moscow 2,810; Omsk 610; Yekaterinburg 1,400; Kazan 2,100.
NOVOSIBIRSK_KM = {9: 2810.0, 10: 610.0, 11: 1400.0, 12: 2100.0}


def ids(result: Any) -> list[str]:
    return [POSTS[i]["id"] for i in result.mission_indices]


def sources(result: Any) -> list[tuple[str, str]]:
    return [(POSTS[item.index]["id"], item.source) for item in result.listed]


def test_district_beats_resident() -> None:
    result = responsible(POSTS, "DE", ["DE-HE"], seats=SEATS)
    assert (result.basis, sources(result), result.conflict, result.uncertain) == (
        "district", [("cg-de-ffm", "published")], None, False)


def test_overlapping_districts_are_all_returned_with_a_conflict() -> None:
    result = responsible(POSTS, "DE", ["DE-BW"], seats=SEATS)
    assert ids(result) == ["cg-de-ffm", "cg-de-muc"] and result.conflict and result.uncertain


def test_ambiguous_subdivision_is_flagged() -> None:
    result = responsible(POSTS, "DE", ["DE-HE", "DE-BY"], subdivision_ambiguous=True, seats=SEATS)
    assert ids(result) == ["cg-de-ffm", "cg-de-muc"] and "border" in (result.conflict or "")
    assert result.uncertain


def test_a_post_serves_the_subdivision_it_sits_in() -> None:
    result = responsible(POSTS, "DE", ["DE-BE"], seats=SEATS)
    assert (result.basis, sources(result)) == ("seat", [("emb-de", "seat")])
    omsk = responsible(POSTS, "RU", ["RU-OMS"], seats=SEATS)
    # Kazan's published list still claims Omsk: the seat post comes first, the other claim is a conflict.
    assert sources(omsk) == [("c-ru-omsk", "seat"), ("cg-ru-kzn", "published")]
    assert omsk.basis == "district" and "older" in (omsk.conflict or "") and omsk.uncertain


def test_without_a_seat_or_district_the_embassy_and_probably_a_nearer_post() -> None:
    result = responsible(POSTS, "RU", ["RU-NVS"], seats=SEATS, distance_km=NOVOSIBIRSK_KM.__getitem__)
    assert result.basis == "resident" and result.uncertain
    # Yekaterinburg publishes districts without Novosibirsk, so only Omsk can be assumed.
    assert sources(result) == [("emb-ru", "country"), ("c-ru-omsk", "assumed")]
    whole_country = responsible(POSTS, "RU", (), seats=SEATS)
    assert sources(whole_country) == [("emb-ru", "country")] and not whole_country.uncertain


def test_a_farther_consulate_is_not_assumed() -> None:
    moscow_region = {9: 40.0, 10: 2200.0, 11: 1400.0, 12: 700.0}
    result = responsible(POSTS, "RU", ["RU-MOS"], seats=SEATS, distance_km=moscow_region.__getitem__)
    assert sources(result) == [("emb-ru", "country")] and not result.uncertain


def test_levels_compare_through_parent_codes() -> None:
    assert "FR-GES" in subdivision_closure("FR-57") and "FR-GES" in subdivision_closure("FR-67")
    metz = responsible(POSTS, "FR", ["FR-57"], seats=SEATS)  # Moselle, in the Grand Est region
    assert (metz.basis, sources(metz)) == ("district", [("cg-fr-sxb", "published")])


def test_a_consulate_without_districts_is_resident_where_there_is_no_embassy() -> None:
    result = responsible(POSTS, "HK", ["HK-KYT"], seats=SEATS)
    assert (result.basis, sources(result)) == ("resident", [("cg-hk", "country")])


def test_accreditation_counts_for_every_post_type() -> None:
    assert sources(responsible(POSTS, "MO")) == [("cg-hk", "accredited")]
    assert ids(responsible(POSTS, "LU")) == ["emb-de"]
    result = responsible(POSTS, "BS")
    assert result.basis == "accredited" and ids(result) == ["emb-us", "emb-ca"] and result.conflict


def test_a_referring_post_is_followed_by_its_stand_in() -> None:
    result = responsible(POSTS, "IR", ["IR-07"], seats=SEATS)
    assert sources(result) == [("emb-ir", "country"), ("emb-tm", "referred")]
    closed = responsible(POSTS, "AM", ["AM-ER"], seats=SEATS)
    assert sources(closed) == [("emb-xx-closed", "country"), ("emb-ge", "referred")]


def test_honorary_and_permanent_missions_without_consular_services_never_answer() -> None:
    assert responsible(POSTS, "CH").basis == "none"


def test_closed_posts_never_answer() -> None:
    assert responsible(POSTS, "NO").basis == "none"


def test_home_and_nowhere() -> None:
    assert responsible(POSTS, "KZ").basis == "home"
    assert responsible(POSTS, None).basis == "none"


CODES = ["XX-A", "XX-B", "XX-C", "XX-D"]
TYPES = ["embassy", "consulate_general", "consulate", "honorary_consulate", "permanent_mission"]


@st.composite
def countries(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str | None]]:
    """A random country's posts: types, seats and published districts that may overlap or contradict."""
    n = draw(st.integers(1, 6))
    posts, seats = [], []
    for i in range(n):
        posts.append(post(f"p{i}", draw(st.sampled_from(TYPES)), "XX",
                          districts=draw(st.lists(st.sampled_from(CODES), unique=True, max_size=3))))
        seats.append(draw(st.sampled_from(CODES)))
    return posts, seats


@given(countries(), st.data())
def test_every_open_career_post_is_first_in_its_own_seat(country: Any, data: st.DataObject) -> None:
    posts, seats = country
    career = [i for i, p in enumerate(posts) if p["type"] in ("embassy", "consulate_general", "consulate")]
    if not career:
        return
    me = data.draw(st.sampled_from(career))
    others_km = {i: data.draw(st.floats(0.001, 5000)) for i in range(len(posts))}
    others_km[me] = 0.0  # the point is the post's own

    result = responsible(posts, "XX", [seats[me]], seats=seats, distance_km=others_km.__getitem__)
    assert result.mission_indices[0] == me
    assert result.listed[0].source in ("seat", "published")
    assert result.basis in ("seat", "district")


@pytest.mark.parametrize(("type_", "services", "counts"), [
    ("embassy", ["passports"], True),
    ("consulate_general", ["passports"], True),
    ("consulate", ["passports"], True),
    ("honorary_consulate", ["notary"], True),  # an honorary consul who lists a consular service
    ("honorary_consulate", ["emergency_assistance"], False),  # one who cannot act consularly
    ("permanent_mission", ["visas"], True),
    ("permanent_mission", [], False),
])
def test_accreditation_by_each_post_type(type_: str, services: list[str], counts: bool) -> None:
    posts = [post("elsewhere", type_, "AA", accredited=["ZZ"], services=services)]
    result = responsible(posts, "ZZ")
    listed = [(posts[item.index]["id"], item.source) for item in result.listed]
    assert (result.basis, listed) == (
        ("accredited", [("elsewhere", "accredited")]) if counts else ("none", []))
