"""Races on real connections: tasks started together on their own threads."""

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(tasks: list[Callable[[], object]]) -> list:
    """Start every task together (a barrier), each on its own thread and database connection;
    their outcomes, in the order they finished."""
    barrier = threading.Barrier(len(tasks))
    outcomes = []
    lock = threading.Lock()

    def run(task):
        try:
            barrier.wait(timeout=60)
            outcome = task()
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
