"""owner load index: (owner, status) replaces the index on owner alone

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:30:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    # Intake counts each team member's open claims to pick the least loaded. On the owner index
    # alone every one of those claims was read from the table (the count grew with the open
    # work, under the write lock); with the status beside the owner the count reads the index.
    op.create_index("ix_claims_owner_status", "claims", ["owner", "status"])
    op.drop_index("ix_claims_owner", table_name="claims")


def downgrade() -> None:
    """Revert this migration."""
    op.create_index("ix_claims_owner", "claims", ["owner"])
    op.drop_index("ix_claims_owner_status", table_name="claims")
