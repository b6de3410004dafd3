"""One bot for every partner's Microsoft 365 tenant: Bot Framework activities from two tenants over HTTP
to `serve`, the messages the bot starts itself sent to each tenant through the dispatcher, and each
tenant's rate limit its own.

Medway's tenant and Swale's are recorded as theirs (PartnerTenant); their staff here have addresses no
partner's domain matches (a shared service's .onmicrosoft.com ones), so they are known by their tenant
alone. A third tenant is no partner's. `serve` runs in Emulator mode on a database of its own with a
FakeConnector as every tenant's service URL; the dispatcher runs in this process over TeamsSender on the
same SQLite file, on a clock the test moves. The SingleTenant registration is at the end: `serve` with an
app id, tokens signed by the local OpenID/JWKS fake, and the host tenant's authority asked for the bot's
own token.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.teams_adapter import TeamsSender
from core.messages import Reply
from core.settings import Settings
from storage import db, deliveries as delivery_queries, ratelimit
from storage.models import Delivery, DeliveryStatus, Partner, PartnerTenant, Person, RateBucket
from tests.teams import harness
from tests.teams.fake_openid import ISSUER, FakeOpenId, SigningKey
from tests.teams.harness import AUTH_APP_ID, BOT_ID, Clock, TeamsServe, card_text, check_activity

MEDWAY_TENANT = "3f2b6c1e-8d4a-4b7e-9c0f-5a1d2e3b4c5d"
SWALE_TENANT = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"
STRANGE_TENANT = "0badc0de-0000-4000-8000-000000000001"  # no partner's
HOST_TENANT = "5c4b3a29-1807-4f6e-9d5c-4b3a29180706"  # the host partner's, where the bot is registered
CHAIR = "a11y.chair.demo@kent.ac.uk"  # chairs Digital Accessibility in the demo


class Person_:
    """Someone on Teams: their user id, 1:1 conversation, tenant and address."""

    def __init__(self, user: str, conversation: str, tenant: str, email: str):
        self.user, self.conversation, self.tenant, self.email = user, conversation, tenant, email


class Tenants:
    """A server to talk to from several tenants, and the same database seen from this process."""

    def __init__(self, server: TeamsServe):
        self.server = server
        self.fake = server.fake
        self.settings = Settings(
            database_url=server.database_url, timezone="Europe/London", teams_allowlist=("127.0.0.1",), emulator=True
        )
        self.engine = db.make_engine(server.database_url)
        self.sessions = db.make_session_factory(self.engine)
        with self.sessions.begin() as session:
            for slug, tenant in (("medway", MEDWAY_TENANT), ("swale", SWALE_TENANT)):
                partner = session.execute(select(Partner).where(Partner.slug == slug)).scalar_one()
                session.add(PartnerTenant(partner=partner, tenant_id=tenant))

    def close(self) -> None:
        self.engine.dispose()

    def talk(self, tenant: str, text: str = "help", email: str = "") -> Person_:
        """A new Teams person in `tenant` writes to the bot in a 1:1 chat; their one answer came."""
        email = email or f"{self.server.uid('p')}@kentsharedservices.onmicrosoft.com"
        user = self.server.person(email)
        response, activity = self.server.say(user, text, tenant=tenant)
        assert response.status == 201, response.body
        assert len(self.server.replies(activity)) == 1
        return Person_(user, activity["conversation"]["id"], tenant, email)

    def answer(self, who: Person_, text: str) -> str:
        response, activity = self.server.say(who.user, text, conversation=who.conversation, tenant=who.tenant)
        assert response.status == 201, response.body
        [(body, card)] = self.server.reply_cards(activity)
        assert body["conversation"]["id"] == who.conversation
        return card_text(card)

    def person_id(self, email: str) -> int:
        with self.sessions() as session:
            return session.execute(select(Person.id).where(Person.email == email)).scalar_one()

    def record(self, who: Person_, text: str, due: datetime) -> int:
        subject = "test:" + self.server.uid("s")
        with self.sessions.begin() as session:
            recorded = delivery_queries.record(
                session,
                "personal_reminder",
                subject,
                "once",
                [self.person_id(who.email)],
                Reply(text, title="Reminder").to_data(),
                due_at=due,
            )
            assert recorded == 1
            return session.execute(select(Delivery.id).where(Delivery.subject == subject)).scalar_one()

    def delivery(self, delivery_id: int) -> Delivery:
        with self.sessions() as session:
            return session.get(Delivery, delivery_id)

    def bucket(self, tenant: str) -> RateBucket:
        with self.sessions() as session:
            return session.execute(select(RateBucket).where(RateBucket.key == f"teams:{tenant}")).scalar_one()

    def arrived(self, who: Person_, since: int = 0) -> list[str]:
        """The texts of what reached the person's conversation (from the `since`th message on)."""
        return [card_text(check_activity(s.body, s.path)) for s in self.fake.to_conversation(who.conversation)[since:]]


