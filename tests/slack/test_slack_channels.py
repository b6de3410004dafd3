"""`/kc link channel GROUP` in Slack checks that the bot can post in the channel before linking it.

Over real signed HTTP to `serve`; FakeSlack's conversations.info says what Slack would of each
channel (tests/slack/fake_slack.py `channels`), and records conversations.join.
"""

from __future__ import annotations

from tests.slack.harness import SlackBot

GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"


def linked(slack: SlackBot, channel: str) -> list[tuple]:
    return slack.rows(
        "SELECT g.slug, c.platform FROM group_channel c JOIN kc_group g ON g.id = c.group_id WHERE c.channel = ?",
        (channel,),
    )


def link(slack: SlackBot, channel: str, **info) -> str:
    if info:
        slack.fake.channels[channel] = info
    chair = slack.person(GIS_CHAIR)
    answer = slack.command("link channel gis", chair, channel=channel)
    assert answer.status == 200, answer.body
    return answer.json["text"]


def test_a_channel_the_bot_is_in_is_linked_without_joining(slack):
    channel = slack.uid("C")
    text = link(slack, channel)
    assert "now linked to GIS" in text and "joined" not in text
    assert linked(slack, channel) == [("gis", "slack")]
    assert slack.fake.matching("conversations.info", channel=channel)
    assert not slack.fake.matching("conversations.join", channel=channel)


def test_a_public_channel_the_bot_is_not_in_is_joined_then_linked(slack):
    channel = slack.uid("C")
    text = link(slack, channel, is_member=False)
    assert "I've joined this channel" in text and "now linked to GIS" in text
    assert len(slack.fake.matching("conversations.join", channel=channel)) == 1
    assert linked(slack, channel) == [("gis", "slack")]


def test_a_private_channel_the_bot_is_not_in_is_refused_with_what_to_do(slack):
    channel = slack.uid("C")
    text = link(slack, channel, is_member=False, is_private=True)
    assert "I can't post in this channel yet" in text and "/invite @Kent Connects" in text
    assert linked(slack, channel) == []
    assert not slack.fake.matching("conversations.join", channel=channel)
    # Invited, the chair asks again, and it is linked.
    slack.fake.channels[channel]["is_member"] = True
    assert "now linked to GIS" in link(slack, channel)
    assert linked(slack, channel) == [("gis", "slack")]


def test_a_channel_slack_does_not_show_the_bot_is_refused_with_the_invite_advice(slack):
    channel = slack.uid("G")
    slack.fake.scripted[f"conversations.info:{channel}"] = [(200, {"ok": False, "error": "channel_not_found"}, {})]
    text = link(slack, channel)
    assert "/invite @Kent Connects" in text and linked(slack, channel) == []


def test_a_public_channel_the_bot_may_not_join_is_refused(slack):
    channel = slack.uid("C")
    slack.fake.scripted[f"conversations.join:{channel}"] = [(200, {"ok": False, "error": "missing_scope"}, {})]
    text = link(slack, channel, is_member=False)
    assert "/invite @Kent Connects" in text and linked(slack, channel) == []


def test_an_archived_channel_is_refused(slack):
    channel = slack.uid("C")
    assert "archived" in link(slack, channel, is_archived=True, is_member=False)
    assert linked(slack, channel) == []


def test_when_slack_cannot_be_asked_nothing_is_linked_and_the_chair_is_told(slack):
    channel = slack.uid("C")
    slack.fake.scripted[f"conversations.info:{channel}"] = [(500, {"ok": False, "error": "internal_error"}, {})]
    text = link(slack, channel)
    assert "couldn't check with Slack" in text and linked(slack, channel) == []


def test_an_app_installed_without_the_read_scope_links_and_says_how_to_fix_it(slack):
    channel = slack.uid("C")
    slack.fake.scripted[f"conversations.info:{channel}"] = [(200, {"ok": False, "error": "missing_scope"}, {})]
    text = link(slack, channel)
    assert "now linked to GIS" in text and "/invite @Kent Connects" in text
    assert linked(slack, channel) == [("gis", "slack")]


def test_unlinking_and_a_second_link_need_no_check(slack):
    channel = slack.uid("C")
    link(slack, channel)
    asked = len(slack.fake.matching("conversations.info", channel=channel))
    assert "already linked" in link(slack, channel)
    chair = slack.person(GIS_CHAIR)
    assert "no longer linked" in slack.command("unlink channel gis", chair, channel=channel).json["text"]
    assert len(slack.fake.matching("conversations.info", channel=channel)) == asked
