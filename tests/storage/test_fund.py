"""The development fund's ledger (storage.cases): financial years, balance and totals, in exact pence;
and two Board members approving at once on PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import delete, func, select

import tests.conftest as conftest
from bot.router import Router
from core.messages import Request
from core.settings import Settings
from handlers.money import format_pence
from storage import cases as case_queries, db, groups as group_queries
from storage.demo import load_demo
from storage.models import BusinessCase, CaseChange, CaseStatus, FundEntry, FundEntryKind
from storage.people import list_partners, person_by_email
from tests.conftest import ADMIN, DEMO_DAY, NOW, ZONE

UTC = timezone.utc
BOARD = "board.demo@kent.police.uk"
BOARD_2 = "leadership.demo@medway.gov.uk"
DEMO = "demo@kent.gov.uk"


# --- financial years ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, year",
    [
        (date(2027, 3, 31), 2026),
        (date(2027, 4, 1), 2027),
        (date(2026, 4, 1), 2026),
        (date(2026, 3, 31), 2025),
        (date(2027, 1, 1), 2026),
        (date(2026, 12, 31), 2026),
        (date(2024, 2, 29), 2023),
        (date(2000, 4, 1), 2000),
    ],
)
def test_financial_year_runs_from_1_april_to_31_march(day, year):
    assert case_queries.financial_year(day) == year


@pytest.mark.parametrize("year, label", [(2026, "2026/27"), (2009, "2009/10"), (2099, "2099/00"), (1999, "1999/00")])
def test_year_label(year, label):
    assert case_queries.year_label(year) == label


# --- balance and totals -------------------------------------------------------------------------


@pytest.fixture
def ledger(session):
    """An empty fund (the demo's entries removed, inside the test's own transaction) and some cases."""
    session.execute(delete(FundEntry))
    session.flush()
    gis = group_queries.group_by_slug(session, "gis")
    cases = []
    for title in ("Alpha", "Beta", "Gamma"):
        case = BusinessCase(
            title=title,
            problem="p",
            proposal="q",
            benefiting_partners=["all"],
            benefiting_groups=[],
            sponsor_group=gis,
            estimated_cost_pence=100,
            timescale="t",
            contact="c",
            status=CaseStatus.APPROVED,
        )
        session.add(case)
        cases.append(case)
    session.flush()
    partners = {p.slug: p for p in list_partners(session)}
    return session, partners, cases


def add(session, kind: FundEntryKind, year: int, pence: int, partner=None, case=None) -> None:
    session.add(
        FundEntry(
            kind=kind,
            year=year,
            amount_pence=pence,
            partner_id=partner.id if partner else None,
            case_id=case.id if case else None,
            at=NOW,
        )
    )
    session.flush()


def test_an_empty_fund(ledger):
    session, _, _ = ledger
    assert case_queries.balance(session) == 0
    assert case_queries.totals_by_year(session) == {}


def test_balance_and_totals_across_years(ledger):
    session, partners, (alpha, beta, gamma) = ledger
    C, A, S = FundEntryKind.CONTRIBUTION, FundEntryKind.AWARD, FundEntryKind.SPEND
    add(session, C, 2025, 500_001, partners["kcc"])
    add(session, C, 2025, 250_000, partners["medway"])
    add(session, C, 2026, 500_000, partners["kcc"])
    add(session, C, 2026, 333_333, partners["swale"])
    add(session, C, 2026, 1, partners["swale"])
    add(session, C, 2027, 99, None)  # unattributed
    add(session, A, 2025, 600_000, case=alpha)
    add(session, A, 2026, 123_457, case=beta)
    add(session, A, 2027, 1, case=gamma)
    add(session, S, 2025, 100_000, case=alpha)
    add(session, S, 2026, 450_000, case=alpha)  # spent in a later year than awarded
    add(session, S, 2026, 3, case=beta)

    contributed = 500_001 + 250_000 + 500_000 + 333_333 + 1 + 99
    awarded = 600_000 + 123_457 + 1
    result = case_queries.balance(session)
    assert result == contributed - awarded == 859_976  # spending is within awards: it does not lower the balance
    assert type(result) is int

    totals = case_queries.totals_by_year(session)
    assert list(totals) == [2025, 2026, 2027]
    got = {year: (t.contributed, t.awarded, t.spent, t.by_partner) for year, t in totals.items()}
    assert got == {
        2025: (750_001, 600_000, 100_000, {"KCC": 500_001, "Medway": 250_000}),
        2026: (833_334, 123_457, 450_003, {"KCC": 500_000, "Swale": 333_334}),
        2027: (99, 1, 0, {"unattributed": 99}),
    }
    for t in totals.values():
        assert all(type(v) is int for v in (t.contributed, t.awarded, t.spent, *t.by_partner.values()))
    assert sum(t.contributed - t.awarded for t in totals.values()) == result

    assert case_queries.spent_on(session, alpha) == 550_000
    assert case_queries.spent_on(session, beta) == 3
    assert case_queries.spent_on(session, gamma) == 0


def test_awards_can_exceed_one_years_contributions_but_not_the_balance_arithmetic(ledger):
    session, partners, (alpha, _, _) = ledger
    add(session, FundEntryKind.CONTRIBUTION, 2025, 1_000_000, partners["kcc"])
    add(session, FundEntryKind.AWARD, 2026, 700_000, case=alpha)  # carried over from last year's money
    assert case_queries.balance(session) == 300_000
    totals = case_queries.totals_by_year(session)
    assert (totals[2026].contributed, totals[2026].awarded) == (0, 700_000)


def test_large_sums_stay_exact(ledger):
    session, partners, (alpha, _, _) = ledger
    for slug in ("kcc", "medway", "swale", "kent-police"):
        for year in (2024, 2025, 2026):
            add(session, FundEntryKind.CONTRIBUTION, year, 999_999_999, partners[slug])  # £9,999,999.99 each
    add(session, FundEntryKind.AWARD, 2026, 1, case=alpha)
    assert case_queries.balance(session) == 12 * 999_999_999 - 1 == 11_999_999_987  # beyond 32 bits
    assert case_queries.totals_by_year(session)[2025].contributed == 4 * 999_999_999


# --- the fund in chat ------------------------------------------------------------------------------


def test_fund_add_records_the_financial_year(chat, session):
    medway = next(p for p in list_partners(session) if p.slug == "medway")
    admin_says = lambda text, now=NOW: chat(text, user=ADMIN, now=now)  # noqa: E731
    before = case_queries.balance(session)
    assert "Recorded £100 from Medway Council for 2025/26" in admin_says("fund add Medway £100 2025/26")
    assert "for 2024/25" in admin_says("fund add Medway £0.50 2024")
    # 31 March 2027, 23:30 in London (BST began on 28 March): still 2026/27.
    assert "for 2026/27" in admin_says("fund add Medway £1", now=datetime(2027, 3, 31, 22, 30, tzinfo=UTC))
    # 1 April 2027, 00:30 in London, which is still 31 March in UTC: 2027/28.
    assert "for 2027/28" in admin_says("fund add Medway £2", now=datetime(2027, 3, 31, 23, 30, tzinfo=UTC))
    assert "Give the financial year as e.g. 2026/27" in admin_says("fund add Medway £3 1999")
    assert "isn't a sum of money" in admin_says("fund add Medway lots")
    assert "can't be negative" in admin_says("fund add Medway -5")
    assert "I don't know a partner called “Atlantis”" in admin_says("fund add Atlantis £5")

    session.expire_all()
    entries = (
        session.execute(
            select(FundEntry).where(FundEntry.partner_id == medway.id, FundEntry.note.is_(None)).order_by(FundEntry.id)
        )
        .scalars()
        .all()
    )
    assert [(e.year, e.amount_pence, e.kind) for e in entries] == [
        (2025, 10_000, FundEntryKind.CONTRIBUTION),
        (2024, 50, FundEntryKind.CONTRIBUTION),
        (2026, 100, FundEntryKind.CONTRIBUTION),
        (2027, 200, FundEntryKind.CONTRIBUTION),
    ]
    assert case_queries.balance(session) == before + 10_350

    shown = chat("fund")
    assert f"The development fund's balance is {format_pence(before + 10_350)} " in shown
    years = [line for line in shown.splitlines() if line.startswith("• ")]
    assert years == ["• 2024/25", "• 2025/26", "• 2026/27", "• 2027/28"]
    assert "• 2025/26\n  Contributed: £100\n  Awarded: £0\n  Spent: £0" in shown


def test_an_award_is_in_the_financial_year_of_london_on_the_day(chat, session):
    case_ids = []
    for title in ("Before midnight", "After midnight"):
        gis = group_queries.group_by_slug(session, "gis")
        case = BusinessCase(
            title=title,
            problem="p",
            proposal="q",
            benefiting_partners=["all"],
            benefiting_groups=[],
            sponsor_group=gis,
            estimated_cost_pence=100_000,
            timescale="t",
            contact="c",
            status=CaseStatus.SUBMITTED,
        )
        session.add(case)
        session.flush()
        case_ids.append(case.id)
    chat(f"approve {case_ids[0]} £1,000", user=BOARD, now=datetime(2027, 3, 31, 22, 59, tzinfo=UTC))
    chat(f"approve {case_ids[1]} £1,000", user=BOARD, now=datetime(2027, 3, 31, 23, 0, tzinfo=UTC))
    session.expire_all()
    years = [
        session.execute(
            select(FundEntry.year).where(FundEntry.case_id == i, FundEntry.kind == FundEntryKind.AWARD)
        ).scalar_one()
        for i in case_ids
    ]
    assert years == [2026, 2027]


# --- two approvals at once (PostgreSQL) -----------------------------------------------------------


def test_two_approvals_at_once_cannot_overspend(tmp_path, monkeypatch):
    generator = conftest.fresh_database("postgresql", tmp_path)  # skips (or fails under CI) if unreachable
    database = next(generator)
    try:
        sessions = db.make_session_factory(database.engine)
        with sessions.begin() as session:
            load_demo(session, DEMO_DAY, ZONE)
            session.execute(delete(FundEntry))
            kcc = next(p for p in list_partners(session) if p.slug == "kcc")
            session.add(
                FundEntry(kind=FundEntryKind.CONTRIBUTION, year=2026, amount_pence=1_000_000, partner_id=kcc.id, at=NOW)
            )
            submitter = person_by_email(session, DEMO)
            gis = group_queries.group_by_slug(session, "gis")
            ids = []
            for title in ("Racing one", "Racing two"):
                case = BusinessCase(
                    title=title,
                    problem="p",
                    proposal="q",
                    benefiting_partners=["all"],
                    benefiting_groups=[],
                    sponsor_group=gis,
                    estimated_cost_pence=700_000,
                    timescale="t",
                    contact="c",
                    submitter_id=submitter.id,
                    status=CaseStatus.DRAFT,
                )
                session.add(case)
                session.flush()
                case_queries.change(session, case, CaseStatus.SUBMITTED, submitter, at=NOW)
                ids.append(case.id)
            assert case_queries.balance(session) == 1_000_000

        # Make the race as tight as it can be: each approval, having read the balance, waits (up to a
        # few seconds) for the other to have read it too. With the fund lock the second cannot read it
        # until the first has committed, so the wait just times out; without it both read £10,000.
        gate = threading.Barrier(2, timeout=3)
        real_balance = case_queries.balance

        def balance_then_wait(session):
            value = real_balance(session)
            if threading.current_thread() is not threading.main_thread():
                try:
                    gate.wait()
                except threading.BrokenBarrierError:
                    pass
            return value

        monkeypatch.setattr(case_queries, "balance", balance_then_wait)
        router = Router(sessions, Settings(database_url=database.url, timezone=ZONE, admins=frozenset({ADMIN})))
        start = threading.Barrier(2)
        replies: dict[int, str] = {}

        def approve(case_id: int, email: str) -> None:
            start.wait()
            reply = router.handle(
                Request(text=f"approve {case_id} £7,000", platform="console", user_id=email, email=email, now=NOW)
            )
            replies[case_id] = reply.plain_text()

        threads = [
            threading.Thread(target=approve, args=(ids[0], BOARD)),
            threading.Thread(target=approve, args=(ids[1], BOARD_2)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        monkeypatch.undo()

        approved = [i for i in ids if "£7,000 awarded" in replies[i]]
        refused = [i for i in ids if "The fund can't cover that" in replies[i]]
        assert len(approved) == 1 and len(refused) == 1, replies
        assert "would need £4,000 more than its balance of £3,000. Nothing was changed." in replies[refused[0]]

        with sessions() as session:
            statuses = dict(
                session.execute(select(BusinessCase.id, BusinessCase.status).where(BusinessCase.id.in_(ids))).all()
            )
            assert statuses == {approved[0]: CaseStatus.APPROVED, refused[0]: CaseStatus.SUBMITTED}
            awards = session.execute(
                select(FundEntry.case_id, FundEntry.amount_pence).where(FundEntry.kind == FundEntryKind.AWARD)
            ).all()
            assert awards == [(approved[0], 700_000)]
            assert (
                session.execute(
                    select(func.count()).select_from(CaseChange).where(CaseChange.case_id == refused[0])
                ).scalar_one()
                == 1
            )
            assert case_queries.balance(session) == 300_000 >= 0
    finally:
        generator.close()