@pytest.fixture(scope="module")
def tenants(template, workdir) -> Iterator[Tenants]:
    fake = harness.start_connector()
    path = harness.copy_database(template, workdir, "tenants.db")
    server = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name="tenants")
    server.start()
    harness.SERVERS.append(server)
    env = Tenants(server)
    yield env
    env.close()
    server.stop()
    harness.SERVERS.remove(server)
    fake.stop()


@pytest.fixture
def sender(tenants) -> Iterator[TeamsSender]:
    made = TeamsSender(tenants.sessions, tenants.settings)
    yield made
    made.close()


def _path_of(conversation: str) -> str:
    """A regular expression for the connector's path of posts into this conversation."""
    return rf"^/v3/conversations/{re.escape(quote(conversation, safe=''))}/activities"


# --- inbound: two tenants --------------------------------------------------------------------------------


def test_people_from_two_partners_tenants_are_recognised_and_both_tenants_are_recorded(tenants):
    medway = tenants.talk(MEDWAY_TENANT, "whoami")
    swale = tenants.talk(SWALE_TENANT, "whoami")
    assert "from Medway Council" in tenants.arrived(medway)[0]
    assert "from Swale Borough Council" in tenants.arrived(swale)[0]
    for who, slug in ((medway, "medway"), (swale, "swale")):
        [(workspace, partner)] = tenants.server.rows(
            "SELECT i.workspace, p.slug FROM platform_identity i JOIN person ON person.id = i.person_id "
            "JOIN partner p ON p.id = person.partner_id WHERE i.platform = 'teams' AND i.external_id = ?",
            (who.user,),
        )
        assert (workspace, partner) == (who.tenant, slug)
        [(tenant, reference)] = tenants.server.rows(
            "SELECT tenant_id, reference FROM conversation_ref WHERE key = ?", (f"user:{who.user}",)
        )
        reference = reference if isinstance(reference, dict) else json.loads(reference)
        assert tenant == who.tenant and reference["conversation"]["tenantId"] == who.tenant
        assert reference["conversation"]["id"] == who.conversation and reference["user"]["id"] == who.user


def test_staff_with_an_address_no_partner_has_are_served_as_their_tenant_s_partner(tenants):
    jo = tenants.talk(MEDWAY_TENANT, "next gis meeting", email="jo.bloggs@medwayshared.onmicrosoft.com")
    assert "GIS meets next on" in tenants.arrived(jo)[0]
    assert "Welcome to GIS!" in tenants.answer(jo, "join gis")
    assert (
        tenants.server.scalar(
            "SELECT p.slug FROM person JOIN partner p ON p.id = person.partner_id WHERE person.email = ?", (jo.email,)
        )
        == "medway"
    )


def test_a_guest_in_a_partner_s_tenant_is_not_taken_for_its_staff(tenants):
    """A supplier's consultant, a guest in Medway's tenant: the tenant is Medway's, they are not."""
    email = f"{tenants.server.uid('g')}@supplier.example.com"
    user = tenants.server.person(email)
    tenants.fake.roles[user] = "guest"
    response, activity = tenants.server.say(user, "whoami", tenant=MEDWAY_TENANT)
    assert response.status == 201, response.body
    [(_, card)] = tenants.server.reply_cards(activity)
    text = card_text(card)
    assert "Medway" not in text and "can't match that address" in text, text
    with tenants.sessions() as session:
        assert session.execute(select(Person).where(Person.email == email)).first() is None
    # The same address as a member of the tenant (not a guest) is Medway's.
    member = tenants.server.person(f"{tenants.server.uid('m')}@supplier.example.com")
    response, activity = tenants.server.say(member, "whoami", tenant=MEDWAY_TENANT)
    [(_, card)] = tenants.server.reply_cards(activity)
    assert "Medway Council" in card_text(card)


