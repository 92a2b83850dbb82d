"""Response schemas of the OGC API – Features pages (OGC 17-069r4, Part 1: Core), as ``/openapi.json`` names them.

They document what ``yurt.missions.http.ogc`` writes (the views assemble the bodies; items are pre-serialised
Features), in the shapes of the standard's own OpenAPI fragments (``landingPage``, ``confClasses``,
``collections``, ``collection``, ``featureCollectionGeoJSON``, ``featureGeoJSON``, ``link``), so a client
generated from the document reads every page into named models.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.missions.schemas.record import MissionFeatureSchema


class OgcLinkSchema(Schema):
    """``link`` (OGC 17-069r4 §7.2.1, RFC 8288): absolute, from ``YURT_BASE_URL`` or the request's ``Host``."""

    href = fields.String(required=True)
    rel = fields.String(required=True)
    type = fields.String(required=True)
    title = fields.String()


class OgcLandingPageSchema(Schema):
    title = fields.String(required=True)
    description = fields.String(required=True)
    links = fields.List(fields.Nested(OgcLinkSchema), required=True)


class OgcConformanceSchema(Schema):
    conformsTo = fields.List(fields.String(), required=True)  # noqa: N815 - the standard's name


class OgcSpatialExtentSchema(Schema):
    bbox = fields.List(fields.List(fields.Float(), validate=validate.Length(equal=4)), required=True)
    crs = fields.String(required=True)


class OgcExtentSchema(Schema):
    spatial = fields.Nested(OgcSpatialExtentSchema, required=True)


class OgcCollectionSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    itemType = fields.String(required=True, validate=validate.Equal("feature"))  # noqa: N815
    crs = fields.List(fields.String(), required=True)
    extent = fields.Nested(OgcExtentSchema, required=True)
    links = fields.List(fields.Nested(OgcLinkSchema), required=True)


class OgcCollectionsSchema(Schema):
    links = fields.List(fields.Nested(OgcLinkSchema), required=True)
    collections = fields.List(fields.Nested(OgcCollectionSchema), required=True)


class OgcItemsSchema(Schema):
    """One page of missions: ``next``/``prev`` links page with ``offset``."""

    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    numberMatched = fields.Integer(required=True, validate=validate.Range(min=0))  # noqa: N815
    numberReturned = fields.Integer(required=True, validate=validate.Range(min=0))  # noqa: N815
    timeStamp = fields.String(required=True, metadata={"description": "ISO 8601 in UTC (Z)"})  # noqa: N815
    links = fields.List(fields.Nested(OgcLinkSchema), required=True)
    features = fields.List(fields.Nested(MissionFeatureSchema), required=True)


class OgcItemSchema(MissionFeatureSchema):
    """One mission as in ``/v1/missions/<id>``, with its ``self`` and ``collection`` links."""

    links = fields.List(fields.Nested(OgcLinkSchema), required=True)
