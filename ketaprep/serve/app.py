"""The form's routes: one patient (`/`), the day's list (`/list`), and their downloads.

Every POST carries the page's CSRF field (checked here; its Origin is checked by the guard).
Work that takes time (a PDF, a list) runs in a worker thread so the server keeps answering.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from ketaprep.serve import pages
from ketaprep.serve.daylist import ListDesk, ListProblem
from ketaprep.serve.patient import Desk, Result
from ketaprep.serve.security import Guard
from ketaprep.serve.settings import MAX_UPLOAD_BYTES, Settings

# An upload stays in memory: Starlette would spool a part above 1 MB to a temporary file.
MultiPartParser.spool_max_size = MAX_UPLOAD_BYTES + 1

LIST_HINT = "The day's export: CSV, Excel (.xlsx, .xls), LibreOffice (.ods) or FHIR JSON."
GONE = ("this list is no longer kept (the form keeps a list for an hour, and the last few only): "
        "choose it and check it again")
PRINTERS_SECONDS = 10.0
"""How long the list of CUPS queues is reused before CUPS is asked again (lpstat takes tens of ms)."""
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "ics": "text/calendar; charset=utf-8",
    "zip": "application/zip",
}


class Forbidden(Exception):
    pass


def build(settings: Settings) -> Guard:
    """The whole application behind its guard."""
    desk = Desk(settings)
    lists = ListDesk(settings)
    clinic_name = settings.clinic.name if settings.clinic else "no clinic profile"

    def page(name: str, status: int = 200, csp: str | None = None, **context: Any) -> HTMLResponse:
        html = pages.render(name, csrf=settings.csrf, clinic_name=clinic_name, **context)
        headers = {"content-security-policy": csp} if csp else None
        return HTMLResponse(html, status_code=status, headers=headers)

    async def form_of(request: Request, files: int = 0) -> FormData:
        form = await request.form(max_files=files, max_fields=30, max_part_size=MAX_UPLOAD_BYTES)
        token = form.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), settings.csrf.encode()):
            raise Forbidden
        return form

    def forbidden() -> HTMLResponse:
        return HTMLResponse(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not allowed</title></head><body>"
            "<main><h1>Not allowed</h1><p>This form takes only what is sent from its own pages. Reload the page "
            "and try again.</p></main></body></html>",
            status_code=403,
        )

    queues_seen: list[tuple[float, list[Any], str | None]] = []
    queues_lock = threading.Lock()
    refreshing = threading.Event()

    def ask_cups() -> tuple[float, list[Any], str | None]:
        from ketaprep.errors import KetaprepError
        from ketaprep.printing import default_queue, list_queues

        asked = time.monotonic()
        try:
            queues = list_queues()
            chosen = (settings.printer or default_queue()) if queues else None
        except KetaprepError:
            queues, chosen = [], None
        if chosen is not None:  # CUPS's own spelling, so the select shows it chosen
            chosen = next((q.name for q in queues if q.name.casefold() == chosen.casefold()), chosen)
        return asked, queues, chosen

    def refresh() -> None:
        try:
            seen = ask_cups()
            with queues_lock:
                queues_seen[:] = [seen]
        finally:
            refreshing.clear()

    def printers() -> tuple[list[Any], str | None]:
        """CUPS's queues and the one to preselect (the profile's printer, else CUPS's default);
        none when CUPS is missing or not running. Asking CUPS takes a few lpstat runs (tens to
        hundreds of ms), so a page uses what was last seen and, after PRINTERS_SECONDS, asks
        again in the background; only the first page after start-up or after a send waits."""
        with queues_lock:
            seen = queues_seen[0] if queues_seen else None
        if seen is None:
            seen = ask_cups()
            with queues_lock:
                queues_seen[:] = [seen]
        elif time.monotonic() - seen[0] >= PRINTERS_SECONDS and not refreshing.is_set():
            refreshing.set()
            threading.Thread(target=refresh, name="ketaprep-printers", daemon=True).start()
        return seen[1], seen[2]

    refreshing.set()  # the first handout need not wait for CUPS
    threading.Thread(target=refresh, name="ketaprep-printers", daemon=True).start()

    def send(data: bytes, printer: str, duplex: bool, title: str) -> tuple[str | None, str | None]:
        """(the line naming the printer and job, None) or (None, the CLI's message): one job, never half-sent."""
        from ketaprep.printing import PrintError, send_pdf

        with queues_lock:
            queues_seen.clear()  # the page that answers shows the queues as they are now
        if not printer.strip():
            return None, "choose a printer in the Printer list first; nothing was sent"
        try:
            job = send_pdf(data, printer=printer.strip(), duplex=duplex, title=title)
        except PrintError as exc:
            return None, exc.message
        sides = ", two-sided" if duplex else ""
        return f'Sent to printer "{job.printer}" as job {job.job_id} (1 copy{sides}).', None

    def printer_of(form: FormData) -> str:
        value = form.get("printer")
        return value if isinstance(value, str) else ""

    def patient_page(values: dict[str, str], result: Result | None = None, status: int = 200,
                     printed: str | None = None, print_error: str | None = None,
                     printer: str | None = None) -> HTMLResponse:
        handout = None
        csp = None
        warnings: list[str] = []
        if result is not None and result.sheet is not None:
            sheet = result.sheet
            data = desk.write("html", result)
            if data is not None:
                handout = data.decode("utf-8")
                csp = pages.policy(pages.style_hashes(handout))
                warnings = desk.warnings(sheet)
            else:
                status = 422
        queues, chosen = printers() if handout is not None else ([], None)
        return page(
            "patient.html.j2",
            status=status,
            queues=queues,
            chosen=printer or chosen,
            printed=printed,
            print_error=print_error,
            csp=csp,
            page="patient",
            values=values,
            errors=result.errors if result else {},
            problems=result.problems if result else [],
            sets=desk.sets,
            languages=desk.languages,
            show_length=desk.is_variable(values["set"]),
            handout=handout,
            shown=values,
            warnings=warnings,
        )

    async def home(request: Request) -> Response:
        if request.method == "GET":
            return await run_in_threadpool(patient_page, desk.defaults(desk.today()))
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        values = desk.read(form)

        def answer() -> HTMLResponse:
            result = desk.make(values)
            return patient_page(values, result, status=200 if result.sheet is not None else 422)

        return await run_in_threadpool(answer)  # the sheet is made off the server's loop

    async def handout_file(request: Request, fmt: str) -> Response:
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        values = desk.read(form)
        result = await run_in_threadpool(desk.make, values)
        if result.sheet is None:
            return patient_page(values, result, status=422)
        name = desk.file_name(result, fmt)
        data = await run_in_threadpool(desk.write, "pdf" if fmt == "pdf" else "ics", result)
        if data is None:
            return patient_page(values, result, status=422)
        return _download(data, name, fmt)

    async def send_handout(request: Request) -> Response:
        """Send to printer: the handout's PDF as one CUPS job; the page answers with one line."""
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        values = desk.read(form)
        printer = printer_of(form)

        def answer() -> HTMLResponse:
            result = desk.make(values)
            if result.sheet is None:
                return patient_page(values, result, status=422)
            data = desk.write("pdf", result)
            if data is None:
                return patient_page(values, result, status=422)
            from ketaprep.printing import handout_job_title

            appointment = result.sheet.timeline.appointment
            title = handout_job_title(appointment.date, appointment.start, result.sheet.loaded.model.id)
            printed, error = send(data, printer, False, title)
            return patient_page(values, result, status=200 if printed else 502, printed=printed,
                                print_error=error, printer=printer or None)

        return await run_in_threadpool(answer)

    async def handout_pdf(request: Request) -> Response:
        return await handout_file(request, "pdf")

    async def handout_ics(request: Request) -> Response:
        return await handout_file(request, "ics")

    async def print_view(request: Request) -> Response:
        """The handout alone, for the browser's Print (the form's Print button without script)."""
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        values = desk.read(form)
        result = await run_in_threadpool(desk.make, values)
        if result.sheet is None:
            return patient_page(values, result, status=422)
        data = desk.write("html", result)
        if data is None:
            return patient_page(values, result, status=422)
        html = data.decode("utf-8")
        csp = (f"default-src 'none'; style-src {' '.join(pages.style_hashes(html))}; img-src data:; "
               "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
        return HTMLResponse(html, headers={"content-security-policy": csp})

    def list_page(status: int = 200, **context: Any) -> HTMLResponse:
        values = context.pop("values", {"date": "", "large_print": "", "duplex": "", "paper": "letter"})
        checked = context.pop("checked", None)
        queues, chosen = printers() if checked is not None and checked.ready else ([], None)
        return page("list.html.j2", status=status, page="list", hint=LIST_HINT, values=values,
                    errors=context.pop("errors", {}), checked=checked, print_error=context.pop("print_error", None),
                    printed=context.pop("printed", None), queues=queues,
                    chosen=context.pop("printer", None) or chosen)

    async def day_list(request: Request) -> Response:
        if request.method == "GET":
            return list_page()
        try:
            form = await form_of(request, files=1)
        except Forbidden:
            return forbidden()
        values = {name: str(form.get(name) or "") if not isinstance(form.get(name), UploadFile) else ""
                  for name in ("date", "large_print", "duplex", "paper")}
        upload = form.get("list")
        errors: dict[str, str] = {}
        date: dt.date | None = None
        if values["date"].strip():
            from ketaprep.parsing import parse_date

            date = parse_date(values["date"].strip())
            if date is None:
                errors["date"] = f'"{values["date"]}" is not a date; write it as YYYY-MM-DD (e.g. 2026-11-24)'
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["list"] = "choose the day's list file first (CSV, XLSX, XLS, ODS or FHIR JSON)"
            return list_page(status=422, values=values, errors=errors)
        data = await upload.read()
        await upload.close()
        if not data:
            errors["list"] = f"{upload.filename}: the file is empty"
        if errors:
            return list_page(status=422, values=values, errors=errors)
        try:
            checked = await run_in_threadpool(lists.check, upload.filename, data, date, bool(values["large_print"]),
                                              values["paper"], bool(values["duplex"]))
        except ListProblem as exc:
            return list_page(status=422, values=values, errors={"list": exc.message})
        return list_page(values=values, checked=checked)

    async def list_file(request: Request, kind: str) -> Response:
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        checked = lists.get(str(form.get("key") or ""))
        if checked is None:
            return list_page(status=410, errors={"list": GONE})
        try:
            if kind == "pdf":
                data = await run_in_threadpool(lists.combined_pdf, checked)
            else:
                data = await run_in_threadpool(lists.archive, checked)
        except ListProblem as exc:
            return list_page(status=422, checked=checked, print_error=exc.message)
        if data is None:
            return list_page(status=422, checked=checked, print_error="no row of the list could be printed")
        suffix = "handouts.pdf" if kind == "pdf" else "handouts.zip"
        return _download(data, f"{lists.stem(checked)}-{suffix}", kind)

    async def list_send(request: Request) -> Response:
        """Send to printer: the combined print file as ONE job (as `batch --print`)."""
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        checked = lists.get(str(form.get("key") or ""))
        if checked is None:
            return await run_in_threadpool(lambda: list_page(status=410, errors={"list": GONE}))
        printer = printer_of(form)

        def answer() -> HTMLResponse:
            assert checked is not None
            try:
                data = lists.combined_pdf(checked)
            except ListProblem as exc:
                return list_page(status=422, checked=checked, print_error=exc.message, printer=printer or None)
            if data is None:
                return list_page(status=422, checked=checked, print_error="no row of the list could be printed",
                                 printer=printer or None)
            # the list's file name, as `batch --print` titles the job; never a patient's name
            printed, error = send(data, printer, checked.duplex, f"ketaprep Handouts to print: {checked.name}")
            return list_page(status=200 if printed else 502, checked=checked, printed=printed, print_error=error,
                             printer=printer or None)

        return await run_in_threadpool(answer)

    async def list_pdf(request: Request) -> Response:
        return await list_file(request, "pdf")

    async def list_zip(request: Request) -> Response:
        return await list_file(request, "zip")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("form.css", "form.js"):
            return HTMLResponse("<!DOCTYPE html><title>Not found</title><p>Not found.</p>", status_code=404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(pages.STATIC / name, media_type=media)

    routes = [
        Route("/", home, methods=["GET", "POST"]),
        Route("/print", print_view, methods=["POST"]),
        Route("/handout.pdf", handout_pdf, methods=["POST"]),
        Route("/handout.ics", handout_ics, methods=["POST"]),
        Route("/send", send_handout, methods=["POST"]),
        Route("/list", day_list, methods=["GET", "POST"]),
        Route("/list/pdf", list_pdf, methods=["POST"]),
        Route("/list/zip", list_zip, methods=["POST"]),
        Route("/list/send", list_send, methods=["POST"]),
        Route("/static/{name}", static, methods=["GET"]),
    ]
    async def failed(_request: Request, exc: Exception) -> Response:
        return HTMLResponse(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head>"
            "<body><main><h1>Something went wrong</h1><p>The form could not answer (unexpected "
            f"{type(exc).__name__}). Go back and try again; if it happens again, use the command line "
            "(ketaprep render or ketaprep batch with --debug) and tell the clinic's IT person.</p></main></body></html>",
            status_code=500,
        )

    return Guard(Starlette(routes=routes, exception_handlers={500: failed}), settings)


def _download(data: bytes, name: str, kind: str) -> Response:
    """A file from memory, saved by the browser under `name` (ASCII letters, digits, '-', '.')."""
    return Response(data, media_type=CONTENT_TYPES[kind],
                    headers={"content-disposition": f'attachment; filename="{name}"'})
