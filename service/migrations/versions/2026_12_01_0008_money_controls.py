"""money controls: case reserves, the payee's verification, idempotent intake

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    # Plain ADD COLUMNs and unique indexes: SQLite need not rebuild the claims table.
    op.add_column("claims", sa.Column("reserve", sa.Numeric(14, 2), server_default="0", nullable=False))
    op.add_column(
        "claims", sa.Column("payee_verified", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.add_column("claims", sa.Column("payee_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("claims", sa.Column("reported_by", sa.String(80), nullable=True))
    op.add_column("claims", sa.Column("idempotency_key", sa.String(100), nullable=True))
    op.add_column("claims", sa.Column("request_hash", sa.String(64), nullable=True))
    op.add_column("claims", sa.Column("external_reference", sa.String(100), nullable=True))
    # One claim per key and per external reference of one caller; NULLs never collide.
    op.create_index(
        "uq_claims_reported_by_idempotency_key", "claims", ["reported_by", "idempotency_key"], unique=True
    )
    op.create_index(
        "uq_claims_reported_by_external_reference",
        "claims",
        ["reported_by", "external_reference"],
        unique=True,
    )
    # The duplicate-suspect fact: a policy's claims of one peril near an incident time.
    op.create_index("ix_claims_policy_id_peril_incident_at", "claims", ["policy_id", "peril", "incident_at"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_claims_policy_id_peril_incident_at", table_name="claims")
    op.drop_index("uq_claims_reported_by_external_reference", table_name="claims")
    op.drop_index("uq_claims_reported_by_idempotency_key", table_name="claims")
    with op.batch_alter_table("claims") as batch_op:
        for column in (
            "external_reference",
            "request_hash",
            "idempotency_key",
            "reported_by",
            "payee_changed_at",
            "payee_verified",
            "reserve",
        ):
            batch_op.drop_column(column)
