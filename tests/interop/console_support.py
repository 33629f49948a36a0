"""What the web console's browser tests (test_console.py) share: headless Chromium driven by Selenium through the
system's chromedriver, a webhook whose jobs end dead and complete when retried, and helpers that read the
console's pages. Not a test module: conftest.py registers it as a plugin (pytest_plugins), so that its session
fixture is made once.

Chromium and chromedriver are Debian's packages (chromium, chromium-driver) and Selenium is PyPI's; scripts/interop
installs them when missing. Selenium Manager is never asked for anything: the driver's and the browser's paths
are given."""

import json
import os
import shutil
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from conftest import BASE_URL, hookline

CHROMEDRIVER = "/usr/bin/chromedriver"
SESSION_COOKIE = "hookline_console"
# When set, test_console's retry test saves console-overview.png and console-job.png here (scripts/screenshots).
SCREENSHOT_DIR = os.environ.get("HOOKLINE_SCREENSHOT_DIR", "")
WINDOW = (1280, 900)
# Pages are rendered by a debug build on a two-core machine that also runs the workers.
WAIT_SECONDS = 30
# What the console's overview <main> refresh and a job page's reload can make of an element between finding it
# and reading it.
TRANSIENT = (NoSuchElementException, StaleElementReferenceException)


# The browser


def chromium_path() -> str:
    return shutil.which("chromium") or "/usr/bin/chromium"


def new_browser() -> WebDriver:
    """Headless Chromium whose pages are 1280x900 (a window that much larger, by its frame) and that records the
    network events of its pages (for their statuses)."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path()
    for argument in [
        "--headless=new", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--disable-dev-shm-usage", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
    ]:
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        # The window's frame takes its share of --window-size: grow the window by it, so that the page (and a
        # screenshot) is 1280x900.
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        outer = driver.get_window_size()
        driver.set_window_size(outer["width"] + WINDOW[0] - inner[0], outer["height"] + WINDOW[1] - inner[1])
    except BaseException:
        driver.quit()
        raise
    return driver


@pytest.fixture
def browser():
    """A fresh browser (no cookies) for one test."""
    driver = new_browser()
    try:
        yield driver
    finally:
        driver.quit()


def document_responses(driver: WebDriver) -> list[tuple[str, int]]:
    """(URL, status) of each document the browser got since the last call, redirects included, oldest first: the
    statuses that Selenium does not tell, from Chromium's network events."""
    responses = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if params.get("type") != "Document":
            continue
        if message["method"] == "Network.requestWillBeSent" and "redirectResponse" in params:
            responses.append((params["redirectResponse"]["url"], params["redirectResponse"]["status"]))
        elif message["method"] == "Network.responseReceived":
            responses.append((params["response"]["url"], params["response"]["status"]))
    return responses


def statuses_of(driver: WebDriver, path: str) -> list[int]:
    """The statuses of the documents at `path` (path and query, on the console's server) since the last call of
    document_responses."""
    return [status for url, status in document_responses(driver) if url == BASE_URL + path]


# Reading pages


def location(driver: WebDriver) -> str:
    """The current page's path and query."""
    parts = urlsplit(driver.current_url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def path_of(url: str) -> str:
    return urlsplit(url).path


def eventually(driver: WebDriver, check, what: str, seconds: float = WAIT_SECONDS):
    """The first truthy value of check(driver), asked again while it is falsy or the page changes under it."""
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=TRANSIENT).until(check)
    except TimeoutException:
        raise AssertionError(f"{what}: not within {seconds} s at {driver.current_url}\n{page_text(driver)}") from None


def page_text(driver: WebDriver) -> str:
    try:
        return driver.find_element(By.TAG_NAME, "body").text[:2000]
    except TRANSIENT:
        return ""


def find(driver: WebDriver, css: str) -> WebElement:
    return eventually(driver, lambda d: d.find_element(By.CSS_SELECTOR, css), f"an element {css}")


def text_of(driver: WebDriver, css: str) -> str:
    return eventually(driver, lambda d: d.find_element(By.CSS_SELECTOR, css).text.strip() or None, f"text in {css}")


def heading(driver: WebDriver) -> str:
    return text_of(driver, "h1")


def button(scope: WebDriver | WebElement, label: str) -> WebElement:
    """The button whose text is `label` in `scope`."""
    return scope.find_element(By.XPATH, f".//button[normalize-space()='{label}']")


def click_and_wait(driver: WebDriver, element: WebElement):
    """Clicks something that loads another page, and waits until it has."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def gone(_):
        try:
            page.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            # chromedriver sometimes answers for an element of a page just replaced with HTTP 500 "unhandled
            # inspector error: Node with given id does not belong to the document" instead of "stale": gone too.
            if "does not belong to the document" in str(error):
                return True
            raise

    WebDriverWait(driver, WAIT_SECONDS).until(gone)
    eventually(driver, lambda d: d.execute_script("return document.readyState") == "complete", "the page loaded")


def session_cookie(driver: WebDriver) -> dict | None:
    """The console's session cookie as the browser holds it for the current page, if it does."""
    return next((cookie for cookie in driver.get_cookies() if cookie["name"] == SESSION_COOKIE), None)


