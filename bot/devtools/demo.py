"""Demo data: a small sales team with four weeks of history, made through the services.

`seed_demo` is what the sandbox runs on its first start and `python -m bot demo-data` runs on
any database: one admin, one head of sales, three managers (the sandbox page's personas, with
fixed Telegram ids), about 40 clients, four weeks of calls and meetings each ending in a next
step or a closure, a few contacts still missing their next step, overdue steps, and a call due
shortly after seeding (so a fast-forward shows a reminder at once). Every record goes through
the same services the bot uses, with the clock set to the moment it "happened", so the data
passes every rule the bot enforces and the digest's timings look real.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.clock import Clock, FrozenClock
from bot.services import access, clients, contacts, invites, steps, team_settings
from bot.services.dates import local_to_utc
from bot.services.errors import DomainError
from bot.services.receivables import invoices, money
from storage import users
from storage.clients import Client, ClientStatus
from storage.contacts import ContactKind, Outcome
from storage.db import Database
from storage.steps import StepKind
from storage.users import Role, User

logger = logging.getLogger(__name__)

DEMO_TIMEZONE = "Europe/Berlin"
DEMO_LOCALE = "en"
DEMO_COMPANY = "Lindqvist Industrial Supplies"
HISTORY = dt.timedelta(days=28)
SOON = dt.timedelta(minutes=40)
"""The demo call of the first manager falls due this long after seeding (in office hours)."""
OFFICE_HOURS = (dt.time(9, 0), dt.time(17, 30))


@dataclass(frozen=True, slots=True)
class Persona:
    """Someone the sandbox page can be: a team member of the demo data, or a stranger."""

    key: str
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    role: Role | None  # None: not on the team
    title: str

    @property
    def name(self) -> str:
        """The full name, as the bot knows the person."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


PERSONAS = (
    Persona("admin", 100001, "Olga", "Smirnova", "olga_admin", Role.ADMIN, "Admin"),
    Persona("head", 100002, "Daniel", "Becker", "daniel_head", Role.HEAD, "Head of sales"),
    Persona("manager1", 100011, "Mia", "Novak", "mia_sales", Role.MANAGER, "Manager 1"),
    Persona("manager2", 100012, "Иван", "Петров", "ivan_sales", Role.MANAGER, "Manager 2"),
    Persona("manager3", 100013, "Sofia", "Rossi", "sofia_sales", Role.MANAGER, "Manager 3"),
    Persona("stranger", 100099, "Sam", "Taylor", None, None, "Stranger"),
)
ADMIN = PERSONAS[0]
HEAD = PERSONAS[1]
MANAGERS = PERSONAS[2:5]


def persona(key: str) -> Persona:
    """The persona with this key ("admin", "head", "manager1".."manager3", "stranger")."""
    return next(p for p in PERSONAS if p.key == key)


@dataclass(frozen=True, slots=True)
class DemoClient:
    """A client of the demo data: name, contact person, phone, e-mail, tags."""

    name: str
    person: str
    phone: str | None
    email: str | None
    tags: str


