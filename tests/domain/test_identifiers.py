import pytest

from domain.identifiers import (
    is_creditor_id,
    is_digits,
    is_email,
    is_iban,
    is_malo_id,
    is_melo_id,
    is_vat_id,
    looks_like_email,
    malo_check_digit,
    mask_iban,
    normalise,
    normalise_email,
)


@pytest.mark.parametrize(
    ('raw', 'expected'),
    [
        (' 1 EBZ 01 0000 0619 ', '1EBZ0100000619'),
        ('4123.4567', '41234567'),
        ('ir-1234/5678', 'IR12345678'),
        ('', ''),
    ],
)
def test_identifiers_are_normalised_before_comparing(raw, expected):
    assert normalise(raw) == expected


def test_the_malo_vector_is_valid():
    assert is_malo_id('41373559241')


def test_malo_check_digit_is_not_luhn():
    assert malo_check_digit('4137355924') == 1
    assert not is_malo_id('41373559242')


@pytest.mark.parametrize('raw', ['01373559241', '4137355924', '413735592411', 'A1373559241'])
def test_malformed_malo_ids_are_rejected(raw):
    assert not is_malo_id(raw)


def test_messlokation_has_33_characters_and_no_check_digit():
    assert is_melo_id('DE0001234567890ABCDEFGHIJ0123456789'[:33])
    assert not is_melo_id('DE000123456789')


@pytest.mark.parametrize('iban', ['DE89 3704 0044 0532 0130 00', 'de89370400440532013000', 'AT611904300234573201'])
def test_valid_ibans_pass_format_and_mod97(iban):
    assert is_iban(iban)


@pytest.mark.parametrize('iban', ['DE89370400440532013001', 'DE8937040044053201300', 'XX', '', 'DE00ABC'])
def test_invalid_ibans_fail(iban):
    assert not is_iban(iban)


def test_an_iban_is_shown_masked():
    assert mask_iban('DE89370400440532013000') == 'DE89 •••• •••• 3000'


def test_the_creditor_identifier_vector_is_valid():
    assert is_creditor_id('DE98ZZZ09999999999')
    assert not is_creditor_id('DE97ZZZ09999999999')


@pytest.mark.parametrize(
    ('raw', 'ok'),
    [
        ('erika@example.org', True),
        ('a@b.de', True),
        ('erika@', False),
        ('erika example.org', False),
        ('x@y', False),
        ('m\u00fcller@b\u00fccher.de', True),
        ("o'brien+rechnung@example.org", True),
        ('kunde@xn--bcher-kva.de', True),
        ('erika@example.org;', False),  # what a relay refuses (501 5.1.3): never taken by a form of the portal
        ('erika@example.org,', False),
        ('erika@example..org', False),
        ('erika.@example.org', False),
        ('<erika@example.org>', False),
        ('erika@-example.org', False),
    ],
)
def test_email_addresses_are_checked_for_shape(raw, ok):
    assert is_email(normalise_email(raw)) is ok


def test_the_import_takes_the_billing_system_s_address_if_it_has_an_address_s_shape():
    """A stray ';' in one customer's address must not stop the whole file: the mail to it is given up and staff see
    it on the customer's card; the portal's forms take only what `is_email` takes."""
    assert looks_like_email('erika@example.org;') and not is_email('erika@example.org;')
    assert not looks_like_email('erika example.org') and not looks_like_email('x@y')


def test_email_addresses_are_compared_in_lower_case():
    assert normalise_email('  Erika@Example.ORG ') == 'erika@example.org'


@pytest.mark.parametrize(('text', 'digits'), [('0815', True), ('', False), ('²', False), ('12³', False), ('٣', False)])
def test_only_ascii_digits_are_digits(text, digits):
    """`str.isdigit` takes '²' (which `int` refuses) and '٣' (which it reads as 3): numbers from outside do not."""
    assert is_digits(text) is digits


def test_a_vat_id_of_superscript_digits_is_no_vat_id():
    assert not is_vat_id('DE²²²²²²²²²')


def _with_check_digits(country: str, bban: str) -> str:
    """An IBAN with the right mod-97 check digits for `bban`, whatever its length."""
    digits = ''.join(str(int(c, 36)) for c in bban + country + '00')
    return f'{country}{98 - int(digits) % 97:02d}{bban}'


@pytest.mark.parametrize(
    ('iban', 'valid'),
    [
        ('IT60X0542811101000000123456', True),
        ('ES9121000418450200051332', True),
        ('NO9386011117947', True),
        ('MT84MALT011000012345MTLCAST001S', True),
        (_with_check_digits('IT', 'X054281110100000012345'), False),  # a character short: mod 97 alone took it
        (_with_check_digits('ES', '2100041845020005133'), False),
        ('BR1800360305000010009795493C1', False),  # not a SEPA country: no mandate, no transfer
        (_with_check_digits('US', '12345678901234'), False),
        (_with_check_digits('DE', '37040044053201300A'), False),  # a German account number is digits only
        (_with_check_digits('NL', '0417ABNA164300'), False),  # the Dutch bank code is four letters, first
    ],
)
def test_an_iban_has_its_sepa_country_s_length(iban, valid):
    assert is_iban(iban) is valid
