"""Tasks for the mock desktop: data files with an instruction, an initial state, a declarative success check and a
reference solution.

    from guiagent.envs.mock.tasks import load_suite, get_task
    task = get_task("rename-file")
    desk = MockDesktop(task=task)
    ...
    result = task.check(desk)          # CheckResult(success, reasons)

See ``suite.py`` for the file format, ``predicates.py`` for the checks and ``plan.py`` for solution steps.
"""

from guiagent.envs.mock.tasks.predicates import (
                                            PREDICATES,
                                            compile_predicate,
                                            predicate_names,
)
from guiagent.envs.mock.tasks.suite import (
                                            APPS,
                                            DIFFICULTIES,
                                            TAGS,
                                            CheckResult,
                                            Task,
                                            get_task,
                                            load_suite,
                                            load_task_file,
                                            parse_task,
)

__all__ = ["APPS", "DIFFICULTIES", "PREDICATES", "TAGS", "CheckResult", "Task", "compile_predicate", "get_task",
           "load_suite", "load_task_file", "parse_task", "predicate_names"]