CLIENTS = (
    DemoClient("Nordlicht Logistik GmbH", "Katrin Vogel", "+49 30 23456789", None, "logistics"),
    DemoClient("ООО «Волга-Пак»", "Дмитрий Орлов", "+7 495 123-45-67", None, "packaging"),
    DemoClient("Baltic Timber Trading", "Jonas Petraitis", "+370 5 212 3456", None, "wood"),
    DemoClient("Acme Packaging Ltd", "Helen Price", "+44 20 7946 0123", "h.price@acme.test", ""),
    DemoClient("Rheinwerk Maschinenbau AG", "Stefan Braun", "+49 89 2180 3412", None, "key"),
    DemoClient("Kaskad Engineering", "Марина Кузнецова", "+7 812 315-44-20", None, "industry"),
    DemoClient("Solaris Foods", "Elena Marino", "+39 02 8734 5521", None, "food"),
    DemoClient("Brightline Media", "Tom Harris", None, "tom@brightline.test", "media"),
    DemoClient("Alpina Dairy AG", "Lukas Meier", "+41 44 668 1800", None, "food"),
    DemoClient("ТД «Уральские краски»", "Павел Соколов", None, None, "paint"),
    DemoClient("Westfield Retail Group", "Sarah Collins", "+1 212 555 0142", None, "retail, key"),
    DemoClient("Vega Pharma", "Ana Kovač", None, "ana.kovac@vega.test", "pharma"),
    DemoClient("Hanse Hafen Service", "Ole Jensen", "+49 40 3190 2210", None, "logistics"),
    DemoClient("Gorizont IT", "Сергей Волков", None, None, "it"),
    DemoClient("Delta Print s.r.o.", "Petr Dvořák", "+420 224 123 456", None, "print"),
    DemoClient("Mistral Hotels", "Camille Laurent", "+33 1 42 68 53 00", None, "hospitality"),
    DemoClient("Oakridge Construction", "Mark Evans", None, "mark@oakridge.test", ""),
    DemoClient("ООО «Теплосеть Сервис»", "Ирина Лебедева", None, None, "utilities"),
    DemoClient("Polar Cold Chain", "Mikko Virtanen", "+358 9 1234 567", None, "logistics"),
    DemoClient("Sunrise Textiles", "Priya Nair", "+91 22 2345 6789", None, "textiles"),
    DemoClient("Atlas Office Supply", "James Walker", None, None, "retail"),
    DemoClient("Krona Bank Services", "Erik Lund", "+46 8 123 456 78", None, "finance, key"),
    DemoClient("Фабрика мебели «Уют»", "Наталья Морозова", None, None, "furniture"),
    DemoClient("Greenleaf Organics", "Laura Fischer", None, "laura@greenleaf.test", "food"),
    DemoClient("Meridian Shipping", "Nikos Papadopoulos", "+30 21 0123 4567", None, "shipping"),
    DemoClient("Kristall Glass Works", "Jana Horváthová", None, None, "industry"),
    DemoClient("Bergmann Elektro KG", "Uwe Bergmann", None, None, "electrics"),
    DemoClient("Silverline Clinics", "Maria Santos", "+34 91 123 45 67", None, "health"),
    DemoClient("Orion Security", "Виктор Козлов", None, None, "security"),
    DemoClient("Cascade Water Systems", "Peter Novak", "+43 1 534 2711", None, "utilities"),
    DemoClient("Tundra Outdoor", "Anna Berg", "+45 33 12 34 56", None, "retail"),
    DemoClient("Zenit Sports", "Олег Николаев", None, None, "sports"),
    DemoClient("Lumen Lighting", "Chiara Bianchi", None, "chiara@lumen.test", ""),
    DemoClient("Quadrat Architekten", "Felix Wagner", None, None, "architecture"),
    DemoClient("Helios Energy", "Dimitra Georgiou", None, None, "energy, key"),
    DemoClient("Avangard Auto", "Андрей Попов", None, None, "automotive"),
    DemoClient("Bluebird Catering", "Emma Thompson", None, None, "food"),
    DemoClient("Pinnacle Software", "Raj Patel", None, "raj@pinnacle.test", "it"),
    DemoClient("Sever Agro", "Екатерина Васильева", None, None, "agro"),
    DemoClient("Vivid Events", "Lucas Martin", "+48 22 628 40 10", None, "events"),
)

SUMMARIES = (
    "Walked through the price list; they want volume discounts",
    "Asked for references from customers in their industry",
    "Demo of the new range went well, purchasing is involved now",
    "They are comparing us with two other suppliers",
    "Budget for next quarter not approved yet",
    "Agreed on a pilot order, waiting for the PO",
    "Discussed delivery terms and the service level",
    "New contact person took over, introduced ourselves",
    "Sent the updated offer, they had questions about payment terms",
    "Обсудили условия поставки и сроки оплаты",
    "Клиент просит скидку за объём, обещал вернуться с цифрами",
    "Quarterly review: happy with quality, complaints about lead times",
)
AGENDAS = (
    "Send the updated quote",
    "Confirm the pilot order",
    "Agree on delivery dates",
    "Present the volume discount",
    "Introduce our logistics lead",
    None,
)
# What each client's story ends with now (index by client number, cycled).
FATES = (
    "future",
    "future",
    "overdue",
    "future",
    "missing",
    "future",
    "won",
    "future",
    "overdue",
    "paused",
    "future",
    "refused",
    "future",
    "overdue",
    "future",
    "missing",
    "future",
    "not_target",
    "future",
    "future",
)


