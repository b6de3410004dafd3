"""Channels linked to groups: announcements posted there too, and the weekly digest."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.senders import SendResult
from core.messages import Request
from jobs.digests import plan_digests
from storage.models import Delivery, GroupChannel
from tests.conftest import ADMIN, NOW, ZONE

GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
MONDAY_MORNING = datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)  # GMT: 08:30 local


def say(chat, text, who, platform="slack", conversation="C0GIS", shared=False, now=NOW):
    request = Request(
        text=text, platform=platform, user_id=who, email=who, now=now, conversation=conversation, shared=shared
    )
    return chat.router.handle(request).plain_text()


class Recording:
    platform = "slack"
    by_email = False

    def __init__(self):
        self.sent = []

    def rate_limit(self, recipient):
        return None

    def send(self, recipient, message):
        self.sent.append((recipient.address, message.title, message.text))
        return SendResult.sent()


def links(session):
    session.expire_all()
    return [(g.group.slug, g.platform, g.channel, g.digest) for g in session.execute(select(GroupChannel)).scalars()]


def test_a_chair_links_a_channel_and_announcements_are_posted_there(chat, session, sessions):
    assert "now linked to GIS" in say(chat, "link channel gis", GIS_CHAIR)
    assert links(session) == [("gis", "slack", "C0GIS", False)]
    assert "already linked" in say(chat, "link this channel to gis", GIS_CHAIR)
    assert "Announcement" in say(chat, "announce gis The data drill report is out!", GIS_CHAIR, conversation="D1")
    posted = [
        d
        for d in session.execute(select(Delivery).where(Delivery.kind == "announcement")).scalars()
        if d.channel != "direct"
    ]
    assert [d.channel for d in posted] == ["slack:C0GIS"]
    dispatcher = Dispatcher(sessions, [Recording()], clock=lambda: NOW + timedelta(seconds=1))
    sender = dispatcher.senders["slack"]
    dispatcher.run_until_idle()
    assert (
        "C0GIS",
        "GIS: announcement from Demo GIS Chair (Maidstone)",
        "The data drill report is out!",
    ) in sender.sent


def test_who_may_link_and_where(chat, session):
    assert "Only the chairs of GIS" in say(chat, "link channel gis", "demo@kent.gov.uk")
    assert "closed group" in say(chat, "link channel leadership", ADMIN)
    assert "Say this in the Slack or Teams channel" in say(
        chat, "link channel gis", GIS_CHAIR, platform="console", conversation=""
    )
    assert "Say this in the Slack or Teams channel" in say(chat, "link channel gis", GIS_CHAIR, conversation="D0DM")
    assert links(session) == []
    assert "now linked to GIS" in say(
        chat, "link channel gis", GIS_CHAIR, platform="teams", conversation="19:abc@thread.tacv2", shared=True
    )
    assert links(session) == [("gis", "teams", "conversation:19:abc@thread.tacv2", False)]
    assert "no longer linked" in say(
        chat, "unlink channel gis", GIS_CHAIR, platform="teams", conversation="19:abc@thread.tacv2", shared=True
    )
    assert links(session) == []


def test_the_weekly_digest_goes_once_on_monday_morning(chat, session):
    say(chat, "link channel gis", GIS_CHAIR)
    assert "isn't linked" in say(chat, "channel digest on", GIS_CHAIR, conversation="C0OTHER")
    assert "every Monday morning" in say(chat, "channel digest on", GIS_CHAIR)
    assert plan_digests(session, MONDAY_MORNING - timedelta(hours=1), ZONE) == 0  # 07:30: not yet
    assert plan_digests(session, MONDAY_MORNING - timedelta(days=1), ZONE) == 0  # Sunday
    assert plan_digests(session, MONDAY_MORNING, ZONE) == 1
    assert plan_digests(session, MONDAY_MORNING + timedelta(hours=2), ZONE) == 0  # every worker may run it
    [digest] = session.execute(select(Delivery).where(Delivery.kind == "digest")).scalars().all()
    assert digest.channel == "slack:C0GIS" and digest.occurrence == "week:2026-49"
    assert digest.payload["title"] == "GIS: what's on"
    assert "off" in say(chat, "channel digest off", GIS_CHAIR)
    assert plan_digests(session, MONDAY_MORNING + timedelta(days=7), ZONE) == 0


def test_a_channel_the_platform_says_the_bot_cannot_post_in_is_not_linked(chat, session):
    from core.messages import ChannelAccess

    asked = []

    def cannot() -> ChannelAccess:
        asked.append(1)
        return ChannelAccess(False, "Invite me first.")

    request = Request(
        text="link channel gis",
        platform="slack",
        user_id=GIS_CHAIR,
        email=GIS_CHAIR,
        now=NOW,
        conversation="C0PRIVATE",
        channel_access=cannot,
    )
    text = chat.router.handle(request).plain_text()
    assert text == "I can't post in this channel yet, so I haven't linked it to GIS. Invite me first."
    assert asked == [1] and links(session) == []
    refused = Request(
        text="link channel gis",
        platform="slack",
        user_id="demo@kent.gov.uk",
        email="demo@kent.gov.uk",
        now=NOW,
        conversation="C0PRIVATE",
        channel_access=cannot,
    )
    assert "Only the chairs of GIS" in chat.router.handle(refused).plain_text()
    assert asked == [1]  # the platform is asked only for someone who may link
