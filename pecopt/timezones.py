"""Time-zone names: one check, shared by the scenario schema and the file readers.

A zone is an IANA name (``Europe/Helsinki``, ``UTC``) that :class:`zoneinfo.ZoneInfo` can
load, which is what pandas uses to localise times. The check happens where the name is
read, so that a misspelt zone is one clear message instead of a failure deep inside a
pandas call.
"""

from __future__ import annotations

import difflib
import zoneinfo
from functools import cache

__all__ = ["check_zone"]


@cache
def _zones() -> dict[str, str]:
    """Available IANA zone names, keyed by their lower-case form."""
    return {z.lower(): z for z in zoneinfo.available_timezones()}


def check_zone(name: str) -> str:
    """Return ``name`` if it is a known time zone.

    Raises
    ------
    ValueError
        ``unknown time zone 'Europe/Helsingfors' (did you mean 'Europe/Helsinki'?)``.
    """
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    else:
        return name
    zones = _zones()
    key = name.strip().lower()
    if key in zones:  # wrong case or stray spaces
        guess = [zones[key]]
    else:  # a city without its region, or a misspelt region/city name
        guess = sorted(z for k, z in zones.items() if k.endswith("/" + key))
        if not guess and "/" in key:
            guess = [zones[k] for k in difflib.get_close_matches(key, zones, n=1, cutoff=0.75)]
    hint = f"did you mean {guess[0]!r}?" if guess else "an IANA name, e.g. 'Europe/Helsinki'"
    raise ValueError(f"unknown time zone {name!r} ({hint})")
