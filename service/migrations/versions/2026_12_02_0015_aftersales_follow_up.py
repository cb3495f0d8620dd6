"""after-sales follow-up: phone surveys with their caller, complaints' owners, escalated rectification

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(10), nullable=False, server_default="online"))
        batch_op.add_column(sa.Column("team", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("assignee", sa.String(80), nullable=True))
        batch_op.add_column(sa.Column("calls", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("answered_by", sa.String(80), nullable=True))
    with op.batch_alter_table("complaints") as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(80), nullable=True))
        batch_op.create_index("ix_complaints_owner_status", ["owner", "status"])
    with op.batch_alter_table("rectifications") as batch_op:
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalated_to", sa.String(40), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("rectifications") as batch_op:
        batch_op.drop_column("escalated_to")
        batch_op.drop_column("escalated_at")
    with op.batch_alter_table("complaints") as batch_op:
        batch_op.drop_index("ix_complaints_owner_status")
        batch_op.drop_column("owner")
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.drop_column("answered_by")
        batch_op.drop_column("calls")
        batch_op.drop_column("assignee")
        batch_op.drop_column("team")
        batch_op.drop_column("method")
