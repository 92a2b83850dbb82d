"""Typed settings, read once from environment variables.

This is the only module that knows the names of environment variables. ``Settings.from_env(environ)`` parses
every ``YURT_*`` variable strictly: an unknown boolean spelling, a negative size or a malformed URL stops
start-up with a message naming the variable, instead of silently turning a typo into a default.

Every setting is declared once in ``SETTINGS`` (name, default, help); the README's configuration table is
checked against this list by a test, so a setting cannot exist undocumented.

A setting that goes away moves to ``RETIRED`` for one release: a deployment that still sets it keeps starting,
with a ``FutureWarning`` that names it and says why (an unknown variable would stop start-up); the release
named in ``refused_from`` deletes the entry, and the variable is then unknown like any other.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of true/false, 1/0, yes/no, on/off")


def _parse_positive_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("expected a finite number greater than 0")
    return value


def _parse_positive_int(raw: str) -> int:
    value = int(raw.strip(), 10)
    if value <= 0:
        raise ValueError("expected a whole number greater than 0")
    return value


def _parse_non_negative_int(raw: str) -> int:
    value = int(raw.strip(), 10)
    if value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _parse_redis_url(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss", "unix", "redis+cluster"}:
        raise ValueError("expected a redis://, rediss://, unix:// or redis+cluster:// URL")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError("the URL has no host")
    return raw


def _parse_path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("expected a path")
    return Path(raw).expanduser()


def _parse_str(raw: str) -> str:
    return raw


def _parse_optional_str(raw: str) -> str | None:
    return raw or None


def _parse_csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _parse_rate(raw: str) -> str:
    """A rate in the ``limits`` syntax (``10/hour``, ``5 per minute``); checked here so a typo stops start-up."""
    from limits import parse

    try:
        parse(raw)
    except ValueError:
        raise ValueError("expected a rate such as 10/hour or 5/minute") from None
    return raw.strip()


def _parse_token(raw: str) -> str | None:
    if not raw:
        return None
    if len(raw) < 16 or any(c.isspace() or not c.isprintable() for c in raw):
        raise ValueError("expected at least 16 printable characters without spaces")
    return raw


def _parse_log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level


def _parse_jwt_algorithms(raw: str) -> tuple[str, ...]:
    algorithms = _parse_csv(raw)
    allowed = {"HS256", "RS256", "ES256"}
    bad = [a for a in algorithms if a not in allowed]
    if bad or not algorithms:
        raise ValueError(f"expected a comma-separated subset of {sorted(allowed)}")
    return algorithms


@dataclass(frozen=True)
class Setting:
    """One environment variable: its field name, default (as the raw string) and meaning."""

    env: str
    attr: str
    default: str
    parse: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("YURT_DATA_FILE", "data_file", str(PROJECT_ROOT / "data" / "embassies.geojson"), _parse_path,
            "The tracked seed dataset (GeoJSON). Never rewritten at run time."),
    Setting("YURT_DATA_DIR", "data_dir", str(PROJECT_ROOT / "var"), _parse_path,
            "Embedded mode: folder for the working copy of mission data and the audit log, seeded from "
            "YURT_DATA_FILE on first start."),
    Setting("YURT_REDIS_URL", "redis_url", "", _parse_redis_url,
            "Unset: the embedded in-process default. Set (redis://host:port/db): Redis holds all state; "
            "redis+cluster://host:port means a Redis Cluster."),
    Setting("YURT_REDIS_CLUSTER", "redis_cluster", "false", _parse_bool,
            "Treat YURT_REDIS_URL as a Redis Cluster node (implied by a redis+cluster:// URL)."),
    Setting("YURT_REDIS_TIMEOUT_S", "redis_timeout_s", "0.25", _parse_positive_float,
            "Socket connect/read timeout for Redis calls, in seconds; the rate limiter fails open after it."),
    Setting("YURT_REDIS_OUTAGE_LOG_INTERVAL_S", "redis_outage_log_interval_s", "30", _parse_positive_float,
            "A Redis outage is logged at most once per this many seconds."),
    Setting("YURT_RELOAD_INTERVAL_S", "reload_interval_s", "0.5", _parse_positive_float,
            "How often a worker checks the store for a newer dataset version (propagation bound)."),
    Setting("YURT_JWT_SECRET", "jwt_secret", "", _parse_optional_str,
            "HS256 secret for bearer tokens (development and tests)."),
    Setting("YURT_JWT_PUBLIC_KEY_FILE", "jwt_public_key_file", "", _parse_optional_str,
            "PEM public key for RS256/ES256 bearer tokens (production)."),
    Setting("YURT_JWT_ALGORITHMS", "jwt_algorithms", "HS256", _parse_jwt_algorithms,
            "Accepted token algorithms, comma-separated (HS256, RS256, ES256)."),
    Setting("YURT_JWT_ISSUER", "jwt_issuer", "", _parse_optional_str,
            "Required `iss` claim, when set."),
    Setting("YURT_JWT_AUDIENCE", "jwt_audience", "", _parse_optional_str,
            "Required `aud` claim, when set."),
    Setting("YURT_JWT_MAX_LIFETIME_S", "jwt_max_lifetime_s", "2592000", _parse_positive_int,
            "Longest a token may still be valid for: a token whose `exp` lies further from now than this many "
            "seconds (default 30 days) is refused with 401, so a leaked or mis-minted token cannot live for ever."),
    Setting("YURT_MAX_BODY_BYTES", "max_body_bytes", "1048576", _parse_positive_int,
            "Largest accepted request body; larger bodies get a 413 problem, chunked ones too."),
    Setting("YURT_CORS_ORIGINS", "cors_origins", "", _parse_csv,
            "Comma-separated origins allowed by CORS; empty means no CORS headers."),
    Setting("YURT_RATE_LIMIT", "rate_limit", "600/minute", _parse_str,
            "Default per-client rate limit (flask-limiter syntax)."),
    Setting("YURT_TRAVELLER_SECRET", "traveller_secret", "", _parse_optional_str,
            "Key for travellers' pseudonyms, per-viewer handles and order (HMAC). Unset: derived from "
            "YURT_JWT_SECRET; Redis mode needs one of the two."),
    Setting("YURT_PRESENCE_DAILY_BUDGET", "presence_daily_budget", "48", _parse_positive_int,
            "Position updates a traveller may make per 24 hours (besides at most one per minute)."),
    Setting("YURT_REPORT_RATE", "report_rate", "10/hour", _parse_rate,
            "Traveller reports one traveller may file (POST /v1/travellers/reports); over it a 429 with "
            "Retry-After. One open report per reporter and reported traveller besides."),
    Setting("YURT_MEETUP_RATE", "meetup_rate", "10/hour", _parse_rate,
            "Meetups one traveller may create (POST /v1/meetups); over it a 429 with Retry-After."),
    Setting("YURT_MEETUPS_PER_ORGANISER", "meetups_per_organiser", "5", _parse_positive_int,
            "Active meetups (not cancelled, not yet ended) one traveller may organise at once; over it a 409."),
    Setting("YURT_MEETUP_RETENTION_DAYS", "meetup_retention_days", "7", _parse_non_negative_int,
            "A meetup and its attendee list are deleted this many days after it ends (cancelled ones too)."),
    Setting("YURT_METRICS_TOKEN", "metrics_token", "", _parse_token,
            "When set, /metrics needs `Authorization: Bearer <token>` (at least 16 characters). Unset: /metrics "
            "answers loopback clients only, and never a request relayed by a proxy."),
    Setting("YURT_LOG_LEVEL", "log_level", "INFO", _parse_log_level,
            "Log level for the JSON logs."),
    Setting("YURT_BASE_URL", "base_url", "", _parse_optional_str,
            "Public base URL used in OGC API links. Unset: links come from the request's Host, and those answers "
            "are Cache-Control: private with Vary: Host; set it to let shared caches keep them."),
    Setting("YURT_ALERT_MAX_VERTICES", "alert_max_vertices", "10000", _parse_positive_int,
            "Most positions an alert's area may have (closing positions included); more is a 422 naming area."),
    Setting("YURT_ALERTS_MAX_AGE_S", "alerts_max_age_s", "60", _parse_non_negative_int,
            "Longest Cache-Control max-age of GET /v1/alerts, in seconds (never past the next start or end of "
            "an alert): how late a phone may learn of a newly published alert."),
)


@dataclass(frozen=True)
class Retired:
    """A setting that went away: accepted and ignored, with a warning, until the release ``refused_from``."""

    env: str
    refused_from: str
    reason: str


_NO_CACHE = ("the nearest result cache was removed: the exact index answers faster than a Redis round trip at "
             "every size measured (README, \"Nearest: no result cache\")")
RETIRED: tuple[Retired, ...] = (
    Retired("YURT_CACHE_ENABLED", "0.3.0", _NO_CACHE),
    Retired("YURT_NEAREST_CACHE_MIN_MISSIONS", "0.3.0", _NO_CACHE),
)


# Each default is written once, as the raw string in SETTINGS, and parsed like a value from the environment.
_DEFAULTS: dict[str, Any] = {s.attr: s.parse(s.default) for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    data_file: Path = _DEFAULTS["data_file"]
    data_dir: Path = _DEFAULTS["data_dir"]
    redis_url: str | None = _DEFAULTS["redis_url"]
    redis_cluster: bool = _DEFAULTS["redis_cluster"]
    redis_timeout_s: float = _DEFAULTS["redis_timeout_s"]
    redis_outage_log_interval_s: float = _DEFAULTS["redis_outage_log_interval_s"]
    reload_interval_s: float = _DEFAULTS["reload_interval_s"]
    jwt_secret: str | None = _DEFAULTS["jwt_secret"]
    jwt_public_key_file: str | None = _DEFAULTS["jwt_public_key_file"]
    jwt_algorithms: tuple[str, ...] = _DEFAULTS["jwt_algorithms"]
    jwt_issuer: str | None = _DEFAULTS["jwt_issuer"]
    jwt_audience: str | None = _DEFAULTS["jwt_audience"]
    jwt_max_lifetime_s: int = _DEFAULTS["jwt_max_lifetime_s"]
    max_body_bytes: int = _DEFAULTS["max_body_bytes"]
    cors_origins: tuple[str, ...] = _DEFAULTS["cors_origins"]
    rate_limit: str = _DEFAULTS["rate_limit"]
    traveller_secret: str | None = _DEFAULTS["traveller_secret"]
    presence_daily_budget: int = _DEFAULTS["presence_daily_budget"]
    report_rate: str = _DEFAULTS["report_rate"]
    meetup_rate: str = _DEFAULTS["meetup_rate"]
    meetups_per_organiser: int = _DEFAULTS["meetups_per_organiser"]
    meetup_retention_days: int = _DEFAULTS["meetup_retention_days"]
    metrics_token: str | None = _DEFAULTS["metrics_token"]
    log_level: str = _DEFAULTS["log_level"]
    base_url: str | None = _DEFAULTS["base_url"]
    alert_max_vertices: int = _DEFAULTS["alert_max_vertices"]
    alerts_max_age_s: int = _DEFAULTS["alerts_max_age_s"]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse every YURT_* variable; raise SettingsError naming the first bad one."""
        env = os.environ if environ is None else environ
        retired = {r.env: r for r in RETIRED}
        known = {s.env for s in SETTINGS} | retired.keys()
        unknown = sorted(k for k in env if k.startswith("YURT_") and k not in known)
        if unknown:
            raise SettingsError(f"{unknown[0]}: unknown setting (known: see README's configuration table)")
        for name in sorted(retired.keys() & env.keys()):
            gone = retired[name]
            warnings.warn(f"{name} is deprecated and ignored; remove it (refused from {gone.refused_from} on): "
                          f"{gone.reason}", FutureWarning, stacklevel=2)
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env, setting.default)
            try:
                values[setting.attr] = setting.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{setting.env}={raw!r}: {exc}") from None
        url = values["redis_url"]
        if url and url.startswith("redis+cluster://"):
            # A cluster URL says it is a cluster; store it in the plain form clients take.
            values["redis_cluster"] = True
            values["redis_url"] = "redis://" + url.removeprefix("redis+cluster://")
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules that a single parser cannot see."""
        if self.redis_cluster and not self.redis_url:
            raise SettingsError("YURT_REDIS_CLUSTER=true needs YURT_REDIS_URL")
        if self.jwt_public_key_file and not Path(self.jwt_public_key_file).is_file():
            raise SettingsError(f"YURT_JWT_PUBLIC_KEY_FILE={self.jwt_public_key_file!r}: no such file")
        if "HS256" not in self.jwt_algorithms and not self.jwt_public_key_file:
            raise SettingsError("YURT_JWT_ALGORITHMS without HS256 needs YURT_JWT_PUBLIC_KEY_FILE")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)
