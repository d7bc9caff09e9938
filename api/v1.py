"""/api/v1: the billing system's way in and out, documented by its OpenAPI schema at /api/v1/openapi.json.

Authentication is a bearer token created by an admin in the back office (`read` or `write`). Writes take
the columns of the CSV files in docs/domain.md §7 (as JSON strings or numbers) and are all or nothing:
a request with one bad row changes nothing and answers 422 with an error per row and field.
"""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nicegui import run
from pydantic import BaseModel, Field, field_validator
from starlette.responses import JSONResponse

from domain.api_tokens import allows, authenticate, changes
from domain.bills import deliver_bill_copies
from domain.contract_requests import api_answer
from domain.errors import FieldRequired, NotAllowed, StorageUnavailable, TokenRevoked, TooLong
from domain.model import ApiToken, id_of
from service.runner import Portal

Value = str | int | float | bool | None
MAX_ROWS = 5000
MAX_XML = 2_000_000  # characters of one e-invoice XML
FLAGS = frozenset({'paperless'})  # the columns of 0 or 1: the only ones a JSON boolean is taken for
KINDS = ('customers', 'contracts', 'meters', 'prices', 'installments', 'payments')
KEYS = {  # the columns a row is matched on (docs/import-format.md; the import's own keys, checked by a test)
    'customers': ('customer_number',),
    'contracts': ('contract_number',),
    'meters': ('meter_number',),
    'prices': ('tariff_code', 'valid_from'),
    'installments': ('contract_number', 'valid_from'),
    'payments': ('contract_number', 'paid_on'),
}


class Rows(BaseModel):
    rows: list[dict[str, Value]] = Field(max_length=MAX_ROWS, description='one object per CSV row, keyed by column')


class Bills(Rows):
    pdfs: dict[str, str] = Field(
        default_factory=dict, max_length=MAX_ROWS, description='bill_number → the bill as base64-encoded PDF (optional)'
    )
    xmls: dict[str, Annotated[str, Field(max_length=MAX_XML)]] = Field(
        default_factory=dict,
        max_length=MAX_ROWS,
        description='bill_number → the bill as e-invoice: its CII XML (Factur-X/ZUGFeRD EN 16931 or XRechnung), as '
        'text (optional; checked against the EN 16931 schema, its invoice number must be the bill_number; the '
        'customer can download it beside the PDF)',
    )


class Upserted(BaseModel):
    created: int
    updated: int
    unchanged: int


class ChangeOut(BaseModel):
    id: int
    at: datetime
    kind: str = Field(
        description='reading_submitted, reading_accepted and reading_rejected (details: meter, date and the values of '
        'a reading flagged implausible that staff confirmed: to be billed, or rejected: not to be billed), '
        'installment_changed, bank_account_changed, '
        'mandate_revoked, contact_data_changed, paperless_on, paperless_off, bill_copy_requested (details: '
        'bill=<number>; answer with POST /bills carrying its PDF), cancellation_received, move_reported, '
        'tariff_change_requested (details: request=<id> and every declared field; answer with POST '
        '/requests/<id>/answer), contract_request_answered (details: request=<id>, kind, status accepted or rejected)'
    )
    customer_number: str
    details: str


class RequestAnswer(BaseModel):
    accepted: bool = Field(description='true: the request is settled as asked; false: it is not (say why)')
    message: str = Field(min_length=1, max_length=2000, description='for the customer, in German')

    @field_validator('message')
    @classmethod
    def _no_control_characters(cls, value: str) -> str:  # a NUL byte: PostgreSQL refuses it, a mail garbles it
        if not all(ch.isprintable() or ch in '\r\n\t' for ch in value):
            raise ValueError('the message contains control characters')
        return value


class ChangesOut(BaseModel):
    items: list[ChangeOut]
    cursor: int = Field(description='send it back as ?cursor= to acknowledge this page and get the next one')
    has_more: bool


class RowError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str = 'value_error'


class Invalid(BaseModel):
    detail: list[RowError]


class UpsertResult(Protocol):
    """What `upsert` answers (storage's RowsResult)."""

    created: int
    updated: int
    unchanged: int
    errors: list[tuple[int, str, str]]  # (row index, column, reason)


