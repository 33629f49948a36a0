"""The web console (/console) in a real browser, headless Chromium through Selenium: signing in with a console
client's credentials, finding a dead job in the filtered job list and retrying it from its page, wrong
credentials, a form posted from another origin, a page opened without a session, and signing out (the fixtures
and helpers are console_support.py's). With HOOKLINE_SCREENSHOT_DIR set, the retry test saves
console-overview.png and console-job.png there (scripts/screenshots)."""

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import BASE_URL
from console_support import (
    OtherOrigin, WAIT_SECONDS, SESSION_COOKIE, assert_console_page, button, click_and_wait,
    dead_job, document_responses, eventually, find, heading, job_state, location, on_signin_form, page_text,
    path_of, screenshot, session_cookie, sign_in, statuses_of, text_of,
)


def signed_in(browser, client: dict, path: str = "/console"):
    """Signs the browser in from the sign-in form and opens `path`."""
    browser.get(BASE_URL + "/console/signin")
    assert on_signin_form(browser), page_text(browser)
    sign_in(browser, client["client_id"], client["client_secret"])
    assert location(browser) == "/console" and heading(browser) == "Overview", page_text(browser)
    if path != "/console":
        browser.get(BASE_URL + path)
        assert location(browser) == path


def choose(form, name: str, value: str):
    """Selects the option of the form's <select name=…> whose value is `value` (a UUID in either case)."""
    select = Select(form.find_element(By.CSS_SELECTOR, f'select[name="{name}"]'))
    values = [option.get_attribute("value") for option in select.options]
    matching = [v for v in values if v.lower() == value.lower()]
    assert matching, f"select {name} has no option {value}: {values}"
    select.select_by_value(matching[0])


def wait_for_job_page_state(browser, state: str, seconds: float = WAIT_SECONDS) -> str:
    """Reloads the job's page (which also reloads itself while the job waits or runs) until it shows `state`."""
    deadline = time.monotonic() + seconds
    while (shown := text_of(browser, "dd#job-state")) != state:
        assert time.monotonic() < deadline, f"the job's page shows {shown!r}, not {state!r}, after {seconds} s"
        time.sleep(1)
        browser.refresh()
    return shown


def test_sign_in_find_a_dead_job_and_retry_it(world, flaky_webhook, browser):
    kept = dead_job(flaky_webhook)  # stays dead: the overview lists it
    tag = f"console-{uuid.uuid4().hex[:12]}"
    job_id = dead_job(flaky_webhook, tag)  # dead: the receiver refused its POST; the retry's POST is accepted
    client = world.a.clients["console"]

    # The sign-in form
    browser.get(BASE_URL + "/console/signin")
    assert on_signin_form(browser), page_text(browser)
    form = find(browser, "form#signin")
    assert form.find_element(By.ID, "client_id").accessible_name == "Client ID"
    secret = form.find_element(By.ID, "client_secret")
    assert secret.get_attribute("name") == "client_secret" and secret.get_attribute("type") == "password"
    assert secret.accessible_name == "Client secret"
    assert form.find_elements(By.CSS_SELECTOR, 'input[type="hidden"][name="next"]'), "no hidden next"
    assert button(form, "Sign in").get_attribute("type") == "submit"
    document_responses(browser)
    sign_in(browser, client["client_id"], client["client_secret"])
    assert statuses_of(browser, "/console/signin") == [303]
    assert location(browser) == "/console", page_text(browser)
    cookie = session_cookie(browser)
    assert cookie is not None, "no session cookie"
    assert (cookie["httpOnly"], cookie.get("sameSite"), cookie["path"]) == (True, "Strict", "/console"), cookie

    # The overview
    assert heading(browser) == "Overview"
    assert_console_page(browser)
    find(browser, 'table#states tr[data-state="dead"]')
    assert find(browser, "svg#throughput").get_attribute("role") == "img"
    find(browser, f'section#dead-jobs a[href="/console/jobs/{job_id}"]')

    # The jobs, filtered to account A's dead ones
    click_and_wait(browser, find(browser, 'nav[aria-label="Console"]').find_element(By.LINK_TEXT, "Jobs"))
    assert location(browser) == "/console/jobs" and heading(browser) == "Jobs"
    assert_console_page(browser)
    jobs_filter = find(browser, "form#job-filter")
    assert jobs_filter.get_attribute("method") == "get"
    jobs_filter.find_element(By.CSS_SELECTOR, 'select[name="cycle"]')
    choose(jobs_filter, "account", world.a.id)
    choose(jobs_filter, "state", "dead")
    click_and_wait(browser, button(jobs_filter, "Filter"))
    query = parse_qs(urlsplit(browser.current_url).query)
    assert path_of(browser.current_url) == "/console/jobs" and query.get("state") == ["dead"], browser.current_url
    assert [account.lower() for account in query.get("account", [])] == [world.a.id.lower()], browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table#jobs tr[data-job-id]")
    assert {row.get_attribute("data-state") for row in rows} == {"dead"}, page_text(browser)
    row = find(browser, f'table#jobs tr[data-job-id="{job_id}"]')
    find(browser, f'table#jobs tr[data-job-id="{kept}"]')
    bulk = find(browser, "form#bulk-retry")
    assert bulk.get_attribute("method") == "post" and path_of(bulk.get_attribute("action")) == "/console/jobs/retry"
    button(bulk, "Retry dead jobs")
    assert_console_page(browser)
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, f'a[href="/console/jobs/{job_id}"]'))

    # The job's page, and Retry
    assert location(browser) == f"/console/jobs/{job_id}"
    assert heading(browser) == f"Job {job_id}"
    assert_console_page(browser)
    assert text_of(browser, "dd#job-state") == "dead"
    assert tag in text_of(browser, "pre#job-body")
    find(browser, "table#job-headers")
    assert browser.find_elements(By.CSS_SELECTOR, "ol#job-errors li"), "no error in ol#job-errors"
    find(browser, "table#step-runs")
    assert not browser.find_elements(By.CSS_SELECTOR, "form#cancel"), "a dead job cannot be cancelled"
    retry = find(browser, "form#retry")
    assert retry.get_attribute("method") == "post"
    assert path_of(retry.get_attribute("action")) == f"/console/jobs/{job_id}/retry"
    document_responses(browser)
    click_and_wait(browser, button(retry, "Retry"))
    assert statuses_of(browser, f"/console/jobs/{job_id}/retry") == [303]
    assert path_of(browser.current_url) == f"/console/jobs/{job_id}", browser.current_url
    assert text_of(browser, 'p#notice[role="status"]')
    wait_for_job_page_state(browser, "completed")
    assert not browser.find_elements(By.CSS_SELECTOR, "form#retry, form#cancel")
    assert job_state(job_id) == "completed"
    assert job_state(kept) == "dead"
    assert len(world.receiver.received(f"/flaky/{tag}")) == 2
    screenshot(browser, "console-job.png")

    # The overview again, with some data
    click_and_wait(browser, find(browser, 'nav[aria-label="Console"]').find_element(By.LINK_TEXT, "Overview"))
    assert location(browser) == "/console" and heading(browser) == "Overview"
    find(browser, f'section#dead-jobs a[href="/console/jobs/{kept}"]')
    find(browser, "svg#throughput")
    screenshot(browser, "console-overview.png")


