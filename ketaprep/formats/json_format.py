"""The JSON timeline (PRODUCT.md, "The JSON timeline": a stable contract)."""

from __future__ import annotations

import json
from typing import Any

from ketaprep.sheet import Options, Sheet


def timeline_object(sheet: Sheet) -> dict[str, Any]:
    first = sheet.handouts[0]
    labels = {h.lang: {row.key: row.label for row in h.schedule} for h in sheet.handouts}
    events = []
    for event, row in zip(sheet.timeline.events, first.schedule, strict=True):
        item: dict[str, Any] = {"key": event.key, "at": event.at.isoformat(), "label": row.label}
        if len(sheet.handouts) > 1:
            item["labels"] = {lang: labels[lang][event.key] for lang in labels}
        events.append(item)
    return {
        "patient": sheet.timeline.appointment.patient,
        "set": {
            "id": sheet.loaded.model.id,
            "version": sheet.loaded.model.version,
            "sha256": sheet.loaded.sha256,
        },
        "lang": sheet.lang,
        "timezone": sheet.timeline.appointment.timezone,
        "events": events,
    }


def write(sheets: list[Sheet], options: Options) -> bytes:
    if len(sheets) == 1:
        payload: Any = timeline_object(sheets[0])
    else:
        payload = [timeline_object(sheet) for sheet in sheets]
    return (json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