def test_someone_from_a_tenant_no_partner_has_is_told_politely_who_to_ask_and_nothing_is_kept(tenants):
    email = "visitor@contoso.onmicrosoft.com"
    stranger = tenants.talk(STRANGE_TENANT, "meetings gis", email=email)
    [text] = tenants.arrived(stranger)
    assert f"I can't match {email} to a Kent Connects partner" in text
    assert STRANGE_TENANT in text and "ask the Partnership Office" in text
    assert "an admin can add your organisation's tenant" in text
    assert tenants.server.scalar("SELECT COUNT(*) FROM person WHERE email = ?", (email,)) == 0
    assert tenants.server.scalar("SELECT COUNT(*) FROM platform_identity WHERE workspace = ?", (STRANGE_TENANT,)) == 0


def test_an_admin_s_partner_tenant_lets_that_tenant_s_staff_in_at_once(tenants):
    """The Partnership Office records a third partner's tenant in chat; its staff are then recognised."""
    dover_tenant = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
    email = "officer@doversharedservice.onmicrosoft.com"
    before = tenants.talk(dover_tenant, "whoami", email=email)
    assert "isn't a Kent Connects partner's" in tenants.arrived(before)[0]
    admin = tenants.talk(HOST_TENANT, "help", email=harness.ADMIN)
    recorded = tenants.answer(admin, f"partner tenant dover {dover_tenant.upper()}")
    assert f"Recorded the Microsoft 365 tenant {dover_tenant} for Dover District Council" in recorded
    assert "from Dover District Council" in tenants.answer(before, "whoami")


# --- outbound: to each person in their own tenant -----------------------------------------------------------


def test_an_announcement_reaches_members_in_both_tenants_in_their_own_conversations(tenants, sender):
    medway = tenants.talk(MEDWAY_TENANT, "join accessibility")
    swale = tenants.talk(SWALE_TENANT, "join digital accessibility")
    assert "Welcome to Digital Accessibility!" in tenants.arrived(medway)[0]
    assert "Welcome to Digital Accessibility!" in tenants.arrived(swale)[0]
    chair = tenants.talk("tenant-unikent", "help", email=CHAIR)  # known by the domain of their address
    told = tenants.answer(chair, "announce accessibility The accessibility statement template is on SharePoint")
    assert "goes to its" in told
    marks = {who.conversation: len(tenants.fake.to_conversation(who.conversation)) for who in (medway, swale)}
    clock = Clock()
    clock.advance(1)
    Dispatcher(tenants.sessions, [sender], clock=clock).run_once()
    for who in (medway, swale):
        [sent] = tenants.fake.to_conversation(who.conversation)[marks[who.conversation] :]
        assert re.match(_path_of(who.conversation), sent.path), sent.path
        body = sent.body
        assert body["conversation"]["id"] == who.conversation
        # Teams reads the tenant from channelData; 4.17.1 writes the conversation's as `tenantID`
        assert body["channelData"]["tenant"]["id"] == who.tenant
        assert {k.lower(): v for k, v in body["conversation"].items()}["tenantid"] == who.tenant
        assert body["recipient"]["id"] == who.user and body["from"]["id"] == BOT_ID
        assert "The accessibility statement template is on SharePoint" in card_text(check_activity(body))
    [(sent_count,)] = tenants.server.rows(
        "SELECT COUNT(*) FROM delivery d JOIN platform_identity i ON i.person_id = d.recipient_id "
        "WHERE d.kind = 'announcement' AND lower(d.status) = 'sent' AND i.external_id IN (?, ?) "
        "AND d.delivered_via = 'teams'",
        (medway.user, swale.user),
    )
    assert sent_count == 2


# --- each tenant's rate limit ----------------------------------------------------------------------------


