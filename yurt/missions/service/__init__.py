"""The missions use cases: plain functions that take the ``MissionService`` (``mission_service``: the store, the
catalogue, the locator, the alert book and settings values), the clock as ``now`` and their arguments, and
raise domain errors (``errors``, the stores' ``StalePrecondition``); they know nothing of Flask or HTTP.

``nearest`` (the nearest and responsible answers), ``staff`` (edits, bulk replace, dataset facts), ``audit``
(listings), ``restore`` and ``restore_one`` (undo), ``tools`` (quality report, district outlines), and
``catalogue`` (this worker's current ``Dataset``).
"""
