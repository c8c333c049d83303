"""The index on dimension_score (dimension, score) also holds result_id, so that matching
partners (a dimension's scores above a threshold, and whose result they are) reads the index
alone, never the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 11:05:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('dimension_score', schema=None) as batch_op:
        batch_op.create_index('ix_dimension_score_dimension_score_result_id', ['dimension', 'score', 'result_id'], unique=False)
        batch_op.drop_index('ix_dimension_score_dimension_score')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('dimension_score', schema=None) as batch_op:
        batch_op.create_index('ix_dimension_score_dimension_score', ['dimension', 'score'], unique=False)
        batch_op.drop_index('ix_dimension_score_dimension_score_result_id')
