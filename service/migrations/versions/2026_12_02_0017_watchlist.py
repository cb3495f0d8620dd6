"""watchlist: fraud indicators other insurers shared, as keyed hashes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "watchlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "hash", "source"),
    )
    op.create_index("ix_watchlist_hash", "watchlist", ["hash"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_watchlist_hash", table_name="watchlist")
    op.drop_table("watchlist")
