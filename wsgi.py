"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app``.

A bad configuration value or an invalid dataset stops start-up here with one clear message, not a traceback.
Exit code 3 is gunicorn's WORKER_BOOT_ERROR: the master stops instead of restarting the worker forever.
"""

import sys

from yurt import create_app
from yurt.core.settings import SettingsError
from yurt.missions.schemas.dataset import DatasetError

BOOT_ERROR = 3

try:
    app = create_app()
except SettingsError as exc:
    print(f"yurt: configuration error: {exc}", file=sys.stderr)
    sys.exit(BOOT_ERROR)
except DatasetError as exc:
    print(f"yurt: the mission dataset is invalid, refusing to start:\n{exc}", file=sys.stderr)
    sys.exit(BOOT_ERROR)
