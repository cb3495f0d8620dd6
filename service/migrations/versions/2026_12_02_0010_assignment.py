"""assignment: each claim's team and owner; assignment changes kept as claim events

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column("claims", sa.Column("team", sa.String(40), nullable=True))
    op.add_column("claims", sa.Column("owner", sa.String(80), nullable=True))
    op.create_index("ix_claims_team", "claims", ["team"])
    op.create_index("ix_claims_owner", "claims", ["owner"])
    with op.batch_alter_table("claim_events") as batch_op:
        batch_op.alter_column("old", type_=sa.String(130), existing_type=sa.String(30))
        batch_op.alter_column(
            "new", type_=sa.String(130), existing_type=sa.String(30), existing_nullable=False
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("claim_events") as batch_op:
        batch_op.alter_column("old", type_=sa.String(30), existing_type=sa.String(130))
        batch_op.alter_column(
            "new", type_=sa.String(30), existing_type=sa.String(130), existing_nullable=False
        )
    op.drop_index("ix_claims_owner", "claims")
    op.drop_index("ix_claims_team", "claims")
    with op.batch_alter_table("claims") as batch_op:
        batch_op.drop_column("owner")
        batch_op.drop_column("team")