def test_one_tenant_s_exhausted_bucket_holds_only_its_own_deliveries(tenants):
    medway = tenants.talk(MEDWAY_TENANT)
    swale = tenants.talk(SWALE_TENANT)
    clock = Clock()
    clock.advance(3600)  # buckets filled by earlier tests are full again
    small = TeamsSender(tenants.sessions, tenants.settings, rate=0.01, burst=2)  # two at once, then one in 100 s
    try:
        to_medway = [tenants.record(medway, f"Medway reminder {n}.", clock.now) for n in range(3)]
        to_swale = [tenants.record(swale, f"Swale reminder {n}.", clock.now) for n in range(2)]
        marks = (
            len(tenants.fake.to_conversation(medway.conversation)),
            len(tenants.fake.to_conversation(swale.conversation)),
        )
        Dispatcher(tenants.sessions, [small], clock=clock).run_once()
        statuses = [tenants.delivery(d).status for d in to_medway]
        assert sorted(s.value for s in statuses) == ["pending", "sent", "sent"], statuses
        waiting = next(tenants.delivery(d) for d in to_medway if tenants.delivery(d).status is DeliveryStatus.PENDING)
        assert waiting.last_error == "waiting for the rate limit" and waiting.due_at > clock.now
        assert all(tenants.delivery(d).status is DeliveryStatus.SENT for d in to_swale)  # Swale's own bucket
        medway_texts, swale_texts = tenants.arrived(medway, marks[0]), tenants.arrived(swale, marks[1])
        assert len(medway_texts) == 2 and all("Medway reminder" in t for t in medway_texts)
        assert len(swale_texts) == 2 and all("Swale reminder" in t for t in swale_texts)
        assert tenants.bucket(MEDWAY_TENANT).tokens < 1
    finally:
        small.close()


def test_a_blocked_tenant_sends_nothing_while_the_other_tenant_s_deliveries_go(tenants, sender):
    medway = tenants.talk(MEDWAY_TENANT)
    swale = tenants.talk(SWALE_TENANT)
    clock = Clock()
    clock.advance(2 * 3600)
    with tenants.sessions.begin() as session:
        ratelimit.block(session, f"teams:{MEDWAY_TENANT}", clock.now + timedelta(seconds=30), clock.now)
    held = tenants.record(medway, "Held by Medway's block.", clock.now)
    goes = tenants.record(swale, "Swale's goes.", clock.now)
    marks = len(tenants.fake.to_conversation(medway.conversation))
    Dispatcher(tenants.sessions, [sender], clock=clock).run_once()
    assert tenants.delivery(goes).status is DeliveryStatus.SENT
    waiting = tenants.delivery(held)
    assert waiting.status is DeliveryStatus.PENDING and waiting.due_at == clock.now + timedelta(seconds=30)
    assert len(tenants.fake.to_conversation(medway.conversation)) == marks  # not even tried
    clock.advance(31)
    Dispatcher(tenants.sessions, [sender], clock=clock).run_once()
    assert tenants.delivery(held).status is DeliveryStatus.SENT
    assert tenants.arrived(medway, marks) and "Held by Medway's block." in tenants.arrived(medway, marks)[0]