def test_wrong_credentials_are_refused(world, browser):
    client = world.a.clients["console"]
    browser.get(BASE_URL + "/console/signin")
    document_responses(browser)
    sign_in(browser, client["client_id"], "wrong-" + client["client_secret"])
    assert statuses_of(browser, "/console/signin") == [401]
    assert on_signin_form(browser), page_text(browser)
    assert "not accepted" in text_of(browser, 'p#error[role="alert"]')
    assert session_cookie(browser) is None, "a session cookie after wrong credentials"
    # The form shown with the error works.
    sign_in(browser, client["client_id"], client["client_secret"])
    assert location(browser) == "/console" and heading(browser) == "Overview", page_text(browser)


def test_a_form_posted_from_another_origin_is_refused(world, flaky_webhook, browser):
    job_id = dead_job(flaky_webhook)
    signed_in(browser, world.a.clients["console"])
    assert session_cookie(browser) is not None
    retry = f"/console/jobs/{job_id}/retry"
    # Another port of 127.0.0.1: another origin, the same site, so the SameSite=Strict cookie goes along.
    with OtherOrigin(BASE_URL + retry, {"csrf": "guess"}) as elsewhere:
        assert urlsplit(elsewhere.url).port != urlsplit(BASE_URL).port
        document_responses(browser)
        browser.get(elsewhere.url)
        eventually(
            browser,
            lambda d: path_of(d.current_url) == retry and d.execute_script("return document.readyState") == "complete",
            "the other origin's form posted",
        )
    assert statuses_of(browser, retry) == [403]
    assert "cross-origin request refused" in page_text(browser).lower(), page_text(browser)
    assert job_state(job_id) == "dead"


@pytest.mark.parametrize("path", ["/console/jobs", "/console/jobs?state=dead"])
def test_a_page_opened_without_a_session_signs_in_first(world, browser, path):
    client = world.a.clients["console"]
    browser.get(BASE_URL + path)
    assert statuses_of(browser, path) == [303]
    assert on_signin_form(browser), page_text(browser)
    assert parse_qs(urlsplit(browser.current_url).query) == {"next": [path]}, browser.current_url
    assert find(browser, 'form#signin input[type="hidden"][name="next"]').get_attribute("value") == path
    sign_in(browser, client["client_id"], client["client_secret"])
    assert statuses_of(browser, "/console/signin") == [303]
    assert location(browser) == path and heading(browser) == "Jobs", page_text(browser)


def test_signing_out(world, browser):
    signed_in(browser, world.a.clients["console"], "/console/jobs")
    assert heading(browser) == "Jobs"
    session = session_cookie(browser)
    assert session is not None, "no session cookie"
    document_responses(browser)
    click_and_wait(browser, button(find(browser, "form#signout"), "Sign out"))
    assert statuses_of(browser, "/console/signout") == [303]
    assert location(browser) == "/console/signin" and on_signin_form(browser), page_text(browser)
    assert session_cookie(browser) is None, "the session cookie outlived signing out"
    browser.get(BASE_URL + "/console")
    assert on_signin_form(browser), page_text(browser)
    assert parse_qs(urlsplit(browser.current_url).query) == {"next": ["/console"]}, browser.current_url
    # The signed-out session is over on the server too: its cookie, put back, opens nothing (within the
    # second a revocation takes to reach the token cache).
    browser.add_cookie({"name": SESSION_COOKIE, "value": session["value"], "path": "/console", "httpOnly": True,
                        "sameSite": "Strict"})
    deadline = time.monotonic() + 5
    while True:
        browser.get(BASE_URL + "/console")
        if on_signin_form(browser):
            break
        assert time.monotonic() < deadline, "the signed-out session's cookie still opens the console"
        time.sleep(0.5)
