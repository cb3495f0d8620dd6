"""after-sales: the customer's contact on a claim; outbox, timed jobs, surveys, complaints, rectifications

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NOW = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("claims") as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(5), nullable=False, server_default="zh-CN"))
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", NOW, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", NOW, nullable=False),
        sa.Column("sent_at", NOW, nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_messages_claim_id_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_messages_dedupe_key")),
    )
    op.create_index("ix_messages_claim_id", "messages", ["claim_id"])
    op.create_index("ix_messages_status_next_attempt_at", "messages", ["status", "next_attempt_at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(120), nullable=False),
        sa.Column("due_at", NOW, nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", NOW, nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_jobs_claim_id_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_jobs_dedupe_key")),
    )
    op.create_index("ix_jobs_claim_id", "jobs", ["claim_id"])
    op.create_index("ix_jobs_status_due_at", "jobs", ["status", "due_at"])
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("handlers", sa.JSON(), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
        sa.Column("expires_at", NOW, nullable=False),
        sa.Column("answered_at", NOW, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_surveys_claim_id_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_surveys_claim_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_surveys_token_hash")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("customer", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("team", sa.String(40), nullable=True),
        sa.Column("received_by", sa.String(80), nullable=False),
        sa.Column("received_at", NOW, nullable=False),
        sa.Column("first_response_due", NOW, nullable=False),
        sa.Column("resolution_due", NOW, nullable=False),
        sa.Column("escalated_at", NOW, nullable=True),
        sa.Column("responded_at", NOW, nullable=True),
        sa.Column("responded_by", sa.String(80), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("resolved_at", NOW, nullable=True),
        sa.Column("resolved_by", sa.String(80), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("cause", sa.String(40), nullable=True),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_complaints_claim_id_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    op.create_index("ix_complaints_claim_id", "complaints", ["claim_id"])
    op.create_index("ix_complaints_status", "complaints", ["status"])
    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("owner_team", sa.String(40), nullable=True),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("opened_by", sa.String(80), nullable=False),
        sa.Column("opened_at", NOW, nullable=False),
        sa.Column("closed_at", NOW, nullable=True),
        sa.Column("closed_by", sa.String(80), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_rectifications_claim_id_claims")),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_rectifications_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
    )
    op.create_index("ix_rectifications_claim_id", "rectifications", ["claim_id"])
    op.create_index("ix_rectifications_status", "rectifications", ["status"])


def downgrade() -> None:
    """Revert this migration."""
    for table in ("rectifications", "complaints", "surveys", "jobs", "messages"):
        op.drop_table(table)
    with op.batch_alter_table("claims") as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_email")
