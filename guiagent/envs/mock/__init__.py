"""The mock desktop: a fast, deterministic, in-process virtual desktop with six apps.

    from guiagent.envs.mock import MockDesktop
    desk = MockDesktop(initial_state={"open": ["editor"]})

See ``README.md`` in this folder for the API, the initial-state schema, the state schema and the a11y tree.
"""

from guiagent.envs.mock.a11y import A11yNode
from guiagent.envs.mock.desktop import MockDesktop, check_size

__all__ = ["A11yNode", "MockDesktop", "check_size"]
