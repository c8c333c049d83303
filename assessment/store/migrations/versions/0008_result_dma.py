"""result.dma and result.dma_*: the EU DMA score of a result and its six dimension scores
(the profile's "dma" object), so that the EDIH exports read them as columns. Results stored
before have no "dma" in their profile (no questionnaire version declared one), so there is
nothing to fill in: they stay null until ``recentre rescore`` scores them again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (
    'dma',
    'dma_digital_business_strategy',
    'dma_digital_readiness',
    'dma_human_centric_digitalisation',
    'dma_data_management',
    'dma_automation_ai',
    'dma_green_digitalisation',
)


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMNs, which SQLite does in place: batch mode would copy the table for nothing.
    for name in COLUMNS:
        op.add_column('result', sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    # A plain DROP COLUMN (SQLite has it since 3.35): batch mode would drop and recreate the
    # table, and dropping it deletes every dimension score with it (ON DELETE CASCADE).
    for name in reversed(COLUMNS):
        op.execute(f'ALTER TABLE result DROP COLUMN {name}')
