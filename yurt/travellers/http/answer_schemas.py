"""Response schemas of ``nearby`` and ``areas``: what a traveller learns of others, and nothing finer.

They document what the views write; ``/openapi.json`` names them, so a generated client reads both answers into
named models.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.geo.privacy import AREA_RES, BANDS, K_ANONYMITY, MAX_RADIUS_KM

BAND_LABELS = [label for label, _ in BANDS]


class NearbyTravellerSchema(Schema):
    """A compatriot sharing presence: an opaque handle for this viewer and session, never an account id or a
    position; only the distance band between the two cells."""

    handle = fields.String(required=True, validate=validate.Regexp(r"^t_[a-z2-7]{26}$"), metadata={
        "description": "Opaque, per viewer and per presence session; POST /v1/travellers/me/blocks and "
                       "/v1/travellers/reports take it for a day"})
    display_name = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    about = fields.String(required=True, allow_none=True)
    band = fields.String(required=True, validate=validate.OneOf(BAND_LABELS))


class NearbyAnswerSchema(Schema):
    results = fields.List(fields.Nested(NearbyTravellerSchema), required=True, metadata={
        "description": "Nearer bands first; within a band an order that is fixed per viewer and session"})
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page"})
    radius_km = fields.Float(required=True, validate=validate.Range(0, MAX_RADIUS_KM))
    bands = fields.List(fields.String(validate=validate.OneOf(BAND_LABELS)), required=True)


class AreaCountSchema(Schema):
    cell = fields.String(required=True, metadata={"description": f"H3 cell at resolution {AREA_RES}"})
    count = fields.Integer(required=True, validate=validate.Range(min=K_ANONYMITY), metadata={
        "description": "The lower edge of the band: at least this many"})
    count_band = fields.String(required=True, metadata={"description": "e.g. `3–4`, `5–9`, `10–19`"})
    lat = fields.Float(required=True, validate=validate.Range(-90, 90), metadata={"description": "The cell's centre"})
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class AreasAnswerSchema(Schema):
    resolution = fields.Integer(required=True, validate=validate.Equal(AREA_RES))
    k_anonymity = fields.Integer(required=True, validate=validate.Equal(K_ANONYMITY), metadata={
        "description": "Cells with fewer travellers are left out"})
    areas = fields.List(fields.Nested(AreaCountSchema), required=True)