def test_a_429_with_retry_after_for_one_tenant_stops_that_tenant_only_and_is_honoured(tenants, sender):
    medway = tenants.talk(MEDWAY_TENANT)
    swale = tenants.talk(SWALE_TENANT)
    clock = Clock()
    clock.advance(3 * 3600)
    start = clock.now
    tenants.fake.script(
        "POST", _path_of(medway.conversation), 429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "7"}
    )
    first_medway = tenants.record(medway, "Medway, first.", clock.now)
    first_swale = tenants.record(swale, "Swale, first.", clock.now)
    marks = {who.conversation: len(tenants.fake.to_conversation(who.conversation)) for who in (medway, swale)}
    dispatcher = Dispatcher(tenants.sessions, [sender], clock=clock)
    dispatcher.run_once()
    refused = tenants.delivery(first_medway)
    assert refused.status is DeliveryStatus.PENDING and "429" in (refused.last_error or "")
    assert refused.due_at == start + timedelta(seconds=7) and refused.attempts == 0
    assert tenants.bucket(MEDWAY_TENANT).blocked_until == start + timedelta(seconds=7)
    assert tenants.delivery(first_swale).status is DeliveryStatus.SENT
    blocked = tenants.bucket(SWALE_TENANT).blocked_until
    assert blocked is None or blocked <= start  # Swale's bucket is not blocked by Medway's 429

    # A second later: Swale's next message goes; Medway's waits, and nothing is tried there.
    clock.advance(1)
    second_medway = tenants.record(medway, "Medway, second.", clock.now)
    second_swale = tenants.record(swale, "Swale, second.", clock.now)
    tried = len(tenants.fake.to_conversation(medway.conversation))
    dispatcher.run_once()
    assert tenants.delivery(second_swale).status is DeliveryStatus.SENT
    assert tenants.delivery(second_medway).status is DeliveryStatus.PENDING
    assert len(tenants.fake.to_conversation(medway.conversation)) == tried
    swale_texts = tenants.arrived(swale, marks[swale.conversation])
    assert len(swale_texts) == 2 and "Swale, first." in swale_texts[0] and "Swale, second." in swale_texts[1]

    # After Retry-After, both of Medway's go.
    clock.advance(6.5)
    dispatcher.run_once()
    assert tenants.delivery(first_medway).status is DeliveryStatus.SENT
    assert tenants.delivery(second_medway).status is DeliveryStatus.SENT
    texts = tenants.arrived(medway, marks[medway.conversation])
    assert len(texts) == 3  # the refused try, then the two
    assert any("Medway, first." in t for t in texts[1:]) and any("Medway, second." in t for t in texts[1:])


# --- a single-tenant registration in the host partner's tenant -----------------------------------------------

BOT_TOKEN = "bot-token-from-the-host-tenant"
LOGIN = "https://login.microsoftonline.com/"


@pytest.fixture(scope="module")
def signing() -> Iterator[tuple[FakeOpenId, SigningKey]]:
    key = SigningKey("kc-tenants-key")
    openid = FakeOpenId(keys=[key]).start()
    yield openid, key
    openid.stop()


def _registered(template, workdir, signing, name: str, app_type: str) -> TeamsServe:
    """`serve` with an app id of the given type, the local signing keys, and MSAL's login stand-in."""
    openid, _ = signing
    connector = harness.start_connector()
    path = harness.copy_database(template, workdir, f"{name}.db")
    env = dict(
        MICROSOFT_APP_ID=AUTH_APP_ID,
        MICROSOFT_APP_PASSWORD="x",
        MICROSOFT_APP_TYPE=app_type,
        BOT_OPENID_METADATA_URL=openid.metadata_url,
        KC_TEST_ACCESS_TOKEN=BOT_TOKEN,
        KC_TEST_LOGIN_LOG=str(workdir / f"{name}-login.jsonl"),
    )
    if app_type == "SingleTenant":
        env["MICROSOFT_APP_TENANT_ID"] = HOST_TENANT
    server = TeamsServe(
        connector, f"sqlite:///{path}", workdir, sqlite_path=path, name=name, module="tests.teams.launcher", **env
    )
    server.start()
    harness.SERVERS.append(server)
    return server


def _channel_token(key: SigningKey, activity: dict) -> str:
    """A Bot Framework channel token: the same issuer whichever tenant the activity comes from."""
    now = int(time.time())
    return key.sign(
        {"iss": ISSUER, "aud": AUTH_APP_ID, "exp": now + 3600, "nbf": now - 60, "serviceurl": activity["serviceUrl"]}
    )


def _logins(server: TeamsServe, workdir) -> list[dict]:
    path = workdir / f"{server.log_path.stem}-login.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _authorization(sent) -> str:
    return next((v for k, v in sent.headers.items() if k.lower() == "authorization"), "")