def on_signin_form(driver: WebDriver) -> bool:
    """Whether the page is the sign-in form."""
    return (
        path_of(driver.current_url) == "/console/signin"
        and heading(driver) == "Sign in"
        and len(driver.find_elements(By.CSS_SELECTOR, 'form#signin input#client_id[name="client_id"]')) == 1
    )


def sign_in(driver: WebDriver, client_id: str, client_secret: str):
    """Fills in and submits the sign-in form the browser shows."""
    form = find(driver, "form#signin")
    assert form.get_attribute("method") == "post" and path_of(form.get_attribute("action")) == "/console/signin"
    for field, value in [("client_id", client_id), ("client_secret", client_secret)]:
        box = form.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    click_and_wait(driver, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))


def assert_console_page(driver: WebDriver):
    """What every console page has: the console's navigation, the sign-out form, and a hidden csrf field in each
    POST form."""
    for attempt in range(3):
        try:
            links = {
                link.text.strip(): link.get_attribute("href")
                for link in find(driver, 'nav[aria-label="Console"]').find_elements(By.TAG_NAME, "a")
            }
            for label, path in [("Overview", "/console"), ("Accounts", "/console/accounts"), ("Jobs", "/console/jobs")]:
                assert label in links and path_of(links[label]) == path, f"the console's navigation: {links}"
            signout = driver.find_element(By.CSS_SELECTOR, "form#signout")
            assert signout.get_attribute("method") == "post", "form#signout is not a POST form"
            assert path_of(signout.get_attribute("action")) == "/console/signout", signout.get_attribute("action")
            button(signout, "Sign out")
            assert_post_forms_carry_csrf(driver)
            return
        except StaleElementReferenceException:  # the overview's <main> was refreshed meanwhile: again
            if attempt == 2:
                raise


def assert_post_forms_carry_csrf(driver: WebDriver):
    """Each POST form of the page has one hidden csrf field, not empty."""
    for form in driver.find_elements(By.TAG_NAME, "form"):
        if form.get_attribute("method") == "post":
            csrf = form.find_elements(By.CSS_SELECTOR, 'input[type="hidden"][name="csrf"]')
            assert len(csrf) == 1 and csrf[0].get_attribute("value"), f"form#{form.get_attribute('id')} has no csrf"


def screenshot(driver: WebDriver, name: str):
    """Saves the window as `name` in HOOKLINE_SCREENSHOT_DIR, when it is set."""
    if SCREENSHOT_DIR:
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        assert driver.save_screenshot(os.path.join(SCREENSHOT_DIR, name)), f"could not save {name}"


# Jobs


@pytest.fixture(scope="session")
def flaky_webhook(world) -> str:
    """The URL of a webhook (auth none) of account A whose cycle POSTs the payload to the receiver's
    /flaky/{tag}: the receiver refuses the first POST to each path with 422 (a permanent failure: the job is dead
    at once) and accepts later ones, so a delivery's job ends dead and completes when retried."""
    cycle = world.a.cycle({
        "name": "flaky",
        "input_schema": {"type": "object", "required": ["tag"], "properties": {"tag": {"type": "string"}}},
        "steps": [{"id": "send", "type": "http", "method": "POST",
                   "url": f"{world.receiver.url}/flaky/{{{{payload.tag}}}}", "timeout_seconds": 10}],
    })
    webhook = hookline("webhooks", "create", "--account", world.a.id, "--cycle", cycle, "--auth", "none")
    return BASE_URL + webhook["url"]


def job_state(job_id: int) -> str:
    return hookline("jobs", "show", str(job_id))["state"]


def dead_job(webhook_url: str, tag: str | None = None) -> int:
    """A delivery of {"tag": tag} (a new tag when left out) to the flaky webhook, once its job is dead: the job's
    ID."""
    answer = httpx.post(webhook_url, json={"tag": tag or f"console-{uuid.uuid4().hex[:12]}"}, timeout=30)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    deadline = time.monotonic() + WAIT_SECONDS
    while (state := job_state(job_id)) != "dead":
        assert time.monotonic() < deadline, f"job {job_id} is {state}, not dead"
        time.sleep(0.3)
    return job_id


class OtherOrigin:
    """A page on another port of 127.0.0.1 (another origin, the same site) whose form POSTs `fields` to `action`
    as soon as it loads, as a hostile page would."""

    def __init__(self, action: str, fields: dict[str, str]):
        inputs = "".join(f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items())
        page = (
            "<!doctype html><html><head><title>Elsewhere</title></head><body>"
            f'<form id="attack" method="post" action="{action}">{inputs}</form>'
            "<script>document.getElementById('attack').submit()</script></body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "OtherOrigin":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
