"""`ketaprep serve` in a real browser: Debian's Chromium driven by Playwright, as a nurse uses it.

Fields are found by their accessible names, as a screen reader (and the issue) names them.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from serve_harness import CHROMIUM, CHROMIUM_ARGS, Server, axe_source, browser_or_skip, start_server

pytestmark = pytest.mark.slow

NAME = "Zelda Quixote-Testperson"
DAY = "2027-02-02"
LIST = (
    "Patient,Date,Time,Set,Language,Status\n"
    f'"Ada Test",{DAY},9:00,iv-pain-4h,en,\n'
    f'"{NAME}",{DAY},25:00,iv-pain-4h,en,\n'
    f'"Test, Bruno",{DAY},13:30,iv-depression-40m,fr,\n'
    f'"Cy Cancelled",{DAY},10:00,iv-pain-4h,en,Cancelled\n'
).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start_server(env={"SOURCE_DATE_EPOCH": "1795000000"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_or_skip()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA", accept_downloads=True)
    page = context.new_page()
    page.problems = []  # console errors (CSP violations) and requests leaving the server
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("request", lambda r: r.url.startswith((server.base, "data:", "about:")) or page.problems.append(r.url))
    page.goto(server.url)
    yield page
    context.close()


def fill_patient(page: Any, patient: str = NAME, start: str = "9:00", set_id: str = "iv-pain-4h",
                 lang: str = "en") -> None:
    page.get_by_label("Patient", exact=True).fill(patient)
    page.get_by_label("Date", exact=True).fill(DAY)
    page.get_by_label("Start time", exact=True).fill(start)
    page.get_by_label("Instruction set", exact=True).select_option(set_id)
    page.get_by_label("Language", exact=True).select_option(lang)


def handout_text(page: Any) -> str:
    text: str = page.frame_locator("#handout-frame").locator("body").inner_text(timeout=10_000)
    return text


def cli_message(cli: Any, *args: str) -> str:
    """The CLI's own message for a bad option: what follows "Invalid value for '--x': "."""
    result = cli("render", *args)
    assert result.code == 2
    return result.err.splitlines()[0].split("': ", 1)[1]


def pdf_text(data: bytes, tmp_path: Path) -> str:
    pdftotext = require_tool("pdftotext")
    path = tmp_path / "got.pdf"
    path.write_bytes(data)
    return subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, text=True,  # noqa: S603
                          check=True).stdout


# --- one patient -----------------------------------------------------------------------------


