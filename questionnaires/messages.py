"""``N_``, the mark of a message written once, in English, where it is defined.

``pybabel extract`` (babel.cfg) finds the marked messages and puts them in the gettext
catalogs; the page, PDF or error that shows one translates it there, with the reader's
catalog (``scoring.render.i18n``). It lives in the lowest layer so that every layer marks its
own messages: reference names, the store's refusals, the web's headings.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Returns ``message`` unchanged: the mark is for the catalogs, not for the program."""
    return message
