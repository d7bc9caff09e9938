"""Nobody locked out (issue 23) on SQLite and PostgreSQL: a customer who cannot read the login address any more asks
for a new one; staff check and set it, from the review queue or the service desk."""

import pytest
from sqlmodel import Session, select

from domain import accounts, lost_access, requests
from domain.accounts import login, session_is_valid
from domain.errors import EmailInvalid, EmailOfAnotherLogin, NotAllowed, TokenInvalid, TooManyAttempts
from domain.identification import Identifiers
from domain.model import AuditEntry, PortalUser, ReviewItem
from tests.factories import PASSWORD, link_in, mails_to, make_customer, make_login
from tests.storage.conftest import run


@pytest.fixture
def lotte(engine):
    customer = make_customer(engine, last_name='Lotte')
    account = make_login(engine, [customer['id']], email='lotte@alt.example')
    return customer, account


def ask(uow, context, customer, email='lotte@neu.example', meter=None, address='192.0.2.7'):
    ids = Identifiers(customer['customer_number'], meter if meter is not None else customer['meter_number'])
    ctx = context(address=address)
    return run(uow, lost_access.request_new_login_email, ctx, ' Lotte  Muster ', ids, email, '0351 123')


def reviews(engine):
    with Session(engine) as session:
        return list(session.exec(select(ReviewItem).where(ReviewItem.kind == 'lost_access')))


def test_a_request_with_matching_numbers_reaches_staff_and_the_new_address_hears_of_it(uow, context, lotte, engine):
    customer, _ = lotte
    assert ask(uow, context, customer) == 'lotte@neu.example'
    [item] = reviews(engine)
    assert item.customer_id == customer['id'] and item.status == 'open'
    assert item.details == 'new_email=lotte@neu.example phone=0351123' and item.reason == 'Name: Lotte Muster'
    [received] = mails_to(engine, 'lotte@neu.example')
    assert 'Anfrage erhalten' in received.text and 'ein Passwort festlegen' in received.text
    assert mails_to(engine, 'lotte@alt.example') == []  # nothing changes before staff have checked
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).one().email == 'lotte@alt.example'
        actions = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.customer_id == customer['id']))]
    assert 'lost_access_requested' in actions


def test_the_answer_is_the_same_whether_the_numbers_match_or_not(uow, context, lotte, engine):
    customer, _ = lotte
    nobody = make_customer(engine, last_name='Ohnezugang')  # a customer without a login
    answers = [
        ask(uow, context, customer, email='a@neu.example', meter='000000', address='192.0.2.1'),
        ask(uow, context, nobody, email='b@neu.example', address='192.0.2.2'),
        ask(uow, context, {'customer_number': '49999999', 'meter_number': 'X1'}, 'c@neu.example', address='192.0.2.3'),
    ]
    assert answers == ['a@neu.example', 'b@neu.example', 'c@neu.example']
    assert reviews(engine) == []  # staff see only requests whose numbers belong to a login
    for email in ('a@neu.example', 'b@neu.example', 'c@neu.example'):
        assert len(mails_to(engine, email)) == 1  # every address gets the same confirmation


def test_requests_are_throttled_per_client_address_and_checked(uow, context, lotte):
    customer, _ = lotte
    with pytest.raises(EmailInvalid) as invalid:
        ask(uow, context, customer, email='keine-adresse')
    assert invalid.value.field == 'new_email'
    with pytest.raises(TooManyAttempts):
        for n in range(30):
            ask(uow, context, customer, email=f'lotte{n}@neu.example')


