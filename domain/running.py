"""How a use case runs, declared where it is defined (the runner, `service.runner.Portal`, reads it).

- `@hashing`: it hashes a password (argon2id, deliberately slow): on the hashing threads, with a bounded wait.
- `@quick`: a short transaction of a customer's page, a handful of indexed queries: on SQLite it runs directly on
  the event loop unless it would have to wait for another writer.
- undeclared: a worker thread (PDFs, the back office's searches, imports and exports), where a long run blocks
  no one.
"""

from collections.abc import Callable
from typing import Literal, TypeVar

Way = Literal['thread', 'hashing', 'quick']
F = TypeVar('F', bound=Callable[..., object])
_ATTRIBUTE = '__kundenportal_runs__'


def hashing(use_case: F) -> F:
    setattr(use_case, _ATTRIBUTE, 'hashing')
    return use_case


def quick(use_case: F) -> F:
    setattr(use_case, _ATTRIBUTE, 'quick')
    return use_case


def way_of(use_case: Callable[..., object]) -> Way:
    return getattr(use_case, _ATTRIBUTE, 'thread')
