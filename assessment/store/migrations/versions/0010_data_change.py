"""data_change, and notes that outlive their author's account.

data_change: one row counting the changes the workspace's kept sector analyses cannot see
in the results (a sharing choice withdrawn or given, assessments erased), so that every server
process counts its analyses again after them.

note.author_id becomes nullable: ``recentre user remove`` deletes an account and keeps the
notes it wrote, without their author.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-10 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    table = op.create_table(
        'data_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('changes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_change')),
    )
    op.bulk_insert(table, [{'id': 1, 'changes': 0}])
    # Batch mode copies the note table on SQLite; no other table refers to it.
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute('DELETE FROM note WHERE author_id IS NULL')
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('data_change')
