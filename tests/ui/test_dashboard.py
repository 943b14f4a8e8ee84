"""The dashboard in a real browser: what a person debugging a client sees, live, and what they can do from it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.sdk.live import LiveEmulator, WebhookSink, free_port
from tests.support import inference

from .conftest import PUBLIC_NAME, screenshot

KEY = {"Authorization": "Bearer dev-key"}
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def runware(live: LiveEmulator, *tasks: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url('runware')}/v1", json=list(tasks), headers=KEY, timeout=30)


def evolink(live: LiveEmulator, **body: Any) -> httpx.Response:
    payload = {"model": "doubao-seedream-4.0", "prompt": "a paper lantern", **body}
    return httpx.post(f"{live.url('evolink')}/v1/images/generations", json=payload, headers=KEY, timeout=30)


def open_page(page: Page, live: LiveEmulator, name: str) -> None:
    page.goto(f"{live.base}/_emulator/ui/#{name}")
    expect(page.locator("#status")).to_contain_text("live")


def test_a_request_made_by_a_client_appears_live_with_what_it_sent(live: LiveEmulator, page: Page) -> None:
    open_page(page, live, "requests")
    expect(page.locator("#journal-empty")).to_be_visible()
    task = inference(positivePrompt="a porcelain dragon bakery")
    assert runware(live, task).status_code == 200
    row = page.locator("#journal tbody tr", has_text="POST /v1")
    expect(row).to_have_count(1)  # no reload: the page polls the journal
    expect(row).to_contain_text("runware")
    expect(row.locator(".badge.good", has_text="ok")).to_be_visible()
    row.click()
    detail = page.locator("#entry-detail")
    expect(detail).to_contain_text(task["taskUUID"])
    expect(detail).to_contain_text("a porcelain dragon bakery")
    expect(detail.locator(".body").nth(1)).to_contain_text("imageURL")
    screenshot(page, "requests")


def test_a_violation_is_highlighted_at_its_pointer(live: LiveEmulator, page: Page) -> None:
    assert runware(live, inference()).status_code == 200
    assert runware(live, inference(positivePrompt="")).status_code == 400
    open_page(page, live, "requests")
    expect(page.locator("#journal tbody tr")).to_have_count(2)
    page.locator("#f-broken").check()
    broken = page.locator("#journal tbody tr")
    expect(broken).to_have_count(1)
    expect(broken).to_contain_text("1 violation")
    broken.click()
    marked = page.locator("#entry-detail .violated")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-pointer", "/0/positivePrompt")
    expect(marked).to_have_text('""')
    violation = page.locator("#entry-detail .violation")
    expect(violation).to_contain_text("/0/positivePrompt")
    expect(violation).to_contain_text("The prompt must be a string of 1 to 2000 characters.")  # the provider's rule
    screenshot(page, "request-violation")


def test_a_fault_added_in_the_form_changes_the_next_reply(live: LiveEmulator, page: Page) -> None:
    open_page(page, live, "faults")
    page.locator("#fault-surface").select_option("evolink")
    page.locator("#fault-example").select_option(label="503 on the next request")
    expect(page.locator("#fault-json")).to_have_value(
        '{\n  "action": "error",\n  "surface": "evolink",\n  "status": 503,\n  "times": 1\n}'
    )
    page.locator("#fault-add").click()
    expect(page.locator("#fault-message")).to_have_text("added fault_1")
    expect(page.locator("#faults tbody tr")).to_have_count(1)
    assert evolink(live).status_code == 503
    assert evolink(live).status_code == 200
    expect(page.locator("#faults tbody tr td").nth(5)).to_have_text("1")  # fired once, shown live
    screenshot(page, "faults")
    page.locator("#fault-json").fill('{"action": "error", "status": 99}')
    page.locator("#fault-add").click()
    expect(page.locator("#fault-message")).to_contain_text("refused: status must be between")
    page.locator("#faults tbody tr button", has_text="Remove").click()
    expect(page.locator("#faults tbody tr")).to_have_count(0)


def test_a_hostile_prompt_shows_as_text_and_runs_nothing(live: LiveEmulator, page: Page) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    assert evolink(live, prompt=HOSTILE).status_code == 200
    assert (
        httpx.post(
            f"{live.url('evolink')}/v1/images/generations",
            json={"prompt": HOSTILE},
            headers={"Authorization": f"Bearer {HOSTILE}"},
        ).status_code
        == 400
    )
    open_page(page, live, "requests")
    rows = page.locator("#journal tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        rows.nth(index).click()
        expect(page.locator("#entry-detail")).to_contain_text("<script>window.__pwned = 1</script>")
    page.locator("a[data-page=jobs]").click()
    page.locator("#jobs tbody tr").first.click()
    expect(page.locator("#job-detail img")).to_have_count(1)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 1  # the dashboard's own, nothing from the client
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def test_jobs_show_state_timeline_images_and_take_the_buttons(live: LiveEmulator, page: Page) -> None:
    assert evolink(live).status_code == 200
    live.run(lambda: live.emulator.add_fault(action="stall", surface="evolink", state="running"))
    stalled = evolink(live, prompt="a stalled lantern").json()["id"]
    doomed = evolink(live, prompt="a doomed lantern").json()["id"]
    open_page(page, live, "jobs")
    rows = page.locator("#jobs tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="succeeded")).to_contain_text("doubao-seedream-4.0")
    rows.filter(has_text="succeeded").click()
    detail = page.locator("#job-detail")
    expect(detail.locator("svg.timeline rect")).to_have_count(3)  # queued, running, succeeded
    images = detail.locator(".thumbs img")
    expect(images).to_have_count(1)
    expect(images.first).to_have_js_property("complete", True)
    assert images.first.evaluate("image => image.naturalWidth") > 0
    expect(detail.locator(".thumbs")).to_contain_text("prompt_sha256")
    screenshot(page, "jobs")

    page.locator("#jobs tbody tr", has_text=stalled).click()
    expect(detail).to_contain_text("running (stalled)")
    detail.locator("button", has_text="Advance").click()
    expect(detail.locator(".events")).to_contain_text("image 0 ready")
    expect(detail.locator("#job-message")).to_have_text("advance: done")
    detail.locator("button", has_text="Advance").click()
    expect(detail).to_contain_text("succeeded")
    expect(detail.locator("button", has_text="Cancel")).to_be_disabled()

    page.locator("#jobs tbody tr", has_text=doomed).click()
    detail.locator("#job-failure").select_option("content_policy")
    detail.locator("button", has_text="Fail").click()
    expect(detail).to_contain_text("content_policy")
    reply = httpx.get(f"{live.url('evolink')}/v1/tasks/{doomed}", headers=KEY).json()
    assert reply["status"] == "failed"


def test_start_here_fills_in_this_emulators_address_and_keys(live: LiveEmulator, page: Page) -> None:
    open_page(page, live, "start")
    for surface in ("runware", "wiro", "evolink", "replicate"):
        card = page.locator(f"article[data-surface={surface}]")
        expect(card).to_contain_text(f"{live.base}/{surface}")
    expect(page.locator("article[data-surface=runware] pre").first).to_contain_text("Bearer dev-key")
    expect(page.locator("article[data-surface=wiro] pre").first).to_contain_text("wiro-dev-secret")
    screenshot(page, "start")


@pytest.fixture(scope="module")
def guarded() -> Any:
    with LiveEmulator(timing="instant", control_token="s3cret-token") as live:
        yield live


def test_with_a_control_token_the_page_asks_for_it_and_then_works(guarded: LiveEmulator, page: Page) -> None:
    page.goto(f"{guarded.base}/_emulator/ui/#requests")
    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("needs the control token")
    page.locator("#token-input").fill("s3cret-token")
    page.locator("#token-form button").click()
    expect(page.locator("#status")).to_contain_text("live")
    runware(guarded, inference())
    expect(page.locator("#journal tbody tr")).to_have_count(1)
    # Given in the address once, it is taken from there and wiped from the address bar.
    other = page.context.new_page()
    other.goto(f"{guarded.base}/_emulator/ui/#token=s3cret-token")
    expect(other.locator("#journal tbody tr")).to_have_count(1)
    assert "s3cret" not in other.url


def test_over_tls_behind_a_public_url_with_one_provider_at_the_root(tmp_path: Any, page: Page) -> None:
    port = free_port()
    public = f"https://{PUBLIC_NAME}:{port}"
    with LiveEmulator(timing="instant", provider="evolink", tls_dir=tmp_path, port=port, public_url=public) as live:
        page.goto(f"{public}/_emulator/ui/#faults")
        expect(page.locator("#status")).to_contain_text("live")
        page.locator("#fault-json").fill('{"action": "error", "status": 429, "times": 1}')
        page.locator("#fault-add").click()  # a POST from the page's own origin, which is not a loopback one
        expect(page.locator("#fault-message")).to_have_text("added fault_1")
        reply = httpx.post(
            f"{live.base}/v1/images/generations",
            json={"model": "doubao-seedream-4.0", "prompt": "x"},
            headers=KEY,
            verify=False,
        )
        assert reply.status_code == 429
        page.locator("a[data-page=start]").click()
        expect(page.locator("article[data-surface=evolink]")).to_contain_text(f"{public}/v1/images/generations")
        page.locator("a[data-page=requests]").click()
        expect(page.locator("#journal tbody tr")).to_have_count(1)
        screenshot(page, "tls-public-url-root")


def test_a_jobs_deliveries_show_attempts_status_latency_and_signature_headers(live: LiveEmulator, page: Page) -> None:
    with WebhookSink() as sink:
        body = {"input": {"prompt": "a red fox"}, "webhook": sink.url, "webhook_events_filter": ["completed"]}
        created = httpx.post(
            f"{live.url('replicate')}/v1/models/bytedance/seedream-4/predictions", json=body, headers=KEY
        )
        assert created.status_code == 201
        open_page(page, live, "jobs")
        page.locator("#jobs tbody tr", has_text=created.json()["id"]).click()
        delivery = page.locator("#job-detail .delivery")
        expect(delivery).to_have_count(1)
        expect(delivery.locator(".badge")).to_have_text("delivered")
        expect(delivery).to_contain_text(sink.url)
        expect(delivery.locator("tbody td").nth(2)).to_have_text("200")
        expect(delivery.locator("tbody td").nth(3)).to_contain_text(" ms")
        delivery.locator("summary").click()
        expect(delivery.locator("table.kv")).to_contain_text("webhook-signature (attempt 1)")
        screenshot(page, "job-deliveries")
