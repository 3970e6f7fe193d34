"""`ketaprep serve`'s "Send to printer", in a real browser, to a real CUPS queue.

Each test starts its own server (the queue is made per test, and the form reads CUPS's
queues when a page is made) and reads back what CUPS delivered to the queue's backend.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cups_queue import CupsQueue
from pypdf import PdfReader
from serve_harness import Server, axe_source, browser_or_skip, csrf_of, form_body, multipart, request, start_server
from test_serve_browser import DAY, LIST, NAME, axe_violations, check_list, fill_patient, handout_text, pdf_text, tab_to

pytestmark = pytest.mark.slow

SENT = r'Sent to printer "{queue}" as job {queue}-\d+ \(1 copy{sides}\)\.'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_or_skip()


def clinic_with(tmp_path: Path, printer: str | None) -> Path:
    clinic = tmp_path / "clinic.yaml"
    line = f"printer: {printer}\n" if printer else ""
    clinic.write_text(f"name: Test Clinic\nphone: 555-0100\n{line}", encoding="utf-8")
    return clinic


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """serve(printer=..., env=...): a server whose clinic profile names `printer`; stopped after."""
    started: list[Server] = []

    def start(printer: str | None = None, env: dict[str, str] | None = None) -> Server:
        server = start_server("--clinic", str(clinic_with(tmp_path, printer)),
                              env={"SOURCE_DATE_EPOCH": "1795000000", **(env or {})})
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_(server: Server) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA")
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.goto(server.url)
        return page

    yield open_
    for context in contexts:
        context.close()


def show_handout(page: Any) -> None:
    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    assert NAME in handout_text(page)


def result_line(page: Any) -> str:
    text: str = page.locator("#print-result").inner_text(timeout=30_000)
    return text


def test_send_to_printer_prints_one_patients_sheet_on_the_profiles_printer(
        serve: Any, open_page: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    page = open_page(serve(printer=cups_queue.name))
    show_handout(page)
    printer = page.get_by_label("Printer", exact=True)
    assert printer.input_value() == cups_queue.name  # the profile's printer, preselected
    options = printer.locator("option").all_inner_texts()
    assert cups_queue.name in options
    page.get_by_role("button", name="Send to printer").click()
    line = result_line(page)
    assert page.get_by_role("status").filter(has_text="Sent to printer").count() == 1

    assert re.fullmatch(SENT.format(queue=re.escape(cups_queue.name), sides=""), line), line
    jobs = cups_queue.wait_for(1)
    assert len(jobs) == 1
    assert line.endswith(f"as job {cups_queue.name}-{jobs[0].job_id} (1 copy).")
    job = jobs[0]
    assert job.data.startswith(b"%PDF-")
    text = pdf_text(job.data, tmp_path)
    assert NAME in text and "9:00" in text
    assert job.title == f"ketaprep handout {DAY} 09:00 (iv-pain-4h)"  # no patient name in the queue
    assert "Zelda" not in job.title and "Quixote" not in job.title
    assert job.options.get("sides") == "one-sided"
    assert NAME in handout_text(page)  # the sheet stays beside the form
    assert page.get_by_label("Patient", exact=True).input_value() == NAME
    assert page.get_by_label("Printer", exact=True).input_value() == cups_queue.name
    assert page.problems == []


def test_send_to_printer_prints_the_days_list_as_one_job(serve: Any, open_page: Any, cups_queue: CupsQueue,
                                                         tmp_path: Path) -> None:
    page = open_page(serve(printer=cups_queue.name))
    path = tmp_path / "today.csv"
    path.write_bytes(LIST)
    page.get_by_role("link", name="Day's list").click()
    page.get_by_label("List", exact=True).set_input_files(str(path))
    page.get_by_label("Two-sided printing").check()
    page.get_by_role("button", name="Check list").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDF").click()
    combined = Path(info.value.path()).read_bytes()
    assert page.get_by_label("Printer", exact=True).input_value() == cups_queue.name
    page.get_by_role("button", name="Send to printer").click()
    line = result_line(page)

    assert re.fullmatch(SENT.format(queue=re.escape(cups_queue.name), sides=", two-sided"), line), line
    jobs = cups_queue.wait_for(1)
    assert len(jobs) == 1  # ONE job: the combined print file, never one per patient
    job = jobs[0]
    assert len(PdfReader(io.BytesIO(job.data)).pages) == len(PdfReader(io.BytesIO(combined)).pages) >= 2
    text = pdf_text(job.data, tmp_path)
    assert "Ada Test" in text and "Bruno Test" in text
    assert NAME not in text and "Cy Cancelled" not in text  # neither the bad row nor the cancelled one
    assert job.title == "ketaprep Handouts to print: today.csv"
    assert job.options.get("sides") == "two-sided-long-edge"
    assert page.locator("#summary").inner_text().startswith("Rows read: 4 = 2 to print + 1 failed + 1 skipped")
    assert page.problems == []


def test_without_a_profile_printer_cups_default_is_preselected(serve: Any, open_page: Any,
                                                               cups_queue: CupsQueue) -> None:
    page = open_page(serve(env={"LPDEST": cups_queue.name}))
    show_handout(page)
    assert page.get_by_label("Printer", exact=True).input_value() == cups_queue.name


def test_a_stopped_printer_gives_the_clis_message_and_nothing_is_sent(serve: Any, open_page: Any, cli: Any,
                                                                      cups_queue: CupsQueue) -> None:
    cups_queue.stop()
    page = open_page(serve(printer=cups_queue.name))
    show_handout(page)
    page.get_by_role("button", name="Send to printer").click()
    alert = page.get_by_role("alert")
    expected = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", cups_queue.name)
    assert expected.code == 1
    message = expected.err.splitlines()
    assert message[0] == (f'error: cannot print to "{cups_queue.name}": the printer is stopped in CUPS; '
                          "nothing was sent")
    shown = alert.inner_text().splitlines()
    assert shown[0] == "Error: " + message[0].removeprefix("error: ")
    assert [s.strip() for s in shown[1:]] == [m.strip() for m in message[1:2]]
    assert cups_queue.pending() == "" and cups_queue.jobs() == []
    assert NAME in handout_text(page)
    assert page.get_by_label("Printer", exact=True).locator("option:checked").inner_text() == (
        f"{cups_queue.name} (stopped)")


def test_a_queue_refusing_jobs_on_the_list_page_gives_the_clis_message(serve: Any, open_page: Any,
                                                                       cups_queue: CupsQueue,
                                                                       tmp_path: Path) -> None:
    cups_queue.reject()
    page = open_page(serve(printer=cups_queue.name))
    check_list(page, tmp_path)
    page.get_by_role("button", name="Send to printer").click()
    shown = page.get_by_role("alert").inner_text().splitlines()
    assert shown[0] == f'Error: cannot print to "{cups_queue.name}": the queue is refusing jobs; nothing was sent'
    assert shown[1].strip() == f"let it take jobs with: cupsaccept {cups_queue.name}, then print again"
    assert cups_queue.pending() == "" and cups_queue.jobs() == []


def test_without_any_queue_there_is_no_send_to_printer(serve: Any, open_page: Any, tmp_path: Path) -> None:
    """No CUPS to ask (here: a scheduler address nobody listens on): no Printer list, no button."""
    server = serve(env={"CUPS_SERVER": str(tmp_path / "no-cupsd.sock")})
    page = open_page(server)
    show_handout(page)
    assert page.get_by_role("button", name="Download PDF").count() == 1
    assert page.get_by_role("button", name="Send to printer").count() == 0
    assert page.get_by_label("Printer", exact=True).count() == 0
    check_list(page, tmp_path)
    assert page.get_by_role("button", name="Download PDF").count() == 1
    assert page.get_by_role("button", name="Send to printer").count() == 0


def test_keyboard_alone_sends_one_patients_sheet_to_the_printer(serve: Any, open_page: Any,
                                                                cups_queue: CupsQueue, tmp_path: Path) -> None:
    page = open_page(serve(printer=cups_queue.name))
    show_handout(page)
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    tab_to(page, "Printer")
    tab_to(page, "Send to printer")
    page.keyboard.press("Enter")
    assert result_line(page).startswith(f'Sent to printer "{cups_queue.name}"')
    assert NAME in pdf_text(cups_queue.wait_for(1)[0].data, tmp_path)


def test_axe_finds_no_violation_with_the_printer_list_and_its_answers(serve: Any, open_page: Any,
                                                                      cups_queue: CupsQueue,
                                                                      tmp_path: Path) -> None:
    source = axe_source()
    page = open_page(serve(printer=cups_queue.name))
    show_handout(page)
    page.get_by_role("button", name="Send to printer").click()
    result_line(page)
    assert axe_violations(page, source) == []
    cups_queue.stop()
    check_list(page, tmp_path)
    page.get_by_role("button", name="Send to printer").click()
    page.get_by_role("alert").wait_for()
    assert axe_violations(page, source) == []


def test_send_to_printer_takes_only_posts_from_its_own_pages(serve: Any, cups_queue: CupsQueue) -> None:
    """No CSRF field, a forged one or a cross-site Origin: 403 and no job; the page's own form: one job."""
    server = serve(printer=cups_queue.name)
    fields = {"patient": NAME, "date": DAY, "start": "9:00", "set": "iv-pain-4h", "lang": "en", "paper": "letter",
              "printer": cups_queue.name}
    csrf = csrf_of(server)
    body, headers = multipart({"csrf": csrf, "key": "x"}, {"list": ("today.csv", LIST)})
    checked = request(server, "POST", "/list", body=body, headers=headers)
    key = re.search(r'name="key" value="([^"]+)"', checked.text)
    assert checked.status == 200 and key
    for path, sent in (("/send", fields), ("/list/send", {"key": key.group(1), "printer": cups_queue.name})):
        for extra, origin in (({}, True), ({"csrf": "forged"}, True), ({"csrf": csrf}, "http://evil.example")):
            body, headers = form_body({**sent, **extra})
            reply = request(server, "POST", path, body=body, headers=headers, origin=origin)
            assert reply.status == 403, (path, extra, origin)
    assert cups_queue.jobs() == [] and cups_queue.pending() == ""
    body, headers = form_body({"csrf": csrf, **fields})
    reply = request(server, "POST", "/send", body=body, headers=headers)
    assert reply.status == 200 and f"Sent to printer &#34;{cups_queue.name}&#34;" in reply.text
    assert len(cups_queue.wait_for(1)) == 1
    assert NAME not in server.output() and "Zelda" not in server.output()  # nothing logged with a name


def test_a_kept_list_that_is_gone_is_named_and_nothing_is_printed(serve: Any, cups_queue: CupsQueue) -> None:
    server = serve(printer=cups_queue.name)
    body, headers = form_body({"csrf": csrf_of(server, "/list"), "key": "not-a-kept-list", "printer": cups_queue.name})
    reply = request(server, "POST", "/list/send", body=body, headers=headers)
    assert reply.status == 410
    assert "this list is no longer kept" in reply.text
    assert cups_queue.jobs() == []
