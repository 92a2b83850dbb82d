"""Meetup HTTP: thin views over ``MeetupService``, which the composition root installs for them."""

from __future__ import annotations

from typing import cast

from flask import current_app

from yurt.meetups.service import MeetupService


def service() -> MeetupService:
    return cast(MeetupService, current_app.extensions["yurt.meetups"])
