"""Verwaltung: the staff's login with two factors, the service desk, requests and changes, and for admins the
exchange with the billing system, settings and the staff list; one module per area."""

from pages import staff_admin, staff_changes, staff_desk, staff_login, staff_requests, staff_settings
from service.runner import Portal


def create(portal: Portal) -> None:
    for area in (staff_login, staff_desk, staff_requests, staff_changes, staff_admin, staff_settings):
        area.create(portal)