@pytest.mark.parametrize(
    "app_type, authority",
    [("SingleTenant", LOGIN + HOST_TENANT), ("MultiTenant", LOGIN + "botframework.com")],
)
def test_a_registration_accepts_every_partner_s_tenant_and_asks_its_own_authority_for_tokens(
    template, workdir, signing, app_type, authority
):
    """A single-tenant bot in the host partner's tenant takes activities from other tenants (their
    channel tokens are the Bot Framework's, for the bot's app id), and answers them with a token asked
    of the host tenant's authority; an existing multi-tenant registration keeps botframework.com's."""
    _, key = signing
    server = _registered(template, workdir, signing, f"registered-{app_type.lower()}", app_type)
    try:
        for tenant, email, partner in (
            (MEDWAY_TENANT, "officer@medway.gov.uk", "Medway Council"),
            (SWALE_TENANT, "officer@swale.gov.uk", "Swale Borough Council"),
        ):
            activity = server.activity(server.person(email), "whoami", tenant=tenant)
            response = server.post(activity, headers={"Authorization": "Bearer " + _channel_token(key, activity)})
            assert response.status == 201, (tenant, response.status, response.body)
            [reply] = server.replies(activity)
            assert f"from {partner}" in card_text(check_activity(reply.body))
            assert _authorization(reply) == f"Bearer {BOT_TOKEN}"
            assert (
                server.scalar(
                    "SELECT workspace FROM platform_identity WHERE external_id = ?", (activity["from"]["id"],)
                )
                == tenant
            )
        # a token from no one is still refused, whatever tenant it names
        forged = server.activity(server.person(), "whoami", tenant=MEDWAY_TENANT)
        stranger = SigningKey("kc-not-published").sign(
            {"iss": ISSUER, "aud": AUTH_APP_ID, "exp": int(time.time()) + 60}
        )
        assert server.post(forged, headers={"Authorization": "Bearer " + stranger}).status == 401
        logins = _logins(server, workdir)
        # One token for both turns: 4.17.1 alone asked the login service again for every turn.
        assert len(logins) == 1, logins
        assert {(entry["client_id"], entry["authority"]) for entry in logins} == {(AUTH_APP_ID, authority)}
        assert all(entry["scopes"] == ["https://api.botframework.com/.default"] for entry in logins)
    finally:
        server.stop()
        harness.SERVERS.remove(server)
        server.fake.stop()


def test_messages_the_bot_starts_go_to_both_tenants_with_one_token_from_the_host_tenant(tenants, monkeypatch, tmp_path):
    """TeamsSender with the single-tenant registration: proactive messages into two partners' tenants,
    both with the bot's token from the host tenant's authority, asked for once."""
    from botframework.connector.auth import microsoft_app_credentials

    from bot.senders import Outcome, Recipient
    from tests.teams.launcher import _login_stand_in

    log = tmp_path / "login.jsonl"
    monkeypatch.setattr(
        microsoft_app_credentials, "ConfidentialClientApplication", _login_stand_in(BOT_TOKEN, str(log))
    )
    settings = Settings(
        database_url=tenants.server.database_url,
        timezone="Europe/London",
        teams_allowlist=("127.0.0.1",),
        emulator=True,  # the fake connector is plain http on this machine
        teams_app_id=AUTH_APP_ID,
        teams_app_password="x",
        teams_app_type="SingleTenant",
        teams_tenant_id=HOST_TENANT,
    )
    medway, swale = tenants.talk(MEDWAY_TENANT), tenants.talk(SWALE_TENANT)
    single = TeamsSender(tenants.sessions, settings)
    try:
        for who in (medway, swale, medway):
            before = len(tenants.fake.to_conversation(who.conversation))
            result = single.send(Recipient(who.email, None, who.user, who.tenant), Reply(f"Hello {who.tenant}."))
            assert result.outcome is Outcome.SENT, result
            [sent] = tenants.fake.to_conversation(who.conversation)[before:]
            assert _authorization(sent) == f"Bearer {BOT_TOKEN}"
            assert sent.body["channelData"]["tenant"]["id"] == who.tenant
            assert f"Hello {who.tenant}." in card_text(check_activity(sent.body))
    finally:
        single.close()
    logins = [json.loads(line) for line in log.read_text().splitlines()]
    assert logins == [
        {
            "client_id": AUTH_APP_ID,
            "authority": LOGIN + HOST_TENANT,
            "scopes": ["https://api.botframework.com/.default"],
        }
    ]
