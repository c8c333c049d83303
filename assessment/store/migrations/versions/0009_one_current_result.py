"""At most one current result per assessment, held by the database: a partial unique index
on result (assessment_id) where current. Two re-scorings run at once could each mark their
own result current; now the second one's insert fails, and it re-reads and skips. Where
that already happened, the newest of an assessment's current results stays current.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The same SQL on SQLite and PostgreSQL: ``current`` is a boolean column on both.
KEEP_THE_NEWEST = """
    UPDATE result SET current = false
    WHERE current AND id < (SELECT max(newer.id) FROM result AS newer WHERE newer.assessment_id = result.assessment_id AND newer.current)
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(KEEP_THE_NEWEST)
    # A plain CREATE INDEX, which SQLite does in place (no batch copy of the table).
    op.create_index(
        'uq_result_assessment_id_current', 'result', ['assessment_id'], unique=True,
        sqlite_where=sa.text('current'), postgresql_where=sa.text('current'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('uq_result_assessment_id_current', table_name='result')
