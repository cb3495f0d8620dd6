"""shared contact indexes: a payee account's and a phone's recent claims, for the network facts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:40:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    # Every intake counts the other policies that used its payee account or phone in 90 days.
    op.create_index("ix_claims_payee_account_report_date", "claims", ["payee_account", "report_date"])
    op.create_index("ix_claims_contact_phone_report_date", "claims", ["contact_phone", "report_date"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_claims_contact_phone_report_date", table_name="claims")
    op.drop_index("ix_claims_payee_account_report_date", table_name="claims")
