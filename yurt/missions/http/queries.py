"""Query strings of the public missions API (list, nearest, responsible, OGC), as marshmallow schemas;
``/openapi.json`` documents the same classes. The field types they share with other features are in
``yurt.core.http.queries``.
"""

from __future__ import annotations

from marshmallow import fields, validate

from yurt.core.http.queries import BBox, ChoiceList, Country, Lat, Lon, QueryInt, StrictQuery
from yurt.missions.schemas.record import MISSION_TYPES, SERVICES, STATUSES


class MissionListQuery(StrictQuery):
    country = Country()
    type = fields.String(validate=validate.OneOf(MISSION_TYPES))
    service = fields.String(validate=validate.OneOf(SERVICES))
    status = fields.String(validate=validate.OneOf(STATUSES))
    bbox = BBox(metadata={"description": "minLon,minLat,maxLon,maxLat; minLon > maxLon crosses the antimeridian",
                          "type": "string"})
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "text in the name (en/kk/ru) or city, case- and accent-blind"})


class NearestQuery(StrictQuery):
    lat = Lat(required=True)
    lon = Lon(required=True)
    limit = QueryInt(load_default=5, validate=validate.Range(1, 50), strict=False)
    type = ChoiceList(MISSION_TYPES, metadata={"description": (
        "Mission types, comma-separated, or `any`. Default: career posts only (embassy, consulate_general, "
        "consulate), unless `service` is given, which then admits every type offering it.")})
    service = fields.String(validate=validate.OneOf(SERVICES))
    status = ChoiceList(STATUSES, metadata={"description": (
        "Statuses, comma-separated, or `any`. Default: `open,limited`.")})
    open_now = fields.Boolean(load_default=False, truthy={"true", "1"}, falsy={"false", "0"})


class ResponsibleQuery(StrictQuery):
    lat = Lat()
    lon = Lon()
    country = Country()


class OgcItemsQuery(StrictQuery):
    bbox = BBox(metadata={"type": "string"})
    limit = QueryInt(load_default=10, validate=validate.Range(1, 1000))
    offset = QueryInt(load_default=0, validate=validate.Range(0, 1_000_000))
    f = fields.String(validate=validate.OneOf(["json", "geojson"]))
    country = Country()
    type = fields.String(validate=validate.OneOf(MISSION_TYPES))


class OgcQuery(StrictQuery):
    f = fields.String(validate=validate.OneOf(["json"]))