@dataclass(frozen=True, slots=True)
class DemoInvoice:
    """An invoice of the demo data; days count from the seeding day (negative: before)."""

    client: int  # index into CLIENTS
    number: str
    amount: str  # major units, exact
    currency: str
    issued: int
    due: int
    payments: tuple[tuple[int, int], ...] = ()  # (day, percent of the amount)
    promise: tuple[int, int] | None = None  # (day it was made, day promised)


# Every aging bucket (not yet due, 1-30, 31-60, 61-90, 90+ days overdue), five currencies,
# partial and full payments, a broken promise and a pending one.
INVOICES = (
    DemoInvoice(4, "RW-2026-0311", "18400.00", "EUR", -150, -120),
    DemoInvoice(13, "GIT-0087", "640000.00", "RUB", -125, -95, ((-20, 25),)),
    DemoInvoice(10, "WRG-1042", "12750.00", "USD", -105, -75),
    DemoInvoice(21, "KBS-2026-19", "9300.00", "EUR", -95, -65),
    DemoInvoice(3, "ACME-5521", "4200.00", "GBP", -75, -45, promise=(-8, -3)),
    DemoInvoice(8, "AD-7781", "15600.00", "CHF", -65, -35, ((-15, 40),)),
    DemoInvoice(0, "NL-2026-118", "7300.00", "EUR", -50, -20),
    DemoInvoice(9, "УК-000154", "385000.00", "RUB", -40, -10, promise=(-2, 2)),
    DemoInvoice(24, "MS-3391", "22100.00", "EUR", -33, -3),
    DemoInvoice(6, "SF-2209", "3150.00", "EUR", -20, 10),
    DemoInvoice(15, "MH-0764", "11900.00", "EUR", -10, 20),
    DemoInvoice(27, "SC-1180", "8450.00", "EUR", -5, 25),
    DemoInvoice(34, "HE-2026-07", "54000.00", "USD", -2, 28),
    DemoInvoice(1, "ВП-2026-031", "210000.00", "RUB", -60, -30, ((-12, 100),)),
    DemoInvoice(12, "HHS-4410", "5400.00", "EUR", -45, -15, ((-8, 100),)),
    DemoInvoice(19, "ST-8812", "6900.00", "USD", -30, 0, ((-1, 100),)),
)
CLOSURE_REASONS = {
    "refused": "Chose a cheaper local supplier",
    "not_target": "Too small for our minimum order",
    "won": "Signed the annual contract",
}


