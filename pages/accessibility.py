"""Erklärung zur Barrierefreiheit (/barrierefreiheit), as the BFSG asks of a consumer service: how far the
portal meets WCAG 2.1 AA, what does not yet, how to report a barrier, and where to turn if we do not help."""

from nicegui import ui

from pages.forms import page_title
from pages.frame import public_frame
from pages.language import t
from service.runner import Portal

SECTIONS = ('service', 'status', 'gaps', 'assessment', 'feedback', 'enforcement')


def create(portal: Portal) -> None:
    @ui.page('/barrierefreiheit')
    def statement_page():
        p = portal.profile
        with public_frame(portal, t('accessibility.title')):
            page_title(t('accessibility.title'))
            for section in SECTIONS:
                ui.label(t(f'accessibility.{section}_title')).classes('text-h6 q-mt-md').props(
                    'role=heading aria-level=2'
                )
                ui.label(
                    t(
                        f'accessibility.{section}',
                        **p.names,
                        name=p.name,
                        email=p.email,
                        phone=p.phone,
                        street=p.street,
                        postal_code=p.postal_code,
                        city=p.city,
                    )
                ).classes('whitespace-pre-line')
