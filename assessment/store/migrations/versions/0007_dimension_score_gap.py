"""dimension_score.gap: whether the dimension is among the result's gaps, so that the sector
analysis counts the most common gaps with a SUM instead of ranking every result's scores.
Stored results get it from their own profile's ``gaps``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 11:35:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The profile JSON's "gaps" is the list the results page and the report show: the backfill
# reads it, rather than ranking scores again in SQL, so that both always agree.
BACKFILL = {
    "sqlite": """
        UPDATE dimension_score SET gap = 1
        WHERE EXISTS (
            SELECT 1 FROM result, json_each(result.profile, '$.gaps') AS g
            WHERE result.id = dimension_score.result_id AND g.value = dimension_score.dimension
        )
    """,
    "postgresql": """
        UPDATE dimension_score SET gap = true
        FROM result, json_array_elements_text(result.profile::json -> 'gaps') AS g(dimension)
        WHERE result.id = dimension_score.result_id AND g.dimension = dimension_score.dimension
    """,
}


def upgrade() -> None:
    """Upgrade schema."""
    # A plain ADD COLUMN, which SQLite does in place: batch mode would reflect and copy the
    # table for nothing.
    op.add_column('dimension_score', sa.Column('gap', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('dimension_score', schema=None) as batch_op:
        batch_op.drop_column('gap')