@dataclass(order=True)
class _Event:
    """Something to do at a moment of the demo history; run in time order."""

    at: dt.datetime
    order: int
    action: Callable[[], Awaitable[None]] = field(compare=False)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What `seed_demo` created."""

    people: int
    clients: int
    contacts: int
    open_steps: int
    missing_steps: int
    invoices: int


async def demo_present(db: Database) -> bool:
    """Whether the demo team is already in this database."""
    return await users.get_user(db, ADMIN.telegram_id) is not None


async def team_is_empty(db: Database) -> bool:
    """Whether nobody is registered yet (a fresh database)."""
    return not await users.list_users(db)


async def seed_demo(db: Database, clock: Clock, *, seed: int = 8) -> DemoSummary:
    """Create the demo team and its history ending at `clock.now()`; the database is open.

    Deterministic for a given `seed` and start time. Refuses (ValueError) when the demo team
    is already there, so running it twice never doubles the data.
    """
    if await demo_present(db):
        raise ValueError("the demo team is already in this database")
    anchor = clock.now().replace(microsecond=0)
    history = FrozenClock(anchor - HISTORY - dt.timedelta(days=1))
    builder = _DemoBuilder(db, history, anchor, random.Random(seed))
    await builder.team()
    await builder.clients()
    builder.plan_invoices()
    await builder.stories()
    return builder.summary()


class _DemoBuilder:
    """Builds the demo step by step; `clock` walks through the history."""

    def __init__(self, db: Database, clock: FrozenClock, anchor: dt.datetime, rng: random.Random):
        self.db = db
        self.clock = clock
        self.anchor = anchor
        self.rng = rng
        self.zone = ZoneInfo(DEMO_TIMEZONE)
        self.people: dict[str, User] = {}
        self.client_rows: list[tuple[Client, User]] = []
        self.contacts = 0
        self.fates: list[str] = []
        self._events: list[_Event] = []

    # --- people -----------------------------------------------------------------------------

    async def team(self) -> None:
        """The admin bootstraps, then invites the head and the managers, who join."""
        admin = await access.bootstrap_admin(
            self.db,
            self.clock,
            telegram_id=ADMIN.telegram_id,
            name=ADMIN.name,
            username=ADMIN.username,
            timezone=DEMO_TIMEZONE,
            locale=DEMO_LOCALE,
        )
        self.people[ADMIN.key] = admin
        await team_settings.change(
            self.db, self.clock, actor=admin, key="company_name", value=DEMO_COMPANY
        )
        for member in (HEAD, *MANAGERS):
            assert member.role is not None
            invite = await invites.create_invite(
                self.db, self.clock, inviter=admin, role=member.role
            )
            self.clock.advance(dt.timedelta(minutes=7))
            joined = await invites.redeem_invite(
                self.db,
                self.clock,
                token=invite.token,
                telegram_id=member.telegram_id,
                name=member.name,
                username=member.username,
                timezone=DEMO_TIMEZONE,
                locale=DEMO_LOCALE,
            )
            assert joined.user is not None, joined.outcome
            self.people[member.key] = joined.user

    async def clients(self) -> None:
        """Each manager enters their share of the clients on the first day."""
        self.clock.advance(dt.timedelta(hours=2))
        for number, demo in enumerate(CLIENTS):
            owner = self.people[MANAGERS[number % len(MANAGERS)].key]
            status = ClientStatus.ACTIVE if number % 3 else ClientStatus.PROSPECT
            client = await clients.create_client(
                self.db,
                self.clock,
                actor=owner,
                name=demo.name,
                contact_person=demo.person,
                phone=demo.phone,
                email=demo.email,
                tags=demo.tags or None,
                status=status,
                region="DE",
            )
            self.client_rows.append((client, owner))
            self.clock.advance(dt.timedelta(minutes=3))

    # --- receivables ------------------------------------------------------------------------

    def plan_invoices(self) -> None:
        """Invoices entered on the first day (older ones) or when issued, payments, promises."""
        today = self._local_day(self.anchor)
        backlog = self.clock.now() + dt.timedelta(minutes=30)
        for demo in INVOICES:
            client, owner = self.client_rows[demo.client]
            issued = today + dt.timedelta(days=demo.issued)
            entered = max(backlog, local_to_utc(issued, dt.time(11, 0), DEMO_TIMEZONE))
            amount = money.to_minor(Decimal(demo.amount), demo.currency)
            box: dict[str, int] = {}

            async def create(
                demo: DemoInvoice = demo,
                client: Client = client,
                owner: User = owner,
                issued: dt.date = issued,
                amount: int = amount,
                box: dict[str, int] = box,
            ) -> None:
                invoice = await invoices.create_invoice(
                    self.db,
                    self.clock,
                    actor=owner,
                    client_id=client.id,
                    number=demo.number,
                    amount_minor=amount,
                    currency=demo.currency,
                    issued_on=issued,
                    due_on=today + dt.timedelta(days=demo.due),
                )
                box["invoice"] = invoice.id

            self._add(entered, create)
            for day, percent in demo.payments:
                paid_on = today + dt.timedelta(days=day)
                share = amount * percent // 100

                async def pay(
                    owner: User = owner,
                    box: dict[str, int] = box,
                    day: dt.date = paid_on,
                    share: int = share,
                ) -> None:
                    await invoices.record_payment(
                        self.db,
                        self.clock,
                        actor=owner,
                        invoice_id=box["invoice"],
                        amount_minor=share,
                        paid_on=day,
                    )

                self._add(local_to_utc(paid_on, dt.time(15, 0), DEMO_TIMEZONE), pay)
            if demo.promise is not None:
                made, promised = (today + dt.timedelta(days=d) for d in demo.promise)

                async def promise(
                    owner: User = owner, box: dict[str, int] = box, promised: dt.date = promised
                ) -> None:
                    await invoices.promise_to_pay(
                        self.db,
                        self.clock,
                        actor=owner,
                        invoice_id=box["invoice"],
                        promised_on=promised,
                    )

                self._add(local_to_utc(made, dt.time(12, 0), DEMO_TIMEZONE), promise)

    # --- history ----------------------------------------------------------------------------

    def _work_moment(self, day: dt.date, earliest: int = 9, latest: int = 17) -> dt.datetime:
        """A moment on a working day (the next one if `day` is a weekend), in office hours."""
        while day.isoweekday() > 5:
            day += dt.timedelta(days=1)
        time = dt.time(self.rng.randint(earliest, latest - 1), self.rng.choice((0, 15, 30, 45)))
        return local_to_utc(day, time, DEMO_TIMEZONE)

    def _office_moment(self, moment: dt.datetime) -> dt.datetime:
        """`moment` if it is in office hours on a working day, else 09:40 of the next one."""
        local = moment.astimezone(self.zone)
        opens, closes = OFFICE_HOURS
        if local.isoweekday() <= 5 and opens <= local.time() <= closes:
            return moment
        day = local.date() + dt.timedelta(days=0 if local.time() < opens else 1)
        while day.isoweekday() > 5:
            day += dt.timedelta(days=1)
        return local_to_utc(day, dt.time(9, 40), DEMO_TIMEZONE)

    def _local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def _add(self, at: dt.datetime, action: Callable[[], Awaitable[None]]) -> None:
        self._events.append(_Event(at, len(self._events), action))

    async def stories(self) -> None:
        """Plan every client's contacts over four weeks, then play them in time order."""
        start_day = self._local_day(self.anchor - HISTORY)
        last_day = self._local_day(self.anchor) - dt.timedelta(days=1)
        soon_given = False
        for number, (client, owner) in enumerate(self.client_rows):
            fate = FATES[number % len(FATES)]
            first_manager = owner.telegram_id == MANAGERS[0].telegram_id
            if fate == "future" and first_manager and not soon_given:
                fate, soon_given = "soon", True
            self.fates.append(fate)
            moments: list[dt.datetime] = []
            day = start_day + dt.timedelta(days=self.rng.randint(0, 6))
            while day <= last_day:
                moment = self._work_moment(day)
                if moment >= self.anchor - dt.timedelta(hours=6):
                    break
                moments.append(moment)
                day = self._local_day(moment) + dt.timedelta(days=self.rng.randint(3, 8))
            if not moments:
                moments.append(self.anchor - dt.timedelta(days=1, hours=6))
            self._plan_client(client, owner, moments, fate)
        for event in sorted(self._events):
            self.clock.set(event.at)
            await event.action()

    def _plan_client(
        self, client: Client, owner: User, moments: list[dt.datetime], fate: str
    ) -> None:
        for index, happened in enumerate(moments):
            logged = happened + dt.timedelta(minutes=self.rng.choice((2, 5, 10, 30, 90, 240)))
            concluded = logged + dt.timedelta(minutes=1)
            kind = self.rng.choice((ContactKind.CALL, ContactKind.CALL, ContactKind.MEETING))
            summary = self.rng.choice(SUMMARIES)
            last = index == len(moments) - 1
            box: dict[str, int] = {}

            async def log(
                box: dict[str, int] = box,
                kind: ContactKind = kind,
                summary: str = summary,
                happened: dt.datetime = happened,
            ) -> None:
                contact = await contacts.log_contact(
                    self.db,
                    self.clock,
                    actor=owner,
                    client_id=client.id,
                    kind=kind,
                    summary=summary,
                    happened_at=happened,
                )
                box["contact"] = contact.id
                self.contacts += 1

            self._add(min(logged, self.anchor), log)
            if not last:
                following = moments[index + 1]
                due = following - dt.timedelta(hours=self.rng.choice((0, 0, 1, 26)))
                self._plan_step(box, owner, max(due, concluded + dt.timedelta(hours=1)), concluded)
                continue
            self._plan_ending(box, owner, fate, happened, concluded)

    def _plan_step(
        self,
        box: dict[str, int],
        owner: User,
        due: dt.datetime,
        at: dt.datetime,
        kind: StepKind | None = None,
    ) -> None:
        step_kind = kind or self.rng.choice((StepKind.CALL, StepKind.MEETING, StepKind.EMAIL))
        agenda = self.rng.choice(AGENDAS)
        snooze = self.rng.random() < 0.2 and due < self.anchor - dt.timedelta(hours=2)

        async def schedule() -> None:
            step = await contacts.schedule_next_step(
                self.db,
                self.clock,
                actor=owner,
                contact_id=box["contact"],
                kind=step_kind,
                due_at=due,
                agenda=agenda,
            )
            box["step"] = step.id

        self._add(at, schedule)
        if snooze:

            async def snooze_it() -> None:
                try:
                    await steps.snooze_step(
                        self.db, self.clock, actor=owner, step_id=box["step"], code="1h"
                    )
                except DomainError:  # a later contact already completed it
                    logger.debug("demo snooze skipped", exc_info=True)

            self._add(due + dt.timedelta(minutes=5), snooze_it)

    def _plan_ending(
        self,
        box: dict[str, int],
        owner: User,
        fate: str,
        happened: dt.datetime,
        at: dt.datetime,
    ) -> None:
        anchor_day = self._local_day(self.anchor)
        if fate == "missing":
            return  # logged, no next step yet: the agenda and the nag show it
        if fate == "soon":
            self._plan_step(box, owner, self._office_moment(self.anchor + SOON), at, StepKind.CALL)
        elif fate == "overdue":
            latest = max(self.anchor - dt.timedelta(hours=1), at + dt.timedelta(hours=1))
            due = min(at + dt.timedelta(days=self.rng.randint(1, 3)), latest)
            self._plan_step(box, owner, max(due, at + dt.timedelta(minutes=30)), at)
        elif fate == "future":
            day = anchor_day + dt.timedelta(days=self.rng.randint(1, 8))
            self._plan_step(box, owner, self._work_moment(day, 10, 17), at)
        elif fate == "paused":
            until = self._work_moment(anchor_day + dt.timedelta(days=35))

            async def pause() -> None:
                await contacts.pause_until(
                    self.db,
                    self.clock,
                    actor=owner,
                    contact_id=box["contact"],
                    until=until,
                    reason="Budget freeze until next quarter",
                )

            self._add(at, pause)
        else:
            outcome = Outcome(fate)

            async def close() -> None:
                await contacts.close_contact(
                    self.db,
                    self.clock,
                    actor=owner,
                    contact_id=box["contact"],
                    outcome=outcome,
                    reason=CLOSURE_REASONS[fate],
                )

            self._add(at, close)

    def summary(self) -> DemoSummary:
        """Counts of what was made."""
        return DemoSummary(
            people=len(self.people),
            clients=len(self.client_rows),
            contacts=self.contacts,
            open_steps=sum(self.fates.count(f) for f in ("soon", "future", "overdue", "paused")),
            missing_steps=self.fates.count("missing"),
            invoices=len(INVOICES),
        )
