"""Enqueueing a job as one more statement of a call-log write.

A webhook's write goes to PostgreSQL as one statement (tracking/sql.py). The row django-tasks-db's
`DatabaseBackend.enqueue` would insert can join that statement, so a job costs the caller no
round trip and commits with the change that causes it, or not at all. With another backend
(none in production), `statement` returns None and the caller enqueues as usual.
"""

from __future__ import annotations

from typing import Any

from django_tasks.base import Task
from django_tasks.utils import normalize_json
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from tracking import sql


def statement(task: Task, *args: Any, **kwargs: Any) -> sql.Statement | None:
    """The INSERT of the job `task(*args, **kwargs)`, as its backend would write it."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return None
    backend.validate_task(task)
    row = DBTaskResult(
        args_kwargs=normalize_json({"args": list(args), "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after or get_date_max(),
        backend_name=backend.alias,
    )
    return sql.insert_new([row])
