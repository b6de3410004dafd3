"""Loose names to things (handlers.names): plain candidate lists, no database."""

from __future__ import annotations

import pytest

from handlers.names import Lookup, normalise, resolve

# The five groups as the seed file names them: (thing, [name, slug, aliases...]).
GROUPS = [
    ("leadership", ["Leadership Group", "leadership", "leadership group", "lg", "kent connects leadership"]),
    (
        "infosec",
        [
            "Information Security",
            "information-security",
            "infosec",
            "info sec",
            "cyber",
            "cyber security",
            "cybersecurity",
            "security",
            "isg",
        ],
    ),
    (
        "a11y",
        ["Digital Accessibility", "digital-accessibility", "accessibility", "a11y", "digital accessibility group"],
    ),
    ("gis", ["GIS", "gis", "geographic information", "geographic information systems", "gis group", "mapping", "maps"]),
    (
        "smart",
        [
            "Smart Kent and Medway Projects",
            "smart-kent-and-medway",
            "smart kent",
            "smart medway",
            "smart kent and medway",
            "smart",
            "skm",
            "smart projects",
        ],
    ),
]


# --- normalise ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GIS", "gis"),
        ("  The   GIS   Group ", "gis"),
        ("our information security team", "information security"),
        ("my smart kent meetings", "smart kent"),
        ("Smart Kent & Medway", "smart kent and medway"),
        ("digital-accessibility", "digital accessibility"),
        ("information_security", "information security"),
        ("GIS?!", "gis"),
        ("gis'; DROP TABLE person; --", "gis drop table person"),
        ("Ünïcødé", "ünïcødé"),
        ("📅", ""),
        ("", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_normalise_keeps_a_name_that_is_only_a_filler_word():
    # "the" alone is not stripped to nothing: only "the " before another word is
    assert normalise("group") == "group"
    assert normalise("the") == "the"


# --- resolve ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["GIS", "gis", "Gis", "the GIS group", "gIs meetings"])
def test_exact_name_in_any_case(query):
    assert resolve(query, GROUPS).found == "gis"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("infosec", "infosec"),
        ("cyber", "infosec"),
        ("Cyber Security", "infosec"),
        ("a11y", "a11y"),
        ("accessibility", "a11y"),
        ("smart kent", "smart"),
        ("lg", "leadership"),
        ("mapping", "gis"),
        ("information-security", "infosec"),  # the slug
    ],
)
def test_alias_and_slug(query, expected):
    assert resolve(query, GROUPS).found == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Digital access", "a11y"),
        ("digital", "a11y"),
        ("informat", "infosec"),
        ("smart kent and med", "smart"),
    ],
)
def test_unique_prefix(query, expected):
    lookup = resolve(query, GROUPS)
    assert lookup.found == expected


def test_prefix_needs_three_letters():
    # "di" would be a prefix of Digital Accessibility only, but is too short to be sure of
    assert resolve("di", GROUPS).found is None


def test_prefix_match_on_a_plain_list_without_an_alias():
    things = [("a", ["Digital Accessibility"]), ("b", ["Geographic Information"])]
    assert resolve("digital access", things).found == "a"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("informaton security", "infosec"),
        ("accesibility", "a11y"),
        ("leadreship", "leadership"),
        ("Smart Kent and Medway Project", "smart"),
    ],
)
def test_fuzzy_near_miss(query, expected):
    assert resolve(query, GROUPS).found == expected


def test_typo_of_a_short_name_is_suggested_not_taken():
    lookup = resolve("gsi", GROUPS)
    assert lookup.found is None
    assert lookup.suggestions and lookup.suggestions[0] == "gis"


def test_ambiguous_prefix_gives_no_match_but_both_suggestions():
    things = [("kent", ["Smart Kent"]), ("medway", ["Smart Medway"])]
    lookup = resolve("smart", things)
    assert lookup.found is None
    assert set(lookup.suggestions) == {"kent", "medway"}


def test_ambiguous_exact_name_gives_no_match_but_suggestions():
    things = [("one", ["Security", "sec one"]), ("two", ["security", "sec two"])]
    lookup = resolve("security", things)
    assert lookup.found is None
    assert set(lookup.suggestions) == {"one", "two"}


def test_suggestions_are_at_most_three():
    things = [(i, [f"project {name}"]) for i, name in enumerate("abcdef")]
    lookup = resolve("project", things)
    assert lookup.found is None
    assert 0 < len(lookup.suggestions) <= 3


@pytest.mark.parametrize("query", ["", "   ", "!!!", "📅", "the "])
def test_empty_query_finds_and_suggests_nothing(query):
    lookup = resolve(query, GROUPS)
    assert lookup.found is None and lookup.suggestions == []


def test_no_candidates():
    lookup = resolve("gis", [])
    assert isinstance(lookup, Lookup)
    assert lookup.found is None and lookup.suggestions == []


def test_candidates_with_empty_names_are_ignored():
    things = [("blank", ["", "!!!"]), ("gis", ["GIS"])]
    assert resolve("gis", things).found == "gis"
    assert resolve("", things).suggestions == []


@pytest.mark.parametrize("query", ["weather", "xyz", "qqqqqqqq"])
def test_unrelated_words_match_nothing(query):
    assert resolve(query, GROUPS).found is None


def test_an_unrelated_word_is_not_suggested_as_a_group():
    assert resolve("astronomy", GROUPS).suggestions == []


def test_returns_the_candidate_object_itself():
    marker = object()
    assert resolve("thing", [(marker, ["Thing"])]).found is marker