def test_the_printed_address_opens_the_form_at_a_clean_url(page: Any, server: Server) -> None:
    assert page.url == server.base  # the token is gone from the address bar (and from history)
    cookies = page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [(f"ketaprep_{server.port}", True, "Strict")]
    for label in ("Patient", "Date", "Start time", "Instruction set", "Language", "Large print", "Paper"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    assert page.get_by_role("button", name="Show handout").is_visible()
    assert not page.get_by_label("Length", exact=True).is_visible()  # iv-pain-4h has a fixed length


def test_show_handout_shows_the_same_sheet_as_render_html(page: Any, cli: Any) -> None:
    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    text = handout_text(page)
    assert NAME in text
    srcdoc = page.locator("#handout-frame").get_attribute("srcdoc")
    rendered = cli("render", "--start", "9:00", "--date", DAY, "--patient", NAME, "--set", "iv-pain-4h",
                   "--lang", "en", "--format", "html")
    assert rendered.code == 0
    assert srcdoc == rendered.out
    for label in ("Print", "Download PDF", "Calendar file"):
        assert page.get_by_role("button", name=label, exact=True).is_visible()
    assert "untick \"Headers and footers\"" in page.locator("#print-hint").inner_text()
    assert page.problems == []  # no CSP violation, nothing fetched from elsewhere


def test_a_bad_start_shows_the_cli_message_beside_the_field_and_keeps_what_was_typed(page: Any, cli: Any) -> None:
    fill_patient(page, start="25:00", set_id="iv-depression-40m", lang="fr")
    page.get_by_label("Large print", exact=True).check()
    page.get_by_role("button", name="Show handout").click()
    start = page.get_by_label("Start time", exact=True)
    expected = cli_message(cli, "--start", "25:00")
    assert expected == '"25:00" is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)'
    described = start.get_attribute("aria-describedby").split()
    assert "error-start" in described
    assert page.locator("#error-start .message").inner_text() == expected
    assert start.get_attribute("aria-invalid") == "true"
    assert start.input_value() == "25:00"
    assert page.get_by_label("Patient", exact=True).input_value() == NAME
    assert page.get_by_label("Date", exact=True).input_value() == DAY
    assert page.get_by_label("Instruction set", exact=True).input_value() == "iv-depression-40m"
    assert page.get_by_label("Language", exact=True).input_value() == "fr"
    assert page.get_by_label("Large print", exact=True).is_checked()
    assert page.locator("#handout-frame").count() == 0


def test_length_is_asked_only_for_a_set_whose_length_varies(page: Any, cli: Any) -> None:
    length = page.get_by_label("Length", exact=True)
    assert not length.is_visible()
    fill_patient(page, set_id="iv-variable")
    assert length.is_visible()
    length.fill("9h")
    page.get_by_role("button", name="Show handout").click()
    expected_range = cli("render", "--start", "9:00", "--date", DAY, "--set", "iv-variable", "--duration", "9h")
    assert expected_range.code == 1
    expected = expected_range.err.strip().splitlines()[-1].removeprefix("error: ")
    assert page.locator("#error-length .message").inner_text() == expected
    page.get_by_label("Length", exact=True).fill("1h30m")
    page.get_by_role("button", name="Show handout").click()
    assert page.locator("#error-length").count() == 0
    assert NAME in handout_text(page)
    page.get_by_label("Instruction set", exact=True).select_option("iv-pain-4h")
    assert not page.get_by_label("Length", exact=True).is_visible()


def test_download_pdf_gives_the_sheet_as_a_pdf_with_its_text(page: Any, tmp_path: Path) -> None:
    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename == "0900-zelda-quixote-testperson.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert NAME in text
    assert "Stop eating (this includes milk, gum and candy)" in text and "Arrive at the clinic" in text
    assert "8:30 a.m." in text


def test_calendar_file_gives_the_timeline_as_events(page: Any) -> None:
    import icalendar

    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Calendar file").click()
    calendar = icalendar.Calendar.from_ical(Path(info.value.path()).read_bytes())
    starts = [e.decoded("dtstart") for e in calendar.walk("VEVENT")]
    treatment = dt.datetime(2027, 2, 2, 14, 0, tzinfo=dt.UTC)  # 9:00 in Toronto (EST)
    assert any(s == treatment for s in starts)


def test_print_prints_the_handout_beside_the_form(page: Any) -> None:
    page.add_init_script("window.print = () => { (window.top.__prints = window.top.__prints || [])"
                         ".push(document.title); };")
    page.reload()
    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    handout_text(page)
    page.get_by_role("button", name="Print", exact=True).click()
    title = page.frame_locator("#handout-frame").locator("title").inner_text()
    assert page.evaluate("window.__prints") == [title]


def test_print_without_script_opens_the_sheet_alone(browser: Any, server: Server) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url)
    fill_patient(page)
    assert not page.get_by_label("Length", exact=True).is_visible()
    page.get_by_role("button", name="Show handout").click()
    with context.expect_page() as opened:
        page.get_by_role("button", name="Print", exact=True).click()
    sheet = opened.value
    sheet.wait_for_load_state()
    assert NAME in sheet.locator("body").inner_text()
    assert sheet.url.endswith("/print")
    page.get_by_label("Instruction set", exact=True).select_option("iv-variable")
    assert not page.get_by_label("Length", exact=True).is_visible()  # no script to show it yet
    page.get_by_role("button", name="Show handout").click()
    assert page.locator("#error-length .message").inner_text().startswith("this set's length varies")
    page.get_by_label("Length", exact=True).fill("90m")  # shown now, beside its message
    page.get_by_role("button", name="Show handout").click()
    assert page.locator("#handout-frame").count() == 1
    context.close()


