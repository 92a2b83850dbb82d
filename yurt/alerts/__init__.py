"""Travel alerts for an area: staff publish them, the public list and the answers carry them, travellers get
those that meet their cell and their registered trips.

Modules, from the pure core out:
``model`` (the record, time window, severities, trips, reach bands) and ``geometry`` (RFC 7946 areas checked
with shapely, the STRtree of prepared polygons) import no framework or storage; ``snapshot`` indexes every
alert of one store generation; ``store``/``store_redis`` and ``trips`` keep them (embedded and Redis, one
interface each); ``service`` holds the write use cases, ``book`` the worker's fresh snapshot and listing,
``answers`` and ``reach`` the read use cases. The HTTP edge is in ``yurt.api`` (``alerts``, ``alert_travellers``,
``alert_schemas``), as the dependency rules ask: this package imports no HTTP module.
"""
