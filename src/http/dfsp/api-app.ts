// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's own APIs, for its channels and back office (never exposed to the switch), documented with
 * OpenAPI at /documentation:
 *
 * Outbound (synchronous over FSPIOP's callbacks, like the Mojaloop SDK's outbound API with auto-accepted
 * party and quote):
 *   POST /send                          look-up, quote and transfer in one call → SendOutcome
 *   GET  /parties/{Type}/{ID}[/{SubId}] a party look-up through the switch
 *   GET  /transfers/{transferId}        what this DFSP recorded of a transfer, in either role
 *
 * Customers:
 *   POST /customers                     create (and register with the oracle when automatic)
 *   GET  /customers                     list
 *   GET  /customers/{msisdn}            one customer
 *   GET  /customers/{msisdn}/balance    available, reserved, posted, incoming
 *   GET  /customers/{msisdn}/statement  the wallet's journal, newest first (?limit=&before=)
 *   POST /customers/{msisdn}/deposits   cash in
 *   POST /registrations                 register every customer's party ids with the oracle again
 *   GET  /position                      the DFSP's own view of its scheme position (sent, received, in flight, net, fees)
 *   POST /customers/{msisdn}/otp        {amount?, currency?} → an OTP for a cash-out or payment at a device, sent
 *                                       by SMS (never in the answer) → 201 {otpId, expiresAt, retriesLeft}
 *   POST /customers/{msisdn}/qrcode     {amount?, currency?} → a one-time QR code for a POS payment, for the wallet
 *                                       app to draw (never sent by SMS) → 201 {qrCodeId, code, expiresAt, retriesLeft}
 *   GET  /customers/{msisdn}/notifications  the SMS kept for the customer, newest first (?limit=; the demo reads codes here)
 *   GET  /notifications                 the SMS kept for every number, newest first (?msisdn=&limit=): `kivuko sms`
 *
 * Payee-initiated payments with OTP (reference §7), for the terminal gateway (ATM, POS) of this DFSP's devices
 * and merchants; the payee's idValue is the account id of the device's or merchant's account here:
 *   POST /requestToPay                  {transactionRequestId? (UUID, idempotent), payer: {idType, idValue},
 *                                        payee: {idType: DEVICE|BUSINESS|…, idValue, idSubValue?, name?}, amount,
 *                                        currency, scenario: WITHDRAWAL|PAYMENT, initiatorType: DEVICE|BUSINESS|AGENT,
 *                                        authenticationType: OTP|QRCODE, note?}
 *                                       → 200 {transactionRequestId, state: AWAITING_AUTHORIZATION, retriesLeft,
 *                                              quote: {currency, amount, transferAmount, payeeFee, payerFee, fees, totalDebit}}
 *                                         (show totalDebit and fees, then ask for the OTP)
 *                                       → 404/422/502 {transactionRequestId, state: REJECTED, error: {errorCode, errorDescription}}
 *                                         (3204 unknown customer, 4001 insufficient funds, 4101 rejected, …)
 *                                       → 504 {state: FAILED, error: {errorCode: 2004}} when the payer FSP went quiet
 *   POST /requestToPay/{id}/authorization {otp} or {qrCode} (as the request's authenticationType says)
 *                                       → 200 {state: COMMITTED, transferId, completedTimestamp, amount}
 *                                         (dispense now: the switch has committed) · 200 {state: RETRY, retriesLeft}
 *                                         · 4xx {state: REJECTED, error} · 504 {state: AUTHORIZING|TRANSFERRING}: unknown
 *                                         yet, poll GET, do not dispense · 409 when not awaiting authorization
 *   POST /requestToPay/{id}/resend      the customer did not get the code → 200 {state: AWAITING_AUTHORIZATION, retriesLeft}
 *                                       (for QRCODE nothing is sent: the payer FSP asks for the code again)
 *   POST /requestToPay/{id}/reject      the customer declined at the device → {state: REJECTED}
 *   POST /requestToPay/{id}/refund      {reason?} the dispense failed after COMMITTED: a REFUND transfer of the
 *                                        total debited, from the device's account to the customer → 200 {state: REFUNDED, refund}
 *   GET  /requestToPay/{id}             the request as above, in any state
 *
 * Amounts are decimal strings: FSPIOP's canonical form in outbound answers (as the quote carries them),
 * every minor digit in customer answers ("10.50"); either is accepted in requests. Errors are
 * `{error: {code, message, …}}` with the catalogue's HTTP status; POST /send answers its SendOutcome
 * with the outcome's status (200 COMMITTED; 4xx/5xx with `error` otherwise).
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import { HubError, ValidationError } from '../../core/errors.ts'
import { newCorrelationId, isCorrelationId } from '../../core/ids.ts'
import { formatAmount, formatFixed, parseAmount } from '../../core/money.ts'
import { dfspAccountId, formatBalance, ledgerPrefix, type Customer, type Dfsp, type Notification, type RequestToPayInput, type RequestToPayView, type SendInput, type StatementEntry } from '../../dfsp/index.ts'

export interface DfspApiAppOptions {
  readonly dfsp: Dfsp
  /** Fastify logs through it (and the DFSP should too); none by default. */
  readonly loggerInstance?: FastifyBaseLogger
}

type Params = Record<string, string>

const AMOUNT = { type: 'string', pattern: '^(0|[1-9][0-9]{0,17})(\\.[0-9]{1,4})?$', description: 'a decimal amount, e.g. "10.5" or "10.50"' } as const
const MSISDN = { type: 'string', pattern: '^[0-9]{3,15}$' } as const
const SEND_BODY = {
  type: 'object',
  required: ['from', 'to', 'amount', 'currency', 'amountType'],
  additionalProperties: false,
  properties: {
    from: {
      type: 'object',
      description: 'the paying customer: exactly one of msisdn and accountId',
      additionalProperties: false,
      properties: { msisdn: MSISDN, accountId: { type: 'string', minLength: 1, maxLength: 64 } },
    },
    to: {
      type: 'object',
      required: ['idType', 'idValue'],
      additionalProperties: false,
      properties: {
        idType: { type: 'string', enum: ['MSISDN', 'EMAIL', 'PERSONAL_ID', 'BUSINESS', 'DEVICE', 'ACCOUNT_ID', 'IBAN', 'ALIAS'] },
        idValue: { type: 'string', minLength: 1, maxLength: 128 },
        idSubValue: { type: 'string', minLength: 1, maxLength: 128 },
      },
    },
    amount: AMOUNT,
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    amountType: { type: 'string', enum: ['SEND', 'RECEIVE'], description: 'SEND: amount is the total debited, fees included; RECEIVE: amount is what the payee gets' },
    note: { type: 'string', minLength: 1, maxLength: 128 },
    homeTransactionId: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const

const PARTY_ID_TYPE = { type: 'string', enum: ['MSISDN', 'EMAIL', 'PERSONAL_ID', 'BUSINESS', 'DEVICE', 'ACCOUNT_ID', 'IBAN', 'ALIAS'] } as const
const REQUEST_TO_PAY_BODY = {
  type: 'object',
  required: ['payer', 'payee', 'amount', 'currency', 'scenario', 'initiatorType', 'authenticationType'],
  additionalProperties: false,
  properties: {
    transactionRequestId: { type: 'string', minLength: 36, maxLength: 36, description: 'a UUID: the same id answers the same request again' },
    payer: { type: 'object', required: ['idType', 'idValue'], additionalProperties: false, properties: { idType: PARTY_ID_TYPE, idValue: { type: 'string', minLength: 1, maxLength: 128 } } },
    payee: {
      type: 'object',
      required: ['idType', 'idValue'],
      additionalProperties: false,
      description: 'the device or merchant; idValue is the account id of its account at this DFSP',
      properties: { idType: PARTY_ID_TYPE, idValue: { type: 'string', minLength: 1, maxLength: 128 }, idSubValue: { type: 'string', minLength: 1, maxLength: 128 }, name: { type: 'string', minLength: 1, maxLength: 128 } },
    },
    amount: AMOUNT,
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    scenario: { type: 'string', enum: ['WITHDRAWAL', 'PAYMENT'] },
    initiatorType: { type: 'string', enum: ['DEVICE', 'BUSINESS', 'AGENT'] },
    authenticationType: { type: 'string', enum: ['OTP', 'QRCODE'], description: 'OTP: typed at the device; QRCODE: the one-time code the wallet app shows, scanned by the POS' },
    note: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const

const CUSTOMER_BODY = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128 },
    firstName: { type: 'string', minLength: 1, maxLength: 128 },
    middleName: { type: 'string', minLength: 1, maxLength: 128 },
    lastName: { type: 'string', minLength: 1, maxLength: 128 },
    dateOfBirth: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    msisdn: MSISDN,
    accountId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
    balance: { ...AMOUNT, description: 'an opening deposit' },
  },
} as const

export async function buildDfspApiApp(options: DfspApiAppOptions): Promise<FastifyInstance> {
  const { dfsp } = options
  const { currency, dfspId } = dfsp.config
  const app = Fastify({
    ...(options.loggerInstance === undefined ? { logger: false } : { loggerInstance: options.loggerInstance }),
    routerOptions: { caseSensitive: true },
    return503OnClosing: true,
    // No coercion: an amount must come as a string, never through a JS number.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allowUnionTypes: true } },
  })
  await app.register(swagger, {
    openapi: { info: { title: `Kivuko DFSP ${dfspId}: outbound and customer API`, version: '1.0.0', description: 'Send money through the scheme; customers, balances and statements.' } },
  })
  await app.register(swaggerUi, { routePrefix: '/documentation' })

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number }, request, reply) => {
    let hubError: HubError
    if (error instanceof HubError) hubError = error
    else if (error.validation !== undefined || (typeof error.statusCode === 'number' && error.statusCode < 500)) hubError = new ValidationError(error.message)
    else {
      request.log.error({ err: error }, 'DFSP API request failed')
      hubError = new HubError('INTERNAL', 'Internal server error')
    }
    return reply.status(hubError.spec.http).send({ error: { code: hubError.code, message: hubError.message, ...hubError.details } })
  })

  // ------------------------------------------------------------------------------------------------
  // Outbound

  app.post('/send', { schema: { body: SEND_BODY } }, async (request, reply) => {
    const outcome = await dfsp.send(request.body as SendInput, traceOf(request.headers))
    const { httpStatus, ...body } = outcome
    return reply.status(httpStatus).send(body)
  })

  for (const sub of ['', '/:subId']) {
    app.get(`/parties/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      const found = await dfsp.lookupParty(params.type as string, params.id as string, params.subId, traceOf(request.headers))
      if (found.ok) return { party: found.party }
      return reply.status(found.httpStatus).send({ error: found.failure })
    })
  }

  app.get('/transfers/:transferId', async (request) => {
    const { transferId } = request.params as Params
    return { transfers: await dfsp.transferStatus(transferId as string) }
  })

  // ------------------------------------------------------------------------------------------------
  // Customers

  app.post('/customers', { schema: { body: CUSTOMER_BODY } }, async (request, reply) => {
    const { balance, ...input } = request.body as { balance?: string } & Parameters<Dfsp['customers']['create']>[0]
    const opening = balance === undefined ? undefined : money(balance, currency)
    const customer = await dfsp.customers.create(input)
    if (opening !== undefined && opening > 0n) await dfsp.customers.deposit(customer, opening, `${ledgerPrefix(dfspId)}:dep:${customer.customerId}`)
    const registration = dfsp.config.oracleRegistration === 'auto' ? await dfsp.registerParties([customer]) : undefined
    return reply.status(201).send({ ...customerView(customer), ...(registration === undefined ? {} : { registration }) })
  })

  app.get('/customers', async () => ({ customers: (await dfsp.customers.list()).map(customerView) }))

  app.get('/customers/:msisdn', async (request) => {
    const { msisdn } = request.params as Params
    return customerView(await dfsp.customers.byMsisdn(msisdn as string))
  })

  app.get('/customers/:msisdn/balance', async (request) => {
    const { msisdn } = request.params as Params
    const customer = await dfsp.customers.byMsisdn(msisdn as string)
    return { msisdn: customer.msisdn, ...formatBalance(await dfsp.customers.balance(customer)) }
  })

  app.get(
    '/customers/:msisdn/statement',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' }, before: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' } } } } },
    async (request) => {
      const { msisdn } = request.params as Params
      const query = request.query as { limit?: string; before?: string }
      const limit = Number(query.limit ?? '50')
      const customer = await dfsp.customers.byMsisdn(msisdn as string)
      const entries = await dfsp.customers.statement(customer, { limit, ...(query.before === undefined ? {} : { beforeSeq: BigInt(query.before) }) })
      const last = entries.at(-1)
      return {
        msisdn: customer.msisdn,
        currency: customer.currency,
        entries: entries.map(entryView),
        ...(entries.length === limit && last !== undefined ? { next: last.seq.toString() } : {}),
      }
    },
  )

  app.post(
    '/customers/:msisdn/deposits',
    { schema: { body: { type: 'object', required: ['amount'], additionalProperties: false, properties: { amount: AMOUNT, depositId: { type: 'string', description: 'a UUID: the same id deposits once' } } } } },
    async (request, reply) => {
      const { msisdn } = request.params as Params
      const body = request.body as { amount: string; depositId?: string }
      if (body.depositId !== undefined && !isCorrelationId(body.depositId)) throw new ValidationError('depositId must be a lowercase UUID')
      const customer = await dfsp.customers.byMsisdn(msisdn as string)
      const depositId = body.depositId ?? newCorrelationId()
      const status = await dfsp.customers.deposit(customer, money(body.amount, currency), `${ledgerPrefix(dfspId)}:dep:${depositId}`)
      return reply.status(status === 'created' ? 201 : 200).send({ depositId, ...formatBalance(await dfsp.customers.balance(customer)) })
    },
  )

  app.post(
    '/customers/:msisdn/otp',
    { schema: { body: { type: 'object', additionalProperties: false, properties: { amount: AMOUNT, currency: { type: 'string', pattern: '^[A-Z]{3}$' } } } } },
    async (request, reply) => {
      const { msisdn } = request.params as Params
      const body = (request.body ?? {}) as { amount?: string; currency?: string }
      if (body.currency !== undefined && body.currency !== currency) throw new ValidationError(`currency must be ${currency}`)
      const issued = await dfsp.issueOtp(msisdn as string, body.amount === undefined ? undefined : money(body.amount, currency))
      return reply.status(201).send({ otpId: issued.otpId, expiresAt: new Date(issued.expiresAtMs).toISOString(), retriesLeft: issued.retriesLeft, delivery: 'SMS' })
    },
  )

  app.post(
    '/customers/:msisdn/qrcode',
    { schema: { body: { type: 'object', additionalProperties: false, properties: { amount: AMOUNT, currency: { type: 'string', pattern: '^[A-Z]{3}$' } } } } },
    async (request, reply) => {
      const { msisdn } = request.params as Params
      const body = (request.body ?? {}) as { amount?: string; currency?: string }
      if (body.currency !== undefined && body.currency !== currency) throw new ValidationError(`currency must be ${currency}`)
      const amountMinor = body.amount === undefined ? undefined : money(body.amount, currency)
      const issued = await dfsp.issueQrCode(msisdn as string, amountMinor)
      // The code goes to the app, which draws it; Fastify logs no bodies, and nothing else here does.
      return reply.status(201).send({
        qrCodeId: issued.qrCodeId,
        code: issued.code,
        expiresAt: new Date(issued.expiresAtMs).toISOString(),
        retriesLeft: issued.retriesLeft,
        ...(amountMinor === undefined ? {} : { amount: formatFixed(amountMinor, currency), currency }),
      })
    },
  )

  const LIMIT = { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } as const
  app.get('/customers/:msisdn/notifications', { schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: LIMIT } } } }, async (request) => {
    const { msisdn } = request.params as Params
    const { limit } = request.query as { limit?: string }
    const list = await dfsp.notifications(msisdn as string, limit === undefined ? undefined : Number(limit))
    return { msisdn, notifications: list.map(notificationView) }
  })

  app.get('/notifications', { schema: { querystring: { type: 'object', additionalProperties: false, properties: { msisdn: MSISDN, limit: LIMIT } } } }, async (request) => {
    const { msisdn, limit } = request.query as { msisdn?: string; limit?: string }
    const list = await dfsp.notifications(msisdn, limit === undefined ? undefined : Number(limit))
    return { notifications: list.map((n) => ({ msisdn: n.msisdn, ...notificationView(n) })) }
  })

  // ------------------------------------------------------------------------------------------------
  // Payee-initiated payments (the terminal gateway's API)

  const rtp = (reply: FastifyReply, view: RequestToPayView): FastifyReply => {
    const { httpStatus, ...body } = view
    return reply.status(httpStatus).send(body)
  }
  app.post('/requestToPay', { schema: { body: REQUEST_TO_PAY_BODY } }, async (request, reply) => rtp(reply, await dfsp.requestToPay(request.body as RequestToPayInput, traceOf(request.headers))))
  app.get('/requestToPay/:id', async (request, reply) => rtp(reply, dfsp.requestStatus((request.params as Params).id as string)))
  app.post(
    '/requestToPay/:id/authorization',
    {
      schema: {
        body: {
          type: 'object',
          description: 'exactly one: otp for an OTP request, qrCode for a QRCODE request',
          minProperties: 1,
          maxProperties: 1,
          additionalProperties: false,
          properties: { otp: { type: 'string', pattern: '^[0-9]{3,10}$' }, qrCode: { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$' } },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { otp?: string; qrCode?: string }
      const [value, as] = body.qrCode === undefined ? [body.otp as string, 'OTP' as const] : [body.qrCode, 'QRCODE' as const]
      return rtp(reply, await dfsp.authorizeRequest((request.params as Params).id as string, value, traceOf(request.headers), as))
    },
  )
  app.post('/requestToPay/:id/resend', async (request, reply) => rtp(reply, await dfsp.resendRequestOtp((request.params as Params).id as string, traceOf(request.headers))))
  app.post('/requestToPay/:id/reject', async (request, reply) => rtp(reply, await dfsp.rejectRequest((request.params as Params).id as string, traceOf(request.headers))))
  app.post(
    '/requestToPay/:id/refund',
    { schema: { body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 128 } } } } },
    async (request, reply) => rtp(reply, await dfsp.refundRequest((request.params as Params).id as string, (request.body as { reason?: string } | undefined)?.reason, traceOf(request.headers))),
  )

  app.post('/registrations', async () => ({ results: await dfsp.registerParties() }))

  app.get('/position', async () => {
    const position = await dfsp.position()
    const signed = (minor: bigint): string => (minor < 0n ? `-${formatFixed(-minor, currency)}` : formatFixed(minor, currency))
    return {
      currency,
      sent: formatFixed(position.sentMinor, currency),
      received: formatFixed(position.receivedMinor, currency),
      inFlight: formatFixed(position.inFlightMinor, currency),
      net: signed(position.netMinor),
      fees: signed(position.feesMinor),
    }
  })

  app.get('/health', async () => ({ status: 'OK', dfspId, currency, schemeAccount: dfspAccountId(dfspId, currency, 'SCHEME') }))
  return app
}

function money(text: string, currency: string): bigint {
  const parsed = parseAmount(text, currency, { grammar: 'decimal' })
  if (!parsed.ok) throw new ValidationError(`"${text}" is not a valid ${currency} amount (${parsed.status})`, { element: 'amount' })
  return parsed.value
}

/** A kept SMS. Its body may hold a code meant for that customer: it is shown, never logged. */
function notificationView(n: Notification): Record<string, unknown> {
  return { notificationId: n.notificationId, channel: n.channel, state: n.state, body: n.body, createdAt: new Date(n.createdAtMs).toISOString() }
}

function customerView(customer: Customer): Record<string, unknown> {
  return {
    customerId: customer.customerId,
    name: customer.name,
    ...(customer.firstName === null ? {} : { firstName: customer.firstName }),
    ...(customer.middleName === null ? {} : { middleName: customer.middleName }),
    ...(customer.lastName === null ? {} : { lastName: customer.lastName }),
    ...(customer.dateOfBirth === null ? {} : { dateOfBirth: customer.dateOfBirth }),
    ...(customer.msisdn === null ? {} : { msisdn: customer.msisdn }),
    ...(customer.accountId === null ? {} : { accountId: customer.accountId }),
    currency: customer.currency,
    createdAt: new Date(customer.createdAtMs).toISOString(),
  }
}

function entryView(entry: StatementEntry): Record<string, unknown> {
  const transfer = entry.transfer
  return {
    seq: entry.seq.toString(),
    id: entry.ledgerTransferId,
    kind: entry.kind,
    direction: entry.direction,
    amount: formatFixed(entry.amountMinor, entry.currency),
    ...(entry.pendingState === null ? {} : { holdState: entry.pendingState }),
    ...(entry.transferId === null ? {} : { transferId: entry.transferId }),
    ...(transfer === undefined
      ? {}
      : {
          role: transfer.role,
          transferState: transfer.state,
          transferAmount: formatAmount(transfer.amountMinor, transfer.currency),
          ...(transfer.counterparty === null ? {} : { counterparty: JSON.parse(transfer.counterparty) as unknown }),
          ...(transfer.note === null ? {} : { note: transfer.note }),
        }),
    createdAt: new Date(entry.createdAtMs).toISOString(),
  }
}

function traceOf(headers: Record<string, string | string[] | undefined>): { traceparent?: string; tracestate?: string } {
  const traceparent = headers.traceparent
  const tracestate = headers.tracestate
  return {
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    ...(typeof tracestate === 'string' ? { tracestate } : {}),
  }
}
