"""Alembic's entry point: run by ``recentre db upgrade``, by the tests and by ``alembic``."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection, make_url

from assessment.settings import database_url_from_env
from assessment.store.db import create_engine
from assessment.store.models import Base

config = context.config

# Only a developer's `alembic` command has an .ini file; the application configures logging itself.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url_from_env()


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = make_url(database_url())
    context.configure(
        url=url,
        target_metadata=target_metadata,
        render_as_batch=url.get_backend_name() == "sqlite",
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_new_engine() -> None:
    engine = create_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    # A caller already inside an event loop (the tests, the server) lends its own connection,
    # as asyncio.run() cannot be called there; see assessment.store.db.upgrade_async.
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_on_new_engine())
    else:
        raise RuntimeError("migrations were started from a running event loop: use assessment.store.db.upgrade_async")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
