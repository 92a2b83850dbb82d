"""The missions feature: Kazakhstan's posts abroad (dataset, nearest, responsible, hours, staff editing, audit,
quality). ``http`` (thin views) → ``service`` (the use cases, ``MissionService``) → ``stores`` → ``schemas`` →
``model`` (README "Architecture").
"""
