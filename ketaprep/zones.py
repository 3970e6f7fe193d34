"""Time zones by IANA name, from zoneinfo with the tzdata package as a fallback."""

from __future__ import annotations

import zoneinfo

from ketaprep.errors import SetError, UsageError


def check_zone(name: str, context: str, usage: bool = False) -> zoneinfo.ZoneInfo:
    """The zone for an IANA name like America/Toronto, or a clear error."""
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as `America`
        error = UsageError if usage else SetError
        raise error(
            f'{context}: "{name}" is not a time zone (examples: America/Toronto, America/St_Johns, '
            "America/Vancouver)"
        ) from None
