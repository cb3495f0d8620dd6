"""provider load index: (provider, report_date) replaces the index on provider alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 08:15:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    # A prepared statement's generic plan for the provider-load count used the report-date index
    # and filtered every recent claim by provider: intake slowed with each claim stored.
    op.create_index("ix_claims_provider_report_date", "claims", ["provider", "report_date"])
    op.drop_index("ix_claims_provider", table_name="claims")


def downgrade() -> None:
    """Revert this migration."""
    op.create_index("ix_claims_provider", "claims", ["provider"])
    op.drop_index("ix_claims_provider_report_date", table_name="claims")
