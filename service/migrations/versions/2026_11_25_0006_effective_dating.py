"""effective dating: rulebook activations, each from a date on; a version named by re-adjudication

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 08:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "rulebook_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("activated_by", sa.String(length=80), nullable=False),
        sa.Column(
            "activated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["rulebook_versions.id"],
            name=op.f("fk_rulebook_activations_version_id_rulebook_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rulebook_activations")),
    )
    with op.batch_alter_table("rulebook_activations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rulebook_activations_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_rulebook_activations_version_id"), ["version_id"], unique=False)
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rulebook_named", sa.String(length=40), nullable=True))

    # The version active until now stays in force, for every report date so far (the schedule
    # starts with it); the status column keeps only the approval state (draft -> approved).
    op.execute(
        "INSERT INTO rulebook_activations (name, version_id, effective_from, activated_by) "
        "SELECT name, id, '1900-01-01', COALESCE(approved_by, uploaded_by) "
        "FROM rulebook_versions WHERE status = 'active'"
    )
    op.execute("UPDATE rulebook_versions SET status = 'approved' WHERE status IN ('active', 'retired')")
    _status_default("draft")


def _status_default(value: str) -> None:
    # SQLite would rebuild the table for this (which rows in rulebook_activations now refer to);
    # the application always sets the status, so there the old default stays.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("rulebook_versions", "status", server_default=value, existing_type=sa.String(20))


def downgrade() -> None:
    """Revert this migration (the version in force today becomes the active one)."""
    _status_default("active")
    op.execute(
        "UPDATE rulebook_versions SET status = 'active' WHERE id IN ("
        "SELECT version_id FROM rulebook_activations a WHERE revoked_at IS NULL AND effective_from <= "
        "CURRENT_DATE AND NOT EXISTS (SELECT 1 FROM rulebook_activations b WHERE b.name = a.name "
        "AND b.revoked_at IS NULL AND b.effective_from <= CURRENT_DATE AND b.id > a.id))"
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("rulebook_named")
    with op.batch_alter_table("rulebook_activations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rulebook_activations_version_id"))
        batch_op.drop_index(batch_op.f("ix_rulebook_activations_name"))
    op.drop_table("rulebook_activations")
