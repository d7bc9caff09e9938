"""The demo utility's material (storage.demo): first names and surnames, streets, commodities with their tariffs,
consumption ranges and prices, and the tariffs a customer may change to."""

from decimal import Decimal

FIRST = {
    'Frau': [
        'Anna',
        'Marie',
        'Sophie',
        'Emma',
        'Lina',
        'Hannelore',
        'Ursula',
        'Renate',
        'Ingrid',
        'Özlem',
        'Katarzyna',
    ],
    'Herr': ['Jonas', 'Lukas', 'Paul', 'Felix', 'Ben', 'Günther', 'Jürgen', 'Klaus', 'Dieter', 'Mehmet'],
}
LAST = [
    'Müller',
    'Schmidt',
    'Schneider',
    'Fischer',
    'Weber',
    'Meyer',
    'Wagner',
    'Becker',
    'Schulz',
    'Hoffmann',
    'Koch',
    'Richter',
    'Klein',
    'Wolf',
    'Schröder',
    'Neumann',
    'Schwarz',
    'Zimmermann',
    'Braun',
    'Krüger',
]
STREETS = [
    'Hauptstraße',
    'Bahnhofstraße',
    'Gartenweg',
    'Lindenallee',
    'Schulstraße',
    'Am Markt',
    'Mühlenweg',
    'Birkenweg',
    'Kirchplatz',
    'Rosenstraße',
    'Wiesengrund',
    'Am Wasserturm',
]
# commodity: (tariff, unit, yearly consumption range, meter type digit, vat, working price net per year, base net)
# Prices per year, keyed by the year's distance from the current one (-3 … 0): the demo is made for the day it is
# built, so its last billed year is always the year before. Electricity changes mid-year (1 July): 0.2500 → 0.2650.
COMMODITIES = {
    'electricity': (
        'STROM-BASIS',
        'kWh',
        (1400, 5200),
        '1',
        Decimal('0.19'),
        {-3: '0.3100', -2: '0.2800', -1: '0.2500', 0: '0.2500'},
        '120.00',
    ),
    'gas': (
        'GAS-KOMFORT',
        'kWh',
        (7000, 24000),
        '7',
        Decimal('0.19'),
        {-3: '0.1200', -2: '0.1000', -1: '0.0900', 0: '0.0900'},
        '150.00',
    ),
    'water': (
        'WASSER',
        'm3',
        (35, 180),
        '8',
        Decimal('0.07'),
        {-3: '2.0500', -2: '2.1000', -1: '2.1000', 0: '2.1500'},
        '90.00',
    ),
    'heat': (
        'WAERME',
        'kWh',
        (5000, 15000),
        '6',
        Decimal('0.19'),
        {-3: '0.1300', -2: '0.1250', -1: '0.1200', 0: '0.1200'},
        '300.00',
    ),
}
# Tariffs a customer may change to (names in the profiles' [tariffs]): code, unit, working price net, base net
ALTERNATIVES = (
    ('STROM-OEKO', 'kWh', '0.2600', '110.00'),
    ('STROM-FIX24', 'kWh', '0.2400', '150.00'),
    ('GAS-FIX24', 'kWh', '0.0850', '180.00'),
)
