"""chain head seal: an HMAC of each claim's chain head under a key kept outside the database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column("claims", sa.Column("head_seal", sa.String(64), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("claims") as batch_op:
        batch_op.drop_column("head_seal")
