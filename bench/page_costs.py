"""bench/load.py's last part: what each main page costs to build for one customer with no other load, and the
dashboard's largest contentful paint in Chromium."""

import statistics
import time

from browser_tab import PASSWORD, Customer
from measure import ms

MAIN_PAGES = (
    '/uebersicht',
    '/vertraege',
    '/zaehlerstand',
    '/verbrauch',
    '/abschlag',
    '/rechnungen',
    '/kundendaten',
    '/posteingang',
    '/kontakt',
    '/einstellungen',
)


async def page_costs(base: str, account: tuple[str, str], rounds: int = 30) -> None:
    customer = Customer(base, *account)
    await customer.log_in()
    await customer.leave()
    print('page build, one customer, no other load (server answer of the HTTP request):')
    for path in MAIN_PAGES:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            async with customer.http.get(base + path) as answer:
                await answer.read()
            times.append(time.perf_counter() - started)
        print(f'  {path:<15} {ms(times)}')
    await customer.close()


def dashboard_lcp(base: str, email: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path='/usr/bin/chromium', args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        page.goto(base + '/')
        page.get_by_label('E-Mail-Adresse').fill(email)
        page.get_by_label('Passwort', exact=True).fill(PASSWORD)
        page.get_by_role('button', name='Anmelden').click()
        page.wait_for_url('**/uebersicht')
        values = []
        for _ in range(5):
            page.goto(base + '/uebersicht')
            page.wait_for_load_state('networkidle')
            values.append(
                page.evaluate("""() => new Promise(done => new PerformanceObserver(list => {
                const entries = list.getEntries(); done(entries[entries.length - 1].startTime);
            }).observe({type: 'largest-contentful-paint', buffered: true}))""")
            )
        browser.close()
    print(
        f'dashboard LCP in Chromium (1280×900, loopback): p50 {statistics.median(values):.0f} ms, '
        f'max {max(values):.0f} ms over {len(values)} loads'
    )
