"""Travel alerts for an area: staff publish them, the public list and the answers carry them, travellers get
those that meet their cell and their registered trips.

Layers, from the pure core out: ``model`` (the record, time window, severities, trips, reach bands; the RFC 7946
areas checked with shapely and their index, ``geometry``; every alert of one store generation indexed,
``snapshot``) imports no framework or storage; ``stores`` keep alerts and trips (embedded and Redis, one
interface each); ``service`` holds the use cases: ``AlertService`` (``alerts``; built by ``wiring``) over the
write rules (``writes``), the worker's fresh snapshot and listing (``book``), the alerts at a point or for a
traveller (``answers``), trips (``trips``) and reach (``reach``), with what it needs of the travellers feature
as a Protocol (``presence``); ``http`` parses, calls the service and maps its errors to problems. Missions
attach alerts to their answers through ``service.answers``; this package imports no other feature's HTTP or
stores.
"""
