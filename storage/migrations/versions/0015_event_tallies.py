"""event tallies: places taken and people waiting, by mode, kept on the event row

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

The events list read its places by counting every registration of the page's events; at
200,000 registrations that cost several times the demo. The event row now carries four
counters, taken_in_person, taken_online (confirmed registrations) and waiting_in_person,
waiting_online (waitlisted ones), kept by the database itself: triggers on registration add and
subtract in the same statement as every INSERT, UPDATE (status, mode or event) and DELETE of a
registration, including the deletes of an erasure and of ON DELETE CASCADE. Their UPDATE of the
event row takes its row lock (PostgreSQL), the lock storage.events.lock takes anyway; SQLite has
one writer. Existing rows are counted once here (the backfill).

The waitlist's order, (queued_at, id) within an event, status and mode, now ends the registration
index, so that a position is counted on the index alone, and the index it replaces
((event_id, status, mode)) is its prefix. Likewise the events to come are counted on an index
of (starts_at_utc, status), which replaces the one of starts_at_utc alone: the event rows, now
updated at every registration, are no longer read to count them.

On SQLite the columns are added in place (ALTER TABLE ADD COLUMN: nothing is rebuilt, AUTOINCREMENT
stays); the downgrade's rebuild keeps AUTOINCREMENT (0011). A later migration that rebuilds
`registration` on SQLite (batch mode, recreate) drops its triggers with it: it must create them
again (tests/storage/test_event_tallies.py checks they exist at head, on both databases).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SQLITE = {"sqlite_autoincrement": True}
# (column, status, mode), with the values storage.models stores (a migration never imports them).
COUNTERS = (
    ("taken_in_person", "confirmed", "in_person"),
    ("taken_online", "confirmed", "online"),
    ("waiting_in_person", "waitlisted", "in_person"),
    ("waiting_online", "waitlisted", "online"),
)
COUNTED = "('confirmed', 'waitlisted')"
OLD_INDEX = "ix_registration_event_id_status_mode"
NEW_INDEX = "ix_registration_event_id_status_mode_queued_at"
OLD_EVENT_INDEX = "ix_event_starts_at_utc"
NEW_EVENT_INDEX = "ix_event_starts_at_utc_status"
SQLITE_TRIGGERS = ("tr_registration_tally_insert", "tr_registration_tally_delete", "tr_registration_tally_update")
PG_FUNCTION = "registration_tally"
PG_TRIGGERS = ("tr_registration_tally", "tr_registration_tally_update")


def _changes(row: str, sign: str) -> str:
    """`col = col + CASE ...` for the four counters, `row` (NEW or OLD) counted with `sign`."""
    return ", ".join(
        f"{column} = {column} {sign} CASE WHEN {row}.status = '{status}' AND {row}.mode = '{mode}' THEN 1 ELSE 0 END"
        for column, status, mode in COUNTERS
    )


def _moved(row_old: str = "OLD", row_new: str = "NEW") -> str:
    """The counters of one event, OLD's counted out and NEW's in, in one assignment each."""
    return ", ".join(
        f"{column} = {column}"
        f" + CASE WHEN {row_new}.status = '{status}' AND {row_new}.mode = '{mode}' THEN 1 ELSE 0 END"
        f" - CASE WHEN {row_old}.status = '{status}' AND {row_old}.mode = '{mode}' THEN 1 ELSE 0 END"
        for column, status, mode in COUNTERS
    )


def _sqlite_triggers() -> list[str]:
    changed = "OLD.status IS NOT NEW.status OR OLD.mode IS NOT NEW.mode OR OLD.event_id IS NOT NEW.event_id"
    return [
        f"""CREATE TRIGGER tr_registration_tally_insert AFTER INSERT ON registration
        WHEN NEW.status IN {COUNTED}
        BEGIN
            UPDATE event SET {_changes("NEW", "+")} WHERE id = NEW.event_id;
        END""",
        f"""CREATE TRIGGER tr_registration_tally_delete AFTER DELETE ON registration
        WHEN OLD.status IN {COUNTED}
        BEGIN
            UPDATE event SET {_changes("OLD", "-")} WHERE id = OLD.event_id;
        END""",
        f"""CREATE TRIGGER tr_registration_tally_update AFTER UPDATE OF status, mode, event_id ON registration
        WHEN {changed}
        BEGIN
            UPDATE event SET {_moved()} WHERE id = NEW.event_id AND OLD.event_id = NEW.event_id;
            UPDATE event SET {_changes("OLD", "-")} WHERE id = OLD.event_id AND OLD.event_id <> NEW.event_id;
            UPDATE event SET {_changes("NEW", "+")} WHERE id = NEW.event_id AND OLD.event_id <> NEW.event_id;
        END""",
    ]


def _pg_statements() -> list[str]:
    changed = (
        "OLD.status IS DISTINCT FROM NEW.status OR OLD.mode IS DISTINCT FROM NEW.mode "
        "OR OLD.event_id IS DISTINCT FROM NEW.event_id"
    )
    # SET search_path FROM CURRENT: `event` is the one in the schema the function was made in.
    return [
        f"""CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.event_id = NEW.event_id THEN
                UPDATE event SET {_moved()} WHERE id = NEW.event_id;
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {COUNTED} THEN
                UPDATE event SET {_changes("OLD", "-")} WHERE id = OLD.event_id;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN {COUNTED} THEN
                UPDATE event SET {_changes("NEW", "+")} WHERE id = NEW.event_id;
            END IF;
            RETURN NULL;
        END
        $$""",
        f"""CREATE TRIGGER tr_registration_tally AFTER INSERT OR DELETE ON registration
        FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()""",
        f"""CREATE TRIGGER tr_registration_tally_update AFTER UPDATE OF status, mode, event_id ON registration
        FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {PG_FUNCTION}()""",
    ]


def create_triggers() -> None:
    """The triggers that keep the counters (for a later migration that rebuilds `registration`)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_triggers() if sqlite else _pg_statements():
        op.execute(statement)


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON registration")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")


def upgrade() -> None:
    with op.batch_alter_table("event", table_kwargs=SQLITE) as batch_op:
        for column, _, _ in COUNTERS:
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_index(OLD_EVENT_INDEX)
        batch_op.create_index(NEW_EVENT_INDEX, ["starts_at_utc", "status"], unique=False)
    with op.batch_alter_table("registration", table_kwargs=SQLITE) as batch_op:
        batch_op.drop_index(OLD_INDEX)
        batch_op.create_index(NEW_INDEX, ["event_id", "status", "mode", "queued_at", "id"], unique=False)
    # The backfill: every registration there is, counted once (the triggers count from here on).
    counts = ", ".join(
        f"{column} = (SELECT count(*) FROM registration WHERE registration.event_id = event.id "
        f"AND registration.status = '{status}' AND registration.mode = '{mode}')"
        for column, status, mode in COUNTERS
    )
    op.execute(f"UPDATE event SET {counts}")
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("registration", table_kwargs=SQLITE) as batch_op:
        batch_op.drop_index(NEW_INDEX)
        batch_op.create_index(OLD_INDEX, ["event_id", "status", "mode"], unique=False)
    with op.batch_alter_table("event", table_kwargs=SQLITE) as batch_op:
        batch_op.drop_index(NEW_EVENT_INDEX)
        batch_op.create_index(OLD_EVENT_INDEX, ["starts_at_utc"], unique=False)
        for column, _, _ in reversed(COUNTERS):
            batch_op.drop_column(column)