Upsert = Callable[[str, list[dict[str, str]], dict[str, bytes] | None, str, dict[str, bytes] | None, int], UpsertResult]


class _Json(JSONResponse):
    """JSON in ASCII: a lone surrogate from the request (`"\\ud800"` is valid JSON) echoed in an error is escaped,
    where UTF-8 could not encode it (a 500 for the client's own bad input)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(',', ':')).encode()


async def _invalid(request: Request, error: Exception) -> Response:
    """422 as the schema's `Invalid` documents it (loc, msg, type), without echoing the input."""
    if not request.url.path.startswith('/api/v1/') or not isinstance(error, RequestValidationError):
        return await request_validation_exception_handler(request, error)  # type: ignore[arg-type]
    detail = [{'loc': list(e['loc']), 'msg': e['msg'], 'type': e['type']} for e in error.errors()]
    return _Json(status_code=422, content={'detail': detail})


def _revoked() -> HTTPException:
    return HTTPException(401, 'token missing, unknown or revoked', headers={'WWW-Authenticate': 'Bearer'})


def create(app: FastAPI, portal: Portal, upsert: Upsert) -> None:
    """Register the routes; `upsert(kind, rows, pdfs, actor, xmls, token_id)` is storage's checked import (a
    RowsResult), which checks the token again in its own transaction (NotAllowed: revoked meanwhile)."""
    router = APIRouter(prefix='/api/v1', tags=['Abrechnungssystem'])
    bearer = HTTPBearer(auto_error=False, description='token from Verwaltung → API-Zugänge')

    def access(needed: Literal['read', 'write']):
        async def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> ApiToken:
            token = None
            if credentials is not None and credentials.scheme.lower() == 'bearer':
                token = await portal.act(authenticate, credentials.credentials)
            if token is None:
                raise _revoked()
            if not allows(token, needed):
                raise HTTPException(403, 'this token may only read')
            return token

        return check

    responses: dict[int | str, dict[str, Any]] = {
        401: {'description': 'no valid token'},
        403: {'description': 'token without write scope'},
        422: {'model': Invalid, 'description': 'bad input, per row and field; nothing was changed'},
    }

    @router.get('/changes', response_model=ChangesOut, responses=responses)
    async def get_changes(
        token: Annotated[ApiToken, Depends(access('read'))],
        cursor: Annotated[int | None, Query(ge=0, le=2**53)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> ChangesOut:
        """What customers changed, oldest first; each change reaches a token exactly once (see `cursor`)."""
        try:
            page = await portal.read(changes, token.id, cursor, limit)
        except NotAllowed:  # revoked after the request's check: as if revoked before
            raise _revoked() from None
        return ChangesOut(
            items=[ChangeOut(**c.__dict__) for c in page.items], cursor=page.cursor, has_more=page.has_more
        )

    async def _upsert(
        kind: str,
        body: Rows,
        token: ApiToken,
        pdfs: dict[str, bytes] | None = None,
        xmls: dict[str, bytes] | None = None,
    ) -> Upserted | JSONResponse:
        flags = [  # `true` in another column became "1": a customer number 1, a payment of 1 €
            {
                'loc': ['body', 'rows', index, column],
                'msg': 'a boolean only in a column of 0 or 1',
                'type': 'type_error',
            }
            for index, row in enumerate(body.rows)
            for column, value in row.items()
            if isinstance(value, bool) and column not in FLAGS
        ]
        if flags:
            return _Json(status_code=422, content={'detail': flags[:200]})
        rows = [
            {k: '' if v is None else ('1' if v is True else '0' if v is False else str(v)) for k, v in row.items()}
            for row in body.rows
        ]
        try:
            result = await run.io_bound(upsert, kind, rows, pdfs, f'api:{token.id}', xmls, id_of(token))
        except NotAllowed:
            raise _revoked() from None
        if result is None:  # NiceGUI's answer when the portal is stopping
            raise HTTPException(503, 'the portal is shutting down')
        if result.errors:
            return _Json(
                status_code=422,
                content={
                    'detail': [
                        {
                            'loc': ['body', 'rows', index, *([column] if column else [])],
                            'msg': reason,
                            'type': 'value_error',
                        }
                        for index, column, reason in result.errors[:200]
                    ]
                },
            )
        return Upserted(created=result.created, updated=result.updated, unchanged=result.unchanged)

    for kind in KINDS:

        def make(kind: str):
            async def put(body: Rows, token: Annotated[ApiToken, Depends(access('write'))]) -> Upserted | JSONResponse:
                return await _upsert(kind, body, token)

            put.__doc__ = (
                f'Create or update {kind} (columns of {kind}.csv): a row whose {" and ".join(KEYS[kind])} match a '
                'stored one updates it.'
            )
            return put

        router.add_api_route(
            f'/{kind}', make(kind), methods=['PUT'], response_model=Upserted, responses=responses, name=f'upsert_{kind}'
        )

    @router.post('/readings', response_model=Upserted, responses=responses)
    async def post_readings(
        body: Rows, token: Annotated[ApiToken, Depends(access('write'))]
    ) -> Upserted | JSONResponse:
        """Readings taken by the utility or read remotely (columns of readings.csv)."""
        return await _upsert('readings', body, token)

    @router.post('/bills', response_model=Upserted, responses=responses)
    async def post_bills(body: Bills, token: Annotated[ApiToken, Depends(access('write'))]) -> Upserted | JSONResponse:
        """Bills made by the billing system (columns of bills.csv), each optionally with its PDF and, for a business
        customer, its e-invoice XML."""
        pdfs: dict[str, bytes] = {}
        errors = []
        numbers = {str(r.get('bill_number', '')).strip() for r in body.rows}  # as the import stores them
        for number, encoded in body.pdfs.items():
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                content = b''
            if not content.startswith(b'%PDF'):
                errors.append(
                    {'loc': ['body', 'pdfs', number], 'msg': 'not a base64-encoded PDF', 'type': 'value_error'}
                )
            elif number.strip() not in numbers:
                errors.append(
                    {'loc': ['body', 'pdfs', number], 'msg': 'no row with this bill_number', 'type': 'value_error'}
                )
            pdfs[number.strip()] = content
        for number in body.xmls:
            if number.strip() not in numbers:
                errors.append(
                    {'loc': ['body', 'xmls', number], 'msg': 'no row with this bill_number', 'type': 'value_error'}
                )
        if errors:
            return _Json(status_code=422, content={'detail': errors})
        xmls = {number.strip(): text.encode() for number, text in body.xmls.items()}
        answer = await _upsert('bills', body, token, pdfs, xmls)
        if pdfs and isinstance(answer, Upserted):
            await portal.act(deliver_bill_copies)  # copies customers asked for reach them now
        return answer

    @router.post(
        '/requests/{request_id}/answer',
        status_code=204,
        responses={**responses, 404: {'description': 'no open request with this id'}},
    )
    async def answer_request(
        request_id: Annotated[int, Path(ge=1, le=2**53)],
        body: RequestAnswer,
        token: Annotated[ApiToken, Depends(access('write'))],
    ) -> Response:
        """Settle a cancellation, move or tariff change from the change feed (`request=<id>` in its details): the
        customer finds the message in the inbox and by mail at the address the confirmation went to."""
        try:
            await portal.act(api_answer, id_of(token), request_id, body.accepted, body.message)
        except TokenRevoked:
            raise _revoked() from None
        except NotAllowed:
            raise HTTPException(404, 'no open request with this id') from None
        except StorageUnavailable:
            raise HTTPException(503, 'the database is unavailable, try again') from None
        except (FieldRequired, TooLong):  # a message of blanks only (any other failure is not the message's)
            detail = [{'loc': ['body', 'message'], 'msg': 'the message is empty', 'type': 'value_error'}]
            return _Json(status_code=422, content={'detail': detail})
        return Response(status_code=204)

    app.include_router(router)
    app.add_exception_handler(RequestValidationError, _invalid)

    @app.get('/api/v1/openapi.json', include_in_schema=False)
    def openapi() -> dict:
        return get_openapi(
            title=f'Kundenportal API – {portal.profile.name}', version='1', description=__doc__, routes=router.routes
        )
