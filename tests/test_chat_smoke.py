def test_issue_example(chat):
    groups = chat("groups", user="someone@medway.gov.uk")
    for name in (
        "Leadership Group",
        "Information Security",
        "Digital Accessibility",
        "GIS",
        "Smart Kent and Medway Projects",
    ):
        assert name in groups
    assert "Tuesday 8 December 2026, 10:00–12:00 GMT" in chat("next gis meeting", user="someone@medway.gov.uk")
    closed = chat("meetings leadership", user="someone@medway.gov.uk")
    assert "closed group" in closed and "2026" not in closed and "2027" not in closed
