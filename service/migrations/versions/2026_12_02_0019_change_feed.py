"""change feed: claim events numbered in commit order, webhook subscriptions and their deliveries

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("claim_events") as batch:
        batch.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
    # Events stored before the feed existed are all committed: their id order is a valid feed order.
    op.execute("UPDATE claim_events SET position = id")
    op.create_index("uq_claim_events_position", "claim_events", ["position"], unique=True)
    where = sa.text("position IS NULL")
    op.create_index(
        "ix_claim_events_unnumbered", "claim_events", ["id"], postgresql_where=where, sqlite_where=where
    )
    op.create_index("ix_claims_updated_at", "claims", ["updated_at"])
    head = op.create_table(
        "feed_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    top = op.get_bind().execute(sa.text("SELECT coalesce(max(id), 0) FROM claim_events")).scalar_one()
    op.bulk_insert(head, [{"id": 1, "position": top}])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("first_position", sa.BigInteger(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_deliveries_webhook_id", "webhook_deliveries", ["webhook_id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_webhook_deliveries_webhook_id", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("feed_head")
    op.drop_index("ix_claims_updated_at", table_name="claims")
    op.drop_index("ix_claim_events_unnumbered", table_name="claim_events")
    op.drop_index("uq_claim_events_position", table_name="claim_events")
    with op.batch_alter_table("claim_events") as batch:
        batch.drop_column("position")
