"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app``.

A bad configuration value or an invalid dataset stops start-up here with one clear line, not a traceback.
"""

import sys

from yurt import create_app
from yurt.dataset import DatasetError
from yurt.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    sys.exit(f"yurt: configuration error: {exc}")
except DatasetError as exc:
    sys.exit(f"yurt: the mission dataset is invalid, refusing to start:\n{exc}")
