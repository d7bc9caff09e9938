"""How a use case runs, declared where it is defined (the runner, `service.runner.Portal`, reads it).

- `@hashing`: it hashes a password (argon2id, deliberately slow): on the hashing threads, with a bounded wait.
- undeclared: a worker thread (a page's reads and a reading submission as much as PDFs, the back office's
  searches, imports and exports), where a long run blocks no one. (Short customer transactions used to run
  directly on the event loop on SQLite; measured against a worker thread on 2.12.2026 they no longer paid off:
  docs/operations.md, "Tuning on and off".)
"""

from collections.abc import Callable
from typing import Literal, TypeVar

Way = Literal['thread', 'hashing']
F = TypeVar('F', bound=Callable[..., object])
_ATTRIBUTE = '__kundenportal_runs__'


def hashing(use_case: F) -> F:
    setattr(use_case, _ATTRIBUTE, 'hashing')
    return use_case


def way_of(use_case: Callable[..., object]) -> Way:
    return getattr(use_case, _ATTRIBUTE, 'thread')
