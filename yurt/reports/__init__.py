"""Reports: travellers tell staff about a wrong mission record (``stores.missions``) or about another traveller
(``stores.travellers``); staff list, resolve and suspend. ``service.reports.ReportService`` holds the use cases
(built by ``service.wiring``), with what it needs of missions and travellers handed in as callables;
``http`` parses, calls it and maps its errors to problems."""
