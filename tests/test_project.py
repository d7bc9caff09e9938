"""The promises the repository makes to a newcomer and to CI."""

import re
import tomllib
from pathlib import Path

from tests.clock import faketime_misuse

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r'```sh\n(.+?)\n```', (ROOT / 'README.md').read_text(encoding='utf-8'))


def test_the_readme_has_exactly_two_set_up_commands_start_and_test():
    start, test = readme_commands()
    assert start.startswith('python3 -m venv .venv') and start.endswith('kundenportal serve')
    assert test.startswith('python3 -m venv .venv') and test.endswith('pytest')


def test_ci_runs_the_readmes_test_command_verbatim():
    assert readme_commands()[1] in (ROOT / '.ci' / 'run').read_text(encoding='utf-8')


def test_ci_runs_ruff_the_format_check_and_mypy_before_the_tests_and_stops_at_any_finding():
    script = (ROOT / '.ci' / 'run').read_text(encoding='utf-8')
    before_tests = script[: script.index(readme_commands()[1])]
    for check in ('ruff check .', 'ruff format --check .', 'mypy .'):
        assert f'\n.venv/bin/{check} || checks=1\n' in before_tests, check
    assert 'if [ "$checks" -ne 0 ]; then' in before_tests and '\n  exit 1\n' in before_tests


def test_the_package_installs_the_kundenportal_command_and_all_top_level_packages():
    project = tomllib.loads((ROOT / 'pyproject.toml').read_text(encoding='utf-8'))
    assert project['project']['scripts'] == {'kundenportal': 'service.cli:main'}
    assert project['tool']['setuptools']['packages']['find']['include'] == [
        'domain*',
        'storage*',
        'pages*',
        'api*',
        'service*',
        'profiles',
    ]


def test_domain_imports_neither_ui_nor_storage():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / 'domain').rglob('*.py')
        if re.search(r'^\s*(from|import)\s+(nicegui|storage|pages|service)\b', path.read_text(), re.M)
    ]
    assert offenders == []


def test_the_framework_patches_live_in_service_tuning_only():
    """What replaces a library's internals (or freezes the collector) is fenced in service/tuning/, with its guard."""
    patching = '|'.join(
        (r'gc\.freeze\(', r'gc\.callbacks', r'\bsio\.manager\s*=', r'\boutbox\.asyncio\s*=', r'dialect\.do_\w+\s*=')
        + (r'\b_create_user_storage\b', r'\bping_interval\b', r'\bhelpers\.\w+\s*=')
    )
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ('app.py', 'pages', 'storage', 'domain', 'api', 'service')
        for path in ((ROOT / folder).rglob('*.py') if (ROOT / folder).is_dir() else [ROOT / folder])
        if re.search(patching, path.read_text(encoding='utf-8')) and 'service/tuning' not in str(path)
    ]
    assert offenders == []


def test_pages_run_no_queries():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / 'pages').rglob('*.py')
        if re.search(r'(?<!ui\.)\b(select\(|session\.(exec|execute|query|add|commit))', path.read_text())
    ]
    assert offenders == []


def test_the_security_map_names_only_tests_that_exist():
    text = (ROOT / 'docs' / 'security.md').read_text(encoding='utf-8')
    references = re.findall(r'`((?:domain|storage|pages|browser)/test_\w+\.py)(?:::(\w+))?', text)
    assert references
    for path, name in references:
        source = (ROOT / 'tests' / path).read_text(encoding='utf-8')
        assert not name or re.search(rf'def {name}\(', source), f'{path}::{name} named in docs/security.md'
    everything = '\n'.join(p.read_text(encoding='utf-8') for p in (ROOT / 'tests').rglob('test_*.py'))
    for name in re.findall(r'…::(\w+)', text):
        assert re.search(rf'def {name}\(', everything), f'{name} named in docs/security.md'


def test_the_security_map_s_short_references_name_tests_of_the_file_named_before_them():
    """`…::name` is a test of the file the reference before it in the same cell names: a test of another file read
    as one of that file (two registration tests were listed under storage/test_service_desk.py)."""
    text = (ROOT / 'docs' / 'security.md').read_text(encoding='utf-8')
    for row in text.splitlines():
        path = None
        for reference in re.findall(r'`((?:(?:domain|storage|pages|browser)/test_\w+\.py|…)::\w+)`', row):
            where, name = reference.split('::')
            path = path if where == '…' else where
            assert path, f'{reference} follows no file in docs/security.md'
            source = (ROOT / 'tests' / path).read_text(encoding='utf-8')
            assert re.search(rf'def {name}\(', source), f'{reference} (in {path}) named in docs/security.md'


def test_the_rules_the_code_cites_are_sections_of_the_docs_in_the_repository():
    """`docs/domain.md §4` and `docs/design.md "Interfaces"` in code and profiles name sections that exist."""
    sections = {
        'domain': set(re.findall(r'^## (\d+)\.', (ROOT / 'docs' / 'domain.md').read_text(encoding='utf-8'), re.M)),
        'design': set(re.findall(r'^## (.+)$', (ROOT / 'docs' / 'design.md').read_text(encoding='utf-8'), re.M)),
    }
    cited, missing = 0, []
    for path in [*ROOT.glob('*.py'), *ROOT.glob('[!.]*/**/*.py'), *ROOT.glob('profiles/*.toml')]:
        text = path.read_text(encoding='utf-8')
        assert not re.search(r'\b(DOMAIN|DESIGN)\.md', text), f'{path.relative_to(ROOT)} cites the old sheets'
        for doc, reference in re.findall(r'docs/(domain|design)\.md (§\d+|"[^"]+")', text):
            cited += 1
            heading = reference.strip('§"')
            if not any(s == heading or s.startswith(heading) for s in sections[doc]):
                missing.append(f'{path.relative_to(ROOT)}: docs/{doc}.md {reference}')
    assert cited and missing == []


def test_the_suite_refuses_faketime_called_so_that_processes_disagree_or_sleeps_fail():
    given = {'LD_PRELOAD': '/usr/$LIB/faketime/libfaketime.so.1', 'FAKETIME': '+2314800s'}
    assert faketime_misuse({}) is None and faketime_misuse({'FAKETIME': '@2026-12-31 23:50:00'}) is None
    assert faketime_misuse(given) is None
    assert faketime_misuse({**given, 'FAKETIME': '-86400s', 'FAKETIME_DONT_FAKE_MONOTONIC': '0'}) is None
    monotonic = faketime_misuse({**given, 'FAKETIME_DONT_FAKE_MONOTONIC': '1'})
    assert monotonic and 'FAKETIME_DONT_FAKE_MONOTONIC' in monotonic
    absolute = faketime_misuse({**given, 'FAKETIME': '@2026-12-31 23:50:00'})
    assert absolute and 'offset' in absolute
    # the command README.md gives is one the suite accepts
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    seconds = "$(( $(date -d '2026-12-31 23:50:00Z' +%s) - $(date +%s) ))"
    assert f'`faketime -f "+{seconds}s" .venv/bin/python -m pytest`' in readme
