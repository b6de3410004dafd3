"""Whole conversations through the router, on SQLite and PostgreSQL, with the demo loaded as of
Wednesday 25 November 2026 and chats at noon UTC that day (see conftest).

The demo's quarterly meetings (storage/demo.py) then fall on:
  Information Security  Wed 2 Dec 2026, 3 Mar, 2 Jun, 1 Sep 2027, 10:00-12:00, online only
  GIS                   Tue 8 Dec 2026, 9 Mar, 8 Jun, 14 Sep 2027, 10:00-12:00, Map Room
  Digital Accessibility Tue 19 Jan, 20 Apr, 20 Jul, 19 Oct 2027, 13:30-15:00, Hop Room
  Smart Kent and Medway Fri 26 Feb, 28 May, 27 Aug, 26 Nov 2027, 10:00-11:30, Estuary Room
  Leadership (closed)   Thu 10 Dec 2026, 11 Mar, 10 Jun, 9 Sep 2027, 14:00-16:00, Orchard Room
demo@kent.gov.uk is in GIS and Information Security and chairs Smart Kent and Medway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

import storage.groups as group_queries
from bot.router import Router
from core.messages import Reply
from core.settings import Settings
from storage.models import Membership, Person
from storage.people import person_by_email
from tests.conftest import ADMIN, ZONE, Chat

DEMO = "demo@kent.gov.uk"
MEDWAY = "someone@medway.gov.uk"
OUTSIDER = "someone@gmail.com"
BOARD = "board.demo@kent.police.uk"
PMO = "pmo.demo@kent.gov.uk"  # admin by a stored role, not by BOT_ADMINS

GENERIC_ERROR = "something went wrong"
GROUP_NAMES = (
    "Leadership Group",
    "Information Security",
    "Digital Accessibility",
    "GIS",
    "Smart Kent and Medway Projects",
)

# Anything that would give away when or where the Leadership Group meets.
LEADERSHIP_SECRETS = (
    "Orchard Room",
    "Demo House",
    "Leadership Group quarterly meeting",
    "14:00–16:00",
    "10 December 2026",
    "11 March 2027",
    "10 June 2027",
    "9 September 2027",
    "Leadership Group:",
)


def assert_no_leadership_details(text: str) -> None:
    leaked = [secret for secret in LEADERSHIP_SECRETS if secret in text]
    assert not leaked, f"Leadership Group details shown: {leaked}\n{text}"


def people_count(session) -> int:
    return session.execute(select(func.count()).select_from(Person)).scalar_one()


def memberships_count(session) -> int:
    return session.execute(select(func.count()).select_from(Membership)).scalar_one()


def is_member(session, email: str, slug: str) -> bool:
    person = person_by_email(session, email)
    group = group_queries.group_by_slug(session, slug)
    return person is not None and group_queries.membership(session, person, group) is not None


def group_line(groups_text: str, name: str) -> str:
    lines = [line for line in groups_text.splitlines() if line.startswith(f"• {name}")]
    assert len(lines) == 1, groups_text
    return lines[0]


# --- help ------------------------------------------------------------------------------------


def test_help_for_partner_staff(chat):
    text = chat("help")
    assert "Partner staff" in text
    for command in ("join GROUP", "meetings [GROUP]", "next GROUP meeting", "my meetings", "meetings in MONTH"):
        assert command in text
    assert "can't match" not in text


def test_help_for_an_unknown_domain_says_how_to_get_access(chat):
    text = chat("help", user=OUTSIDER)
    assert "Partner staff" not in text and "next GROUP meeting" not in text
    assert "`groups`" in text
    assert f"can't match {OUTSIDER}" in text and "Partnership Office" in text
    assert text != chat("help")


def test_help_mentions_chairs_only_to_chairs_and_admins(chat):
    assert "Chairs and the Partnership Office" in chat("help")  # demo chairs Smart Kent
    assert "Chairs and the Partnership Office" in chat("help", user=ADMIN)
    assert "Chairs and the Partnership Office" not in chat("help", user=MEDWAY)


@pytest.mark.parametrize(
    "user", [DEMO, MEDWAY, OUTSIDER, BOARD, ADMIN, PMO, "nobody", "x@localhost", "UPPER.Case@Kent.Gov.UK"]
)
def test_help_never_crashes(chat, user):
    text = chat("help", user=user)
    assert "Kent Connects Bot" in text and "`help`" in text
    assert GENERIC_ERROR not in text


@pytest.mark.parametrize("words", ["help", "HELP", "what can you do?", "/kc help", "  help  ", "please help"])
def test_help_spellings(chat, words):
    assert chat(words).startswith("Kent Connects Bot\n")


def test_a_lone_question_mark_asks_for_help(chat):
    assert chat("?").startswith("Kent Connects Bot\n")


# --- whoami ------------------------------------------------------------------------------------


def test_whoami_partner_groups_and_chairs(chat):
    text = chat("whoami")
    assert "Partner: Kent County Council" in text
    assert "Groups: GIS, Information Security, Smart Kent and Medway Projects (chair)" in text
    assert "Roles:" not in text


def test_whoami_board_member(chat):
    text = chat("who am i?", user=BOARD)
    assert "Partner: Kent Police" in text
    assert "Leadership Group (chair)" in text
    assert "Leadership Board member" in text


@pytest.mark.parametrize("user", [ADMIN, PMO])
def test_whoami_admin(chat, user):
    assert "Partnership Office admin" in chat("whoami", user=user)


def test_whoami_newcomer(chat):
    text = chat("whoami", user=MEDWAY)
    assert "Partner: Medway Council" in text and "Groups: none yet" in text


def test_whoami_outsider(chat):
    text = chat("whoami", user=OUTSIDER)
    assert f"You're {OUTSIDER}" in text and "can't match" in text
    assert "Partner:" not in text


# --- groups --------------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["groups", "what groups are there?", "list groups", "Which groups can I join?"])
def test_groups_lists_all_five_with_leadership_closed(chat, words):
    text = chat(words)
    assert "Kent Connects has 5 groups" in text
    for name in GROUP_NAMES:
        assert f"• {name}" in text
    assert "closed" in group_line(text, "Leadership Group")
    for name in GROUP_NAMES[1:]:
        assert "closed" not in group_line(text, name)


def test_groups_shows_my_part(chat):
    text = chat("groups")
    assert group_line(text, "GIS") == "• GIS (you're a member)"
    assert group_line(text, "Smart Kent and Medway Projects") == "• Smart Kent and Medway Projects (you chair it)"
    assert group_line(text, "Digital Accessibility") == "• Digital Accessibility"


def test_groups_for_board_chair_of_the_closed_group(chat):
    assert (
        group_line(chat("groups", user=BOARD), "Leadership Group")
        == "• Leadership Group (closed: members only; you chair it)"
    )


# --- join and leave -----------------------------------------------------------------------------


def test_join_then_leave_an_open_group(chat, session):
    assert "not in any group" in chat("my meetings", user=MEDWAY)

    joined = chat("join gis", user=MEDWAY)
    assert joined.startswith("Welcome to GIS!")
    assert is_member(session, MEDWAY, "gis")
    mine = chat("my meetings", user=MEDWAY)
    assert "4 meetings coming up in your groups" in mine
    assert "GIS: Tuesday 8 December 2026, 10:00–12:00 GMT" in mine
    assert "Information Security" not in mine

    again = chat("join GIS", user=MEDWAY)
    assert "already a member of GIS" in again
    assert (
        session.execute(
            select(func.count()).select_from(Membership).join(Person).where(Person.email == MEDWAY)
        ).scalar_one()
        == 1
    )

    assert chat("leave gis", user=MEDWAY).startswith("You've left GIS.")
    assert not is_member(session, MEDWAY, "gis")
    assert "not in any group" in chat("my meetings", user=MEDWAY)
    assert "GIS:" not in chat("my meetings", user=MEDWAY)


def test_joining_adds_that_groups_meetings_to_my_meetings(chat):
    before = chat("my meetings")
    assert "Digital Accessibility" not in before
    assert "Welcome to Digital Accessibility" in chat("join accessibility")
    after = chat("my meetings")
    assert "16 meetings coming up in your groups" in after
    assert "Digital Accessibility: Tuesday 19 January 2027, 13:30–15:00 GMT" in after
    assert "You've left Digital Accessibility." in chat("leave digital accessibility")
    assert chat("my meetings") == before


def test_leaving_a_group_you_are_not_in(chat, session):
    count = memberships_count(session)
    assert "not a member of Digital Accessibility" in chat("leave a11y")
    assert "not a member of GIS" in chat("leave gis", user=MEDWAY)
    assert memberships_count(session) == count


def test_a_chair_cannot_simply_leave(chat, session):
    text = chat("leave smart kent")
    assert "You chair Smart Kent and Medway Projects" in text and "Partnership Office" in text
    assert is_member(session, DEMO, "smart-kent-and-medway")
    assert "Smart Kent and Medway Projects (chair)" in chat("whoami")


@pytest.mark.parametrize(
    "words",
    [
        "join leadership",
        "join the leadership group",
        "Join LG",
        "add me to leadership",
        "sign me up for the leadership group",
    ],
)
@pytest.mark.parametrize("user", [DEMO, MEDWAY])
def test_joining_the_leadership_group_is_refused(chat, session, words, user):
    text = chat(words, user=user)
    assert "closed group" in text and "Partnership Office" in text
    assert "Welcome" not in text
    assert not is_member(session, user, "leadership")
    assert "Leadership Group" not in chat("whoami", user=user)


def test_an_admin_may_join_the_leadership_group(chat, session):
    assert chat("join leadership", user=ADMIN).startswith("Welcome to Leadership Group!")
    assert is_member(session, ADMIN, "leadership")


def test_a_closed_group_member_cannot_leave_by_chat(chat, session):
    text = chat("leave leadership", user="leadership.demo@medway.gov.uk")
    assert "managed by the Partnership Office" in text
    assert is_member(session, "leadership.demo@medway.gov.uk", "leadership")


def test_sign_me_up_for_a_group(chat, session):
    assert chat("sign me up for the gis group", user=MEDWAY).startswith("Welcome to GIS!")
    assert is_member(session, MEDWAY, "gis")
    assert "already a member of GIS" in chat("sign me up for the gis group")


def test_sign_me_up_for_something_else(chat, session):
    count = memberships_count(session)
    text = chat("sign me up for astronomy club", user=MEDWAY)
    assert "can't find an event or a group" in text and "`events`" in text and "`groups`" in text
    assert memberships_count(session) == count


def test_after_joining_the_join_button_goes(chat):
    assert "`join gis`" in chat("meetings gis", user=MEDWAY)
    chat("join gis", user=MEDWAY)
    assert "`join gis`" not in chat("meetings gis", user=MEDWAY)


# --- meetings ---------------------------------------------------------------------------------


def test_meetings_lists_the_open_groups_soonest_first(chat):
    text = chat("meetings")
    assert "16 meetings coming up across the groups" in text
    titles = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(titles) == 10  # the first ten, then a note
    assert titles[0] == "• Information Security: Wednesday 2 December 2026, 10:00–12:00 GMT"
    assert titles[1] == "• GIS: Tuesday 8 December 2026, 10:00–12:00 GMT"
    assert "…and 6 more" in text


def test_meetings_of_one_group(chat):
    text = chat("meetings gis")
    assert text.startswith("GIS meetings\n4 meetings coming up")
    titles = [line for line in text.splitlines() if line.startswith("• ")]
    assert titles == [
        "• Tuesday 8 December 2026, 10:00–12:00 GMT",
        "• Tuesday 9 March 2027, 10:00–12:00 GMT",
        "• Tuesday 8 June 2027, 10:00–12:00 BST",
        "• Tuesday 14 September 2027, 10:00–12:00 BST",
    ]
    assert "Where: Map Room, Demo Centre, Chatham (demo venue)" in text
    assert "Online: https://meet.example.org/demo-gis" in text


def test_an_online_only_meeting_has_no_where(chat):
    text = chat("next infosec meeting")
    assert "Online: https://meet.example.org/demo-infosec" in text
    assert "Where:" not in text


def test_next_group_meeting(chat):
    text = chat("next gis meeting")
    assert "GIS meets next on Tuesday 8 December 2026, 10:00–12:00 GMT." in text
    assert "Where: Map Room, Demo Centre, Chatham (demo venue)" in text
    assert "Agenda:" in text


def test_next_meeting_moves_on_once_a_meeting_has_started(chat):
    text = chat("next gis meeting", now=datetime(2026, 12, 8, 10, 30, tzinfo=timezone.utc))
    assert "GIS meets next on Tuesday 9 March 2027, 10:00–12:00 GMT." in text


def test_next_meeting_without_a_group_is_in_my_groups(chat):
    assert "The next meeting in your groups is Information Security's" in chat("next meeting")
    assert "The next meeting in your groups is Digital Accessibility's" in chat(
        "next meeting", user="a11y.chair.demo@kent.ac.uk"
    )


def test_my_meetings(chat):
    text = chat("my meetings")
    assert "12 meetings coming up in your groups" in text
    for shown in (
        "Information Security: Wednesday 2 December 2026",
        "GIS: Tuesday 8 December 2026",
        "Smart Kent and Medway Projects: Friday 26 February 2027",
    ):
        assert shown in text
    assert "Digital Accessibility" not in text
    assert_no_leadership_details(text)


def test_meetings_in_a_month(chat):
    text = chat("meetings in March")
    assert text.startswith("Meetings in March 2027\n2 meetings")
    assert "Information Security: Wednesday 3 March 2027, 10:00–12:00 GMT" in text
    assert "GIS: Tuesday 9 March 2027, 10:00–12:00 GMT" in text


def test_meetings_on_a_day(chat):
    text = chat("meetings on 9 March")
    assert text.startswith("Meetings on Tuesday 9 March 2027\n1 meeting,")
    assert "GIS: Tuesday 9 March 2027" in text and "Information Security" not in text


@pytest.mark.parametrize(
    "words",
    ["meetings on 9/3/2027", "meetings on 2027-03-09", "meetings on March 9th", "what meetings are on 9 march?"],
)
def test_meetings_on_a_day_in_other_spellings(chat, words):
    assert "GIS: Tuesday 9 March 2027, 10:00–12:00 GMT" in chat(words)


def test_meetings_in_a_month_without_any(chat):
    assert "No meetings are scheduled in November 2026." in chat("meetings in November")


def test_meetings_in_a_past_month(chat):
    text = chat("meetings in march 2026")
    assert "March 2026 is in the past" in text


# --- natural questions and loose group names ---------------------------------------------------


@pytest.mark.parametrize(
    "words, expected",
    [
        ("when does the GIS group meet next?", "GIS meets next on Tuesday 8 December 2026, 10:00–12:00 GMT"),
        ("WHEN DOES THE GIS GROUP MEET NEXT?", "GIS meets next on Tuesday 8 December 2026, 10:00–12:00 GMT"),
        (
            "When is the next infosec meeting?",
            "Information Security meets next on Wednesday 2 December 2026, 10:00–12:00 GMT",
        ),
        ("/kc next gis meeting", "GIS meets next on Tuesday 8 December 2026"),
        ("where does the gis group meet?", "is at Map Room"),
        ("which meetings are in March?", "Meetings in March 2027"),
        ("what's on in december?", "GIS: Tuesday 8 December 2026"),
        ("what groups are there?", "Kent Connects has 5 groups"),
        ("who am i", "Partner: Kent County Council"),
    ],
)
def test_natural_questions(chat, words, expected):
    assert expected in chat(words)


@pytest.mark.parametrize(
    "words, expected",
    [
        ("next infosec meeting", "Information Security meets next on Wednesday 2 December 2026"),
        ("next cyber meeting", "Information Security meets next on Wednesday 2 December 2026"),
        ("meetings Digital access", "Digital Accessibility meetings"),
        ("meetings smart kent", "Smart Kent and Medway Projects meetings"),
        ("next a11y meeting", "Digital Accessibility meets next on Tuesday 19 January 2027, 13:30–15:00 GMT"),
        ("meetings GIS", "GIS meetings"),
        ("meetings gis", "GIS meetings"),
        ("meetings Gis", "GIS meetings"),
        ("meetings gIS", "GIS meetings"),
        (
            "next meeting of the smart kent and medway group",
            "Smart Kent and Medway Projects meets next on Friday 26 February 2027",
        ),
        ("next informaton security meeting", "Information Security meets next"),
    ],
)
def test_loose_group_names(chat, words, expected):
    assert expected in chat(words)


# --- the Leadership Group's dates and places --------------------------------------------------------

NAMING_LEADERSHIP = [
    "meetings leadership",
    "next leadership meeting",
    "when does the leadership group meet next?",
    "When is the next Leadership Group meeting?",
    "where does the leadership group meet?",
    "meetings of the leadership group",
    "leadership meetings",
    "next lg meeting",
    "dates for leadership",
    "next meeting of the kent connects leadership",
]
GENERAL = [
    "meetings",
    "upcoming meetings",
    "meetings in March",
    "which meetings are in March?",
    "meetings in December",
    "meetings in June",
    "meetings in September",
    "what's on in june",
    "next meeting",
    "my meetings",
]


@pytest.mark.parametrize("user", [DEMO, MEDWAY])
@pytest.mark.parametrize("words", NAMING_LEADERSHIP)
def test_leadership_meetings_are_closed_to_non_members(chat, user, words):
    text = chat(words, user=user)
    assert "Leadership Group is a closed group" in text
    assert_no_leadership_details(text)
    assert "2026" not in text and "2027" not in text


@pytest.mark.parametrize("user", [DEMO, MEDWAY])
@pytest.mark.parametrize("words", GENERAL)
def test_general_listings_leave_out_leadership_meetings(chat, user, words):
    text = chat(words, user=user)
    assert GENERIC_ERROR not in text
    assert_no_leadership_details(text)


@pytest.mark.parametrize("user", [DEMO, MEDWAY])
@pytest.mark.parametrize(
    "words, day",
    [
        ("meetings on 10 December", "Thursday 10 December 2026"),
        ("meetings on 11/3/2027", "Thursday 11 March 2027"),
        ("what meetings are on 10 june?", "Thursday 10 June 2027"),
    ],
)
def test_the_days_the_leadership_group_meets_look_empty_to_others(chat, user, words, day):
    text = chat(words, user=user)
    assert f"No meetings are scheduled on {day}." in text
    assert "Leadership" not in text and "Orchard Room" not in text and "14:00" not in text


@pytest.mark.parametrize("user", [BOARD, ADMIN, PMO, "leadership.demo@medway.gov.uk"])
def test_leadership_meetings_are_shown_to_members_and_admins(chat, user):
    text = chat("meetings leadership", user=user)
    assert "Thursday 10 December 2026, 14:00–16:00 GMT" in text
    assert "Thursday 10 June 2027, 14:00–16:00 BST" in text
    assert "Orchard Room, Demo House, Maidstone (demo venue)" in text

    text = chat("when does the leadership group meet next?", user=user)
    assert "Leadership Group meets next on Thursday 10 December 2026, 14:00–16:00 GMT." in text

    assert "Leadership Group: Thursday 11 March 2027, 14:00–16:00 GMT" in chat("meetings in March", user=user)
    assert "Leadership Group: Thursday 10 December 2026" in chat("meetings on 10 December", user=user)


def test_admin_sees_leadership_in_the_general_listing(chat):
    text = chat("meetings", user=ADMIN)
    assert "20 meetings coming up" in text
    assert "Leadership Group: Thursday 10 December 2026, 14:00–16:00 GMT" in text


def test_board_chair_sees_leadership_in_my_meetings(chat):
    text = chat("my meetings", user=BOARD)
    assert "4 meetings coming up in your groups" in text
    assert "Leadership Group: Thursday 10 December 2026" in text


def test_bot_admins_setting_is_what_makes_the_admin(sessions, database):
    chat = Chat(Router(sessions, Settings(database_url=database.url, timezone=ZONE)))
    text = chat("meetings leadership", user=ADMIN)
    assert "closed group" in text
    assert_no_leadership_details(text)


# --- people outside the partnership ------------------------------------------------------------


@pytest.mark.parametrize(
    "outsider", [OUTSIDER, "someone@notkent.gov.uk", "someone@kent.gov.uk.example.com", "someone@gov.uk"]
)
def test_outsiders_read_help_and_groups_only_and_are_not_stored(chat, session, outsider):
    people, memberships = people_count(session), memberships_count(session)

    assert "Kent Connects has 5 groups" in chat("groups", user=outsider)
    assert "Kent Connects Bot" in chat("help", user=outsider)
    for words in (
        "join gis",
        "sign me up for the gis group",
        "leave gis",
        "meetings",
        "meetings gis",
        "next gis meeting",
        "when does the GIS group meet next?",
        "my meetings",
        "meetings in March",
        "meetings on 8 December",
        "meetings leadership",
        "next meeting",
    ):
        text = chat(words, user=outsider)
        assert f"can't match {outsider} to a Kent Connects partner" in text, words
        assert "Partnership Office" in text
        assert "2026" not in text and "2027" not in text, words
    assert "can't match" in chat("whoami", user=outsider)

    assert person_by_email(session, outsider) is None
    assert people_count(session) == people
    assert memberships_count(session) == memberships


def test_partner_staff_are_stored_on_first_contact(chat, session):
    assert person_by_email(session, MEDWAY) is None
    chat("groups", user=MEDWAY)
    person = person_by_email(session, MEDWAY)
    assert person is not None and person.partner is not None
    assert person.partner.name == "Medway Council"


def test_addresses_are_stored_in_lower_case_and_subdomains_count(chat, session):
    chat("whoami", user="Someone.Else@Medway.Gov.UK")
    assert person_by_email(session, "someone.else@medway.gov.uk").partner.name == "Medway Council"
    text = chat("whoami", user="someone@hr.kent.gov.uk")
    assert "Partner: Kent County Council" in text


def test_a_person_is_stored_once(chat, session):
    chat("whoami", user=MEDWAY)
    people = people_count(session)
    chat("whoami", user=MEDWAY)
    chat("groups", user=MEDWAY.upper())
    assert people_count(session) == people


# --- times and zones ---------------------------------------------------------------------------


def test_summer_meetings_say_bst_and_winter_ones_gmt_at_the_same_local_time(chat):
    june = chat("meetings in June")
    assert "GIS: Tuesday 8 June 2027, 10:00–12:00 BST" in june
    assert "GMT" not in june
    december = chat("meetings in December")
    assert "GIS: Tuesday 8 December 2026, 10:00–12:00 GMT" in december
    assert "BST" not in december


def test_times_follow_the_bots_zone_setting(sessions, database):
    chat = Chat(Router(sessions, Settings(database_url=database.url, timezone="UTC")))
    text = chat("meetings gis")
    assert "Tuesday 8 December 2026, 10:00–12:00 UTC" in text
    assert "Tuesday 8 June 2027, 09:00–11:00 UTC" in text


# --- awkward input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, expected",
    [
        ("", "didn't catch anything"),
        ("   \t  ", "didn't catch anything"),
        ("x" * 10_000, "10,000 characters"),
        ("meetings " + "gis " * 3000, "characters long"),
        ("📅 meetings?", None),
        ("Ünïcødé", "don't understand"),
        ("meetings astronomy", "I don't know a group called “astronomy”"),
        ("next gsi meeting", "Did you mean GIS"),
        ("meetings on 31 February", "February has 29 days at most"),
        ("meetings on 29 February 2027", "2027 is not a leap year"),
        ("meetings on 30/13/2027", "There is no month 13"),
        ("meetings in Smarch", None),
        ("join gis'; DROP TABLE person; --", None),
        ("<!channel> <script>alert(1)</script>", "don't understand"),
        ("meetings \x00 gis", None),
        ("\u202egis\u202c meetings", None),
        ("ＧＩＳ meetings", None),
    ],
)
def test_awkward_input_gets_a_clear_reply_and_changes_nothing(chat, session, words, expected):
    people, memberships = people_count(session), memberships_count(session)
    reply = chat.reply(words)
    assert isinstance(reply, Reply)
    text = reply.plain_text()
    assert text.strip()
    assert GENERIC_ERROR not in text
    if expected:
        assert expected in text
    # the data is intact
    assert "Kent Connects has 5 groups" in chat("groups")
    assert "GIS meets next on Tuesday 8 December 2026" in chat("next gis meeting")
    assert people_count(session) == people
    assert memberships_count(session) == memberships


def test_a_long_message_is_not_quoted_back_in_full(chat):
    text = chat("y" * 999)  # just under the limit: not understood, and quoted briefly
    assert "don't understand" in text
    assert len(text) < 400


def test_sql_looking_text_from_a_newcomer_leaves_the_tables_intact(chat, session):
    people = people_count(session)
    text = chat("join gis'; DROP TABLE person; --", user=MEDWAY)
    assert GENERIC_ERROR not in text
    assert people_count(session) == people + 1  # the Medway newcomer, and the table still there
    assert "Kent Connects has 5 groups" in chat("groups")


def test_markup_is_quoted_back_as_plain_text(chat):
    words = "<!channel> <script>alert(1)</script>"
    assert f"“{words}”" in chat(words)


def test_an_unknown_group_gets_suggestions(chat):
    text = chat("next gsi meeting")
    assert "I don't know a group called “gsi”" in text
    assert "`meetings gis`" in text


def test_an_unknown_group_is_answered_with_the_list_of_groups(chat):
    text = chat("meetings astronomy")
    assert "The groups are:" in text
    assert "`groups`" in text


def test_a_misspelt_month_is_answered_as_a_date(chat):
    text = chat("meetings in Smarch")
    assert "group called" not in text
    assert "couldn't read" in text or "month" in text


@pytest.mark.parametrize("words", ["meetings in December 9999", "meetings on 31 December 9999"])
def test_the_last_representable_year_is_refused_clearly(chat, words):
    assert GENERIC_ERROR not in chat(words)


@pytest.mark.parametrize(
    "words, suggestion",
    [("meetigns", "`meetings`"), ("hlep", "`help`"), ("gropus", "`groups`"), ("whoamii", "`whoami`")],
)
def test_unknown_commands_get_a_suggestion(chat, words, suggestion):
    text = chat(words)
    assert "don't understand" in text and f"Did you mean {suggestion}" in text


def test_natural_events_question_is_recognised(chat):
    assert "Future Workplaces" in chat("what events are coming up?")


def test_greetings(chat):
    assert chat("Hello!").startswith("Hello!")
    assert "`help`" in chat("hi")


# --- the router never raises -----------------------------------------------------------------------


def test_a_failing_handler_gets_an_apology_and_nothing_is_written(chat, session, monkeypatch, caplog):
    people, memberships = people_count(session), memberships_count(session)
    real_add_member = group_queries.add_member

    def add_then_fail(*args, **kwargs):
        real_add_member(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(group_queries, "add_member", add_then_fail)
    with caplog.at_level(logging.ERROR, logger="bot.router"):
        text = chat("join gis", user=MEDWAY)
        text_demo = chat("join accessibility")
    for reply in (text, text_demo):
        assert GENERIC_ERROR in reply and "nothing was changed" in reply
    assert any("request failed" in record.getMessage() for record in caplog.records)
    # neither the newcomer (created in the same transaction) nor either membership was kept
    assert person_by_email(session, MEDWAY) is None
    assert not is_member(session, DEMO, "digital-accessibility")
    assert people_count(session) == people
    assert memberships_count(session) == memberships

    monkeypatch.undo()
    assert chat("join gis", user=MEDWAY).startswith("Welcome to GIS!")


def test_a_handler_that_raises_does_not_take_the_router_down(chat, declare_command):
    def boom(ctx, **kwargs):
        raise ZeroDivisionError("boom")

    declare_command("boom", r"^help$", boom)
    reply = chat.reply("help")
    assert isinstance(reply, Reply)
    assert GENERIC_ERROR in reply.text
    assert "boom" not in reply.plain_text() and "Traceback" not in reply.plain_text()
    # other words still work, and the next request is served normally
    assert "Kent Connects has 5 groups" in chat("groups")
    assert "GIS meets next" in chat("next gis meeting")
