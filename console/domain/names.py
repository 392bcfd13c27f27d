"""The OS account running this process, from the uid and never from `$USER`.

On a shared bastion, setting an environment variable must not let anyone act as
someone else, so the name comes from the password database.
"""

from __future__ import annotations

import os
import pwd


def current_user() -> str:
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"
