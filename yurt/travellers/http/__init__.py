"""Traveller HTTP: thin views over ``TravellerService``, which the composition root installs for them."""

from __future__ import annotations

from typing import cast

from flask import current_app

from yurt.travellers.service import TravellerService


def service() -> TravellerService:
    return cast(TravellerService, current_app.extensions["yurt.travellers"])
