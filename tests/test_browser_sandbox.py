"""The sandbox in a real browser: Debian's Chromium driven by Playwright, as a person uses it.

The head opens the page and runs /digest (chart and attention list shown); then the first
manager fast-forwards an hour, presses "Done — log it" on the reminder that arrives and logs
the contact with a next step. Playwright only drives the system Chromium (`executable_path`);
it never downloads a browser. If Chromium can't start, the test fails: `make test` installs
it (package `chromium`) when it is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from bot.devtools.demo import persona
from bot.devtools.sandbox.run import SANDBOX_BOT, Sandbox, running_sandbox
from tests.sandbox_helpers import SANDBOX_START, clock_at, settings_in

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root (CI); Chromium's sandbox refuses root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB's timedelta `retry_after` (the int form warns, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The sandbox with the demo data, its clock at Thursday 26 Nov 2026, 10:00 Berlin."""
    async with running_sandbox(
        settings_in(tmp_path), port=0, clock=clock_at(SANDBOX_START)
    ) as box:
        yield box


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium (a fresh profile each time); failing to start fails the test."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def send(page: Page, text: str) -> None:
    """Type into the composer and press Enter."""
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")


def bot_message(page: Page, text: str) -> Locator:
    """The newest message from the bot containing `text`."""
    return page.locator(".msg:not(.mine)", has_text=text).last


async def press(page: Page, label: str) -> None:
    """Press the newest inline button with exactly this label."""
    await page.get_by_role("button", name=label, exact=True).last.click()


async def test_head_digest_then_manager_logs_from_a_reminder(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    """The two journeys of the issue, on a phone-sized page."""
    page = await browser.new_page(viewport={"width": 400, "height": 860})
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The head of sales: /digest shows the chart and the attention list. (A digest may
    # already be in the chat from start-up: only what follows this week's header counts.)
    await page.goto(sandbox.url + "#head")
    await expect(page.locator("#persona")).to_have_value(str(persona("head").telegram_id))
    await expect(page.locator("#clock")).to_contain_text("Thu 26 Nov 2026, 10:0")
    await send(page, "/digest")
    await expect(bot_message(page, "which week?")).to_be_visible()
    await press(page, "This week so far")
    header = bot_message(page, "This week so far")
    await expect(header).to_contain_text("Needs your attention")
    chart = page.locator('.msg:not(.mine):has-text("This week so far") ~ .msg img.photo').first
    await expect(chart).to_be_visible()
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("img => img.naturalWidth") > 100

    # Manager 1: an hour later her call falls due; she logs it from the reminder.
    await page.select_option("#persona", str(persona("manager1").telegram_id))
    # What fell due before start-up (overdue steps, invoices) has arrived: the call due
    # soon will come alone, with its own buttons.
    await expect(page.locator(".msg:not(.mine)").first).to_be_visible()
    await page.select_option("#ff", "1h")
    reminder = page.locator(".msg", has_text="Due now").filter(has_text="Nordlicht Logistik")
    await expect(reminder.last).to_be_visible()
    await reminder.last.get_by_role("button", name="✅ Done — log it").click()
    await expect(bot_message(page, "What happened?")).to_be_visible()
    await send(page, "Katrin accepts the quote; wants to agree delivery dates in person")
    await expect(bot_message(page, "What is the next step?")).to_be_visible()
    await press(page, "📅 Schedule follow-up")
    await expect(bot_message(page, "What kind of follow-up?")).to_be_visible()
    await press(page, "🤝 Meeting")
    await expect(bot_message(page, "When is the follow-up due?")).to_be_visible()
    await press(page, "Tomorrow 10:00")  # a tapped time is saved at once
    logged = bot_message(page, "Logged")
    await expect(logged).to_contain_text("call with Nordlicht Logistik GmbH")
    await expect(logged).to_contain_text("Next step: meeting on Fri 27 Nov 2026, 10:00")

    # Inline mode: `@bot words` lists the bot's results; the chosen one is inserted.
    await page.locator("#text").fill(f"@{SANDBOX_BOT} Nordlicht payment")
    result = page.locator(".inline-result").first
    await expect(result).to_be_visible()
    await result.click()
    inserted = page.locator(".msg.mine", has_text="via @").last
    await expect(inserted).to_contain_text("Katrin")

    shot = tmp_path / "sandbox.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert errors == []
