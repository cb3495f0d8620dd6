"""sla dates: each open claim's next SLA due date and first breached day, for queues in SQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00

The dates are computed by the service (`claims db upgrade` fills them for the claims already
stored, as `claims sla refresh` does after a calendar change).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column("claims", sa.Column("sla_due", sa.Date(), nullable=True))
    op.add_column("claims", sa.Column("sla_breach_on", sa.Date(), nullable=True))
    op.create_index("ix_claims_sla_due", "claims", ["sla_due"])
    op.create_index("ix_claims_sla_breach_on", "claims", ["sla_breach_on"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_claims_sla_breach_on", "claims")
    op.drop_index("ix_claims_sla_due", "claims")
    with op.batch_alter_table("claims") as batch_op:
        batch_op.drop_column("sla_breach_on")
        batch_op.drop_column("sla_due")