def test_staff_accept_a_request_the_login_moves_and_both_addresses_hear_of_it(uow, context, clerk, lotte, engine):
    customer, account = lotte
    session_before = run(uow, login, context(), 'lotte@alt.example', PASSWORD)
    with uow() as u:  # a change of address asked for in that session, not confirmed before the move
        accounts.request_email_change(u, context(), account['id'], 'lotte@dritte.example', PASSWORD)
    change_link = link_in(mails_to(engine, 'lotte@dritte.example')[-1].text, '/email-bestaetigen/')
    ask(uow, context, customer)
    [item] = reviews(engine)
    run(uow, requests.decide_review, context(), clerk, item.id, True, 'Telefonisch bestätigt.')
    with Session(engine) as session:
        user = session.exec(select(PortalUser)).one()
        assert user.email == 'lotte@neu.example'
        assert session.get(ReviewItem, item.id).status == 'accepted'
    set_password = mails_to(engine, 'lotte@neu.example')[-1]
    assert '/passwort-neu/' in link_in(set_password.text, '/passwort-neu/')
    told = mails_to(engine, 'lotte@alt.example')[-1]  # after the notice of the change asked for before
    assert 'lotte@neu.example' in told.text and 'sofort an' in told.text
    # the password stays valid (with the new address), every earlier session has ended
    with uow() as u:
        assert not session_is_valid(u, account['id'], session_before.epoch)
    assert run(uow, login, context(), 'lotte@neu.example', PASSWORD).user_id == account['id']
    with uow() as u, pytest.raises(TokenInvalid):  # the earlier change of address no longer goes through
        accounts.confirm_email_change(u, context(), change_link.rsplit('/', 1)[1])


def test_staff_decline_a_request_and_the_address_that_asked_hears_why(uow, context, clerk, lotte, engine):
    customer, _ = lotte
    ask(uow, context, customer)
    [item] = reviews(engine)
    run(uow, requests.decide_review, context(), clerk, item.id, False, 'Wir konnten Sie nicht erreichen.')
    assert 'Wir konnten Sie nicht erreichen.' in mails_to(engine, 'lotte@neu.example')[-1].text
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).one().email == 'lotte@alt.example'


def test_the_service_desk_sets_a_new_login_address(uow, context, clerk, lotte, engine):
    customer, _ = lotte
    ask(uow, context, customer)
    other = make_customer(engine, last_name='Andere')
    make_login(engine, [other['id']], email='belegt@example.org')
    with pytest.raises(EmailOfAnotherLogin):
        run(uow, lost_access.set_login_email, context(), clerk, customer['id'], 'Belegt@Example.org')
    with pytest.raises(EmailInvalid):
        run(uow, lost_access.set_login_email, context(), clerk, customer['id'], 'nicht gültig')
    assert run(uow, lost_access.set_login_email, context(), clerk, customer['id'], 'Lotte@Neu.example ') == (
        'lotte@neu.example'
    )
    assert [item.status for item in reviews(engine)] == ['accepted']  # the open request is done with it
    with Session(engine) as session:
        assert session.exec(select(PortalUser).where(PortalUser.email == 'lotte@neu.example')).one()
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'staff_set_login_email')).one()
    assert entry.actor == f'staff:{clerk}' and 'old=lotte@alt.example' in entry.details
    with pytest.raises(NotAllowed):  # a customer without a login has no address to move
        run(uow, lost_access.set_login_email, context(), clerk, make_customer(engine)['id'], 'x@neu.example')


def test_the_phone_field_cannot_name_another_new_login_address(uow, context, clerk, lotte, engine):
    """The request's facts are kept as `key=value` text: a tab in the phone number ("0351<TAB>new_email=…") added a
    second `new_email`, and accepting the request moved the login to that unchecked address."""
    from domain.errors import InvalidFormat
    from domain.identification import Identifiers

    customer, _ = lotte
    ids = Identifiers(customer['customer_number'], customer['meter_number'])
    with pytest.raises(InvalidFormat):
        run(uow, lost_access.request_new_login_email, context(), 'Lotte', ids, 'lotte@neu.example', '0351\tnew_email=X')
    assert reviews(engine) == []
    run(uow, lost_access.request_new_login_email, context(), 'Lotte', ids, 'lotte@neu.example', '+49 (0)351 / 12-34')
    [item] = reviews(engine)
    assert item.details == 'new_email=lotte@neu.example phone=+49(0)351/12-34'
