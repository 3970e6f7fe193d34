"""The sets a batch uses, loaded once, and the timelines and sheets that rows share."""

from __future__ import annotations

import dataclasses
from typing import Any

from ketaprep.batch.request import Entry, Request
from ketaprep.errors import KetaprepError, SetError
from ketaprep.loader import LoadedSet, SetLibrary
from ketaprep.sheet import Sheet, made_once, make_sheet, with_patient
from ketaprep.timeline import Appointment, Timeline, compute


class SetCache:
    """Sets by key, loaded once (a set that fails to load is reported in full once), and the
    work rows share: patients at the same time on the same set have the same timeline and,
    unless the set's text names the patient, the same handout but for the name."""

    def __init__(self, library: SetLibrary) -> None:
        self.library = library
        self.loaded: dict[str, LoadedSet | KetaprepError] = {}
        self.reported: set[str] = set()
        self.names_patient: dict[str, bool] = {}
        self._timelines: dict[tuple[Any, ...], Timeline] = {}
        self._sheets: dict[tuple[Any, ...], Sheet] = {}

    def get(self, key: str) -> LoadedSet:
        if key not in self.loaded:
            try:
                self.loaded[key] = self.library.load(key)
            except KetaprepError as exc:
                self.loaded[key] = exc
        found = self.loaded[key]
        if isinstance(found, KetaprepError):
            if key in self.reported:
                raise SetError(f'set "{key}" cannot be used (see above)')
            self.reported.add(key)
            raise found
        return found

    def timeline(self, key: str, appointment: Appointment) -> Timeline:
        """The timeline for this appointment (computed once per set, day, time and length)."""
        memo = (key, appointment.date, appointment.start, appointment.duration, appointment.timezone)
        found = made_once(self._timelines, memo,
                          lambda: compute(self.get(key).model, dataclasses.replace(appointment, patient="")))
        return dataclasses.replace(found, appointment=appointment)

    def sheet(self, entry: Entry, request: Request) -> Sheet:
        """The entry's sheet: `make_sheet`, or a copy of an identical appointment's with this name."""
        loaded = self.get(entry.set_key)
        appointment = entry.appointment
        if self._names_patient(entry.set_key, loaded):
            sheet = make_sheet(loaded, appointment, request.clinic, entry.lang, request.clock, request.generated)
            return dataclasses.replace(sheet, row=entry.number)
        anonymous = dataclasses.replace(appointment, patient="")
        proto = made_once(self._sheets, _shared_key(entry), lambda: make_sheet(
            loaded, anonymous, request.clinic, entry.lang, request.clock, request.generated))
        # the memo's key holds every field of the appointment but the name: the name put in makes it whole
        return dataclasses.replace(with_patient(proto, appointment.patient), row=entry.number)

    def shared(self, entry: Entry) -> tuple[Any, ...] | None:
        """What the entry's sheet shares with every other sheet of the same set, day, time, length
        and language (all but the patient's name), or None when its set's text names the patient."""
        loaded = self.get(entry.set_key)
        if self._names_patient(entry.set_key, loaded):
            return None
        return _shared_key(entry)

    def _names_patient(self, key: str, loaded: LoadedSet) -> bool:
        """Does any text of the set use {{ patient }}? (Then each sheet is built on its own.)"""
        if key not in self.names_patient:
            from jinja2 import meta
            from jinja2.sandbox import SandboxedEnvironment

            from ketaprep.safety import texts_of

            env = SandboxedEnvironment()
            uses = False
            for _path, text in texts_of(loaded):
                for value in text.values():
                    if "{" in value and "patient" in meta.find_undeclared_variables(env.parse(value)):
                        uses = True
            self.names_patient[key] = uses
        return self.names_patient[key]


def _shared_key(entry: Entry) -> tuple[Any, ...]:
    """All an entry's sheet shares with others but the name: set, day, time, length, zone, language."""
    a = entry.appointment
    return (entry.set_key, a.date, a.start, a.duration, a.timezone, entry.lang)