def test_a_cut_off_already_past_is_a_warning_on_the_page_never_on_the_sheet(browser: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    offset = (10 - now.hour + 12) % 24 - 12  # a zone where it is about 10:00 now: the start is in clinic hours
    zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"
    local = now + dt.timedelta(hours=offset)
    start = (local + dt.timedelta(hours=2)).replace(minute=0)
    running = start_server("--tz", zone)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(running.url)
        page.get_by_label("Patient", exact=True).fill(NAME)
        page.get_by_label("Date", exact=True).fill(start.date().isoformat())
        page.get_by_label("Start time", exact=True).fill(start.strftime("%H:%M"))
        page.get_by_role("button", name="Show handout").click()
        assert page.locator(".warning").count() == 1, page.locator("main").inner_text()
        warning = page.locator(".warning").inner_text()
        assert "Warning (not printed on the sheet)" in warning
        assert "time (" in warning and "has already passed; phone the patient" in warning
        sheet = handout_text(page)
        assert "already passed" not in sheet and "phone the patient" not in sheet and "Warning" not in sheet
    finally:
        context.close()
        running.stop()


def test_markup_in_a_name_is_shown_as_text_and_never_runs(page: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    fill_patient(page, patient='<img src=x onerror=alert(1)><script>alert(2)</script>')
    page.get_by_role("button", name="Show handout").click()
    assert "<script>alert(2)</script>" in handout_text(page)
    assert dialogs == []


# --- the day's list --------------------------------------------------------------------------


def check_list(page: Any, tmp_path: Path, data: bytes = LIST, name: str = "today.csv") -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.get_by_role("link", name="Day's list").click()
    page.get_by_label("List", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check list").click()


def table_rows(page: Any) -> list[list[str]]:
    rows: list[list[str]] = page.locator("table tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))")
    return rows


def test_the_days_list_shows_every_row_and_names_a_bad_row_by_number_only(page: Any, tmp_path: Path) -> None:
    check_list(page, tmp_path)
    headers = page.locator("table thead th").all_inner_texts()
    assert headers == ["Row", "Time", "Set", "Language", "Status", "Problem"]
    rows = table_rows(page)
    assert rows == [
        ["row 2", "09:00", "iv-pain-4h", "en", "ready", ""],
        ["row 3", "", "", "", "failed", 'start "25:00" is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)'],
        ["row 4", "13:30", "iv-depression-40m", "fr", "ready", ""],
        ["row 5", "", "", "", "skipped", "cancelled"],
    ]
    summary = page.locator("#summary").inner_text()
    assert summary.startswith("Rows read: 4 = 2 to print + 1 failed + 1 skipped")
    body = page.locator("main").inner_text()
    assert NAME not in body and "Zelda" not in body and "Ada Test" not in body and "Cancelled" not in body
    assert page.problems == []


def test_the_days_list_downloads_the_print_file_and_all_files(page: Any, tmp_path: Path) -> None:
    check_list(page, tmp_path)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDF").click()
    assert info.value.suggested_filename == "today-handouts.pdf"
    text = pdf_text(Path(info.value.path()).read_bytes(), tmp_path)
    assert "Ada Test" in text and "Bruno Test" in text
    assert NAME not in text and "Cy Cancelled" not in text  # neither the bad row nor the cancelled one
    with page.expect_download() as info:
        page.get_by_role("button", name="Download all files").click()
    assert info.value.suggested_filename == "today-handouts.zip"
    with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert names == ["0900-ada-test.pdf", "1330-bruno-test.pdf", "handouts.pdf", "manifest.json"]
    assert manifest["summary"] == {"rows": 4, "written": 2, "failed": 1, "skipped": 1}
    assert [h["file"] for h in manifest["handouts"]] == ["0900-ada-test.pdf", "1330-bruno-test.pdf"]


def test_an_unreadable_list_is_named_beside_the_list_field(page: Any, tmp_path: Path) -> None:
    check_list(page, tmp_path, b"%PDF-1.7 not a list", "scan.pdf")
    message = page.locator("#error-list .message").inner_text()
    assert message.startswith("scan.pdf: not a list ketaprep can read")
    assert "/tmp" not in message and "ketaprep-serve-" not in message
    assert page.get_by_label("List", exact=True).get_attribute("aria-invalid") == "true"


# --- keyboard only ---------------------------------------------------------------------------


def tab_to(page: Any, name: str, most: int = 40) -> None:
    """Press Tab until the focused element is the one named `name` (its label or its text)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; if (!e) return '';"
            " if (e.labels && e.labels.length) return e.labels[0].innerText.trim();"
            " return (e.innerText || e.value || '').trim(); }")
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_keyboard_alone_makes_one_patients_sheet(page: Any, tmp_path: Path) -> None:
    tab_to(page, "Patient")
    page.keyboard.type(NAME)
    tab_to(page, "Date")
    page.keyboard.press("Control+A")
    page.keyboard.type(DAY)
    assert page.get_by_label("Date", exact=True).input_value() == DAY
    tab_to(page, "Start time")
    page.keyboard.type("1:30 pm")
    tab_to(page, "Instruction set")
    page.keyboard.type("iv-v")  # a select chooses by typing
    tab_to(page, "Length")
    page.keyboard.type("90m")
    tab_to(page, "Show handout")
    page.keyboard.press("Enter")
    assert NAME in handout_text(page)
    tab_to(page, "Download PDF")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert "1:30 p.m." in pdf_text(Path(info.value.path()).read_bytes(), tmp_path)


def test_keyboard_alone_checks_and_prints_the_days_list(page: Any, tmp_path: Path) -> None:
    path = tmp_path / "today.csv"
    path.write_bytes(LIST)
    # Playwright asks Chromium to hand it file choosers only once something listens for one, and
    # does not wait for that: a listener from the start, so the Space below is never too early.
    page.on("filechooser", lambda _chooser: None)
    tab_to(page, "Day's list")
    page.keyboard.press("Enter")
    page.wait_for_url("**/list")
    page.get_by_label("List", exact=True).wait_for()  # the new page is ready for the keyboard
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    tab_to(page, "List")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))
    tab_to(page, "Check list")
    page.keyboard.press("Enter")
    page.locator("#summary").wait_for()
    page.wait_for_load_state("load")  # the answer page is whole before the keyboard moves on it
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    tab_to(page, "Download PDF")
    with page.expect_download(timeout=120_000) as info:
        page.keyboard.press("Enter")
    assert "Ada Test" in pdf_text(Path(info.value.path()).read_bytes(), tmp_path)


# --- accessibility (axe-core) ----------------------------------------------------------------


def axe_violations(page: Any, source: str) -> list[str]:
    for frame in page.frames:
        frame.evaluate(source)  # through the DevTools protocol: the page's CSP still holds for the page itself
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} x, e.g. {v['nodes'][0]['target']})"
            for v in result["violations"]]


def test_axe_finds_no_wcag_21_aa_violation_on_the_patient_page(page: Any, tmp_path: Path) -> None:
    source = axe_source()
    assert axe_violations(page, source) == []
    fill_patient(page, start="25:00")
    page.get_by_role("button", name="Show handout").click()
    assert axe_violations(page, source) == []  # with an error beside its field
    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    handout_text(page)
    assert axe_violations(page, source) == []  # with the handout beside the form
    page.evaluate("document.querySelector('label[for=patient]').remove()")
    assert [v.split(":")[0] for v in axe_violations(page, source)] == ["label"]  # the check can fail


def test_axe_finds_no_wcag_21_aa_violation_on_the_list_page(page: Any, tmp_path: Path) -> None:
    source = axe_source()
    page.get_by_role("link", name="Day's list").click()
    assert axe_violations(page, source) == []
    check_list(page, tmp_path)
    assert axe_violations(page, source) == []


# --- security in the browser -----------------------------------------------------------------


def test_dns_rebinding_in_the_browser_gets_421(browser: Any, server: Server) -> None:
    """A page on an attacker's name that resolves to 127.0.0.1 (Chromium's resolver mapped so)."""
    rebinding = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP rebind.test 127.0.0.1"])
    try:
        page = rebinding.new_page()
        response = page.goto(f"http://rebind.test:{server.port}/?token={server.token}")
        assert response.status == 421
        assert page.context.cookies() == []
        assert page.goto(server.url).status == 200  # the same browser, at the real address
    finally:
        rebinding.close()


class _Attacker(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = (f'<!DOCTYPE html><form method="post" action="{self.target}">'
                f'<input name="patient" value="x"><input name="start" value="9:00">'
                f'<button>Go</button></form>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_cross_site_form_in_the_same_browser_is_refused(page: Any, server: Server) -> None:
    _Attacker.target = server.base
    other = http.server.HTTPServer(("127.0.0.1", 0), _Attacker)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        attack = page.context.new_page()  # the same browser, already holding the form's cookie
        attack.goto(f"http://localhost:{other.server_address[1]}/")
        with attack.expect_navigation() as nav:
            attack.get_by_role("button", name="Go").click()
        assert nav.value.status == 403
        assert "Handout" not in attack.content()
    finally:
        other.shutdown()


def test_the_handout_frame_runs_under_the_pages_strict_policy(page: Any) -> None:
    fill_patient(page)
    page.get_by_role("button", name="Show handout").click()
    handout_text(page)
    frame = page.frame_locator("#handout-frame").locator("body")
    frame.evaluate("b => { const s = document.createElement('script'); s.textContent = 'window.top.__ran = 1';"
                   " b.appendChild(s); }")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None  # an inline script inside the sheet never runs
    assert any("Content Security Policy" in p for p in page.problems)  # refused by the policy, and said so
