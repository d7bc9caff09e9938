"""What is wrong with an imported line: in English as the CLI, the API and the logs say it, and from the same
catalogue (domain/texts, `import_problem.*`) in the back office's language (German staff read 'is not an ISO date'
where every other text of theirs is German)."""

from domain.i18n import t


class RowProblem(ValueError):
    """A value the import refuses: its catalogue key and the facts it names (the column, the value as written, the
    limits). Its text is the English one."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = {name: str(value) for name, value in params.items()}
        super().__init__(t(f'import_problem.{key}', 'en', **self.params))


class Problem(str):
    """A wrong line as the import reports it, `file:line: reason` in English (what the CLI prints and the tests
    compare); `said(language)` is the same in another language."""

    where: str
    key: str
    params: dict[str, str]

    def __new__(cls, where: str, reason: str | Exception) -> 'Problem':
        made = super().__new__(cls, f'{where}: {reason}')
        made.where = where
        made.key, made.params = (reason.key, reason.params) if isinstance(reason, RowProblem) else ('', {})
        return made

    def said(self, language: str) -> str:
        """In `language`; a reason from elsewhere (the CSV reader's own) as it was given."""
        if not self.key:
            return str(self)
        return f'{self.where}: {t(f"import_problem.{self.key}", language, **self.params)}'
