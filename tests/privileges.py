"""Run test code as an unprivileged user (CI runs as root, which ignores file permissions)."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable


def as_nobody(action: Callable[[], object]) -> str:
    """Run ``action()`` in a forked child that dropped root privileges; return what it returned.

    A fork rather than a new interpreter: the unprivileged user may not be able to
    read the Python installation, but the already-imported code keeps working.
    """
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            message = str(action())
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            message = f"{type(exc).__name__}: {exc}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message
