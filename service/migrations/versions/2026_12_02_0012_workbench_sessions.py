"""workbench sessions: one row per sign-in, ended by signing out

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "workbench_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("person", sa.String(80), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workbench_sessions")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("workbench_sessions")
