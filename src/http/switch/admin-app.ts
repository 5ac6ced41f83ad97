// SPDX-License-Identifier: Apache-2.0
/**
 * The hub operator's admin API, in the shapes of Mojaloop's central-ledger admin API (reference §2.10,
 * §4.3) and of its account-lookup-service admin API (/oracles) so that Mojaloop's provisioning scripts work
 * unchanged, plus what Mojaloop lacks: participant credentials and transfer search with each transfer's
 * history. Documented with OpenAPI at /documentation.
 */
import { randomBytes } from 'node:crypto'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import { HubError, NotFoundError, ValidationError } from '../../core/errors.ts'
import { formatAmount, parseAmount } from '../../core/money.ts'
import { errorInformationOf, httpStatusOf } from '../../fspiop/index.ts'
import type { Switch } from '../../switch/switch.ts'
import type { TransferState } from '../../switch/transfers/transfer-state.ts'
import type { TransferRecord } from '../../store/switch/switch-repo.ts'
import { registerOracleRoutes } from './oracle-routes.ts'

export interface AdminAppOptions {
  readonly hub: Switch
  /** When set, every admin request must carry `Authorization: Bearer <adminToken>`. */
  readonly adminToken?: string
  readonly logger?: boolean | object
  /** Routes other parts add (settlement, metrics). */
  readonly register?: (app: FastifyInstance) => Promise<void> | void
}

const NAME = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,30}$' } as const
const CURRENCY = { type: 'string', pattern: '^[A-Z]{3}$' } as const
const MONEY = {
  type: 'object',
  required: ['amount', 'currency'],
  properties: { amount: { type: 'string' }, currency: CURRENCY },
} as const

type Params = Record<string, string>

export async function buildAdminApp(options: AdminAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, routerOptions: { caseSensitive: true }, ajv: { customOptions: { allowUnionTypes: true } } })
  const hub = options.hub

  await app.register(swagger, {
    openapi: {
      info: { title: 'Kivuko switch admin API', version: '1.0.0', description: "Shapes of Mojaloop's central-ledger and account-lookup-service admin APIs, plus credentials and transfer search." },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/documentation' })
  // Mojaloop's scripts send some admin requests (ALS's /oracles) as FSPIOP JSON, application/vnd.interoperability.participants+json,
  // and a Content-Type on requests without a body (DELETE /oracles/{ID}): an empty body is no body, not a JSON error.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const parseJsonOrNothing: typeof parseJson = (request, body, done) => (body === '' ? done(null, undefined) : parseJson(request, body, done))
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonOrNothing)
  app.addContentTypeParser(/^application\/vnd\.interoperability\.[a-zA-Z]+\+json/, { parseAs: 'string' }, parseJsonOrNothing)

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number }, request, reply) => {
    let hubError: HubError
    if (error instanceof HubError) hubError = error
    else if (error.validation !== undefined || (typeof error.statusCode === 'number' && error.statusCode < 500)) hubError = new ValidationError(error.message, {}, 'MALFORMED_SYNTAX')
    else {
      request.log.error({ err: error }, 'admin request failed')
      hubError = new HubError('INTERNAL', 'Internal server error')
    }
    return reply.status(httpStatusOf(hubError)).send(errorInformationOf(hubError))
  })
  if (options.adminToken !== undefined) {
    const expected = `Bearer ${options.adminToken}`
    app.addHook('onRequest', async (request) => {
      if (request.url.startsWith('/documentation') || request.url === '/health') return
      if (request.headers.authorization !== expected) throw new HubError('PAYER_PERMISSION_ERROR', 'Admin token required')
    })
  }

  app.get('/health', async () => ({ status: 'OK' }))

  const participantView = async (name: string) => {
    const p = await hub.participant(name)
    return {
      name: p.name,
      isActive: p.isActive ? 1 : 0,
      created: new Date(p.createdAtMs).toISOString(),
      accounts: p.currencies.flatMap((c) => accountViews(c.currency, c.isActive)),
    }
  }

  app.post('/participants', { schema: { body: { type: 'object', required: ['name', 'currency'], properties: { name: NAME, currency: CURRENCY } } } }, async (request, reply) => {
    const body = request.body as { name: string; currency: string }
    const outcome = await hub.createParticipant(body.name, body.currency)
    return reply.status(outcome === 'created' ? 201 : 200).send(await participantView(body.name))
  })
  app.get('/participants', async () => Promise.all((await hub.participantNames()).map(participantView)))
  app.get('/participants/:name', async (request) => participantView((request.params as Params).name as string))
  app.put('/participants/:name', { schema: { body: { type: 'object', required: ['isActive'], properties: { isActive: { type: 'boolean' } } } } }, async (request) => {
    const name = (request.params as Params).name as string
    await hub.setParticipantActive(name, (request.body as { isActive: boolean }).isActive)
    return participantView(name)
  })

  app.post('/participants/:name/endpoints', { schema: { body: { type: 'object', required: ['type', 'value'], properties: { type: { type: 'string' }, value: { type: 'string', maxLength: 2048 } } } } }, async (request, reply) => {
    const body = request.body as { type: string; value: string }
    await hub.setEndpoint((request.params as Params).name as string, body.type, body.value)
    return reply.status(201).send()
  })
  app.get('/participants/:name/endpoints', async (request) => {
    const endpoints = await hub.endpoints((request.params as Params).name as string)
    return [...endpoints].map(([type, value]) => ({ type, value }))
  })

  const limitBody = {
    type: 'object',
    required: ['currency', 'limit'],
    properties: {
      currency: CURRENCY,
      limit: { type: 'object', required: ['type', 'value'], properties: { type: { type: 'string', const: 'NET_DEBIT_CAP' }, value: { type: ['string', 'number'] }, alarmPercentage: { type: ['string', 'number'] } } },
      initialPosition: { type: ['string', 'number'] },
    },
  } as const
  const setLimit = async (name: string, body: { currency: string; limit: { value: string | number }; initialPosition?: string | number }) => {
    if (body.initialPosition !== undefined && String(body.initialPosition) !== '0') {
      throw new ValidationError('initialPosition other than 0 is not supported: record funds in instead', { initialPosition: body.initialPosition })
    }
    await hub.setNetDebitCap(name, body.currency, decimal(body.limit.value, body.currency, 'limit.value'))
  }
  app.post('/participants/:name/initialPositionAndLimits', { schema: { body: limitBody } }, async (request, reply) => {
    await setLimit((request.params as Params).name as string, request.body as never)
    return reply.status(201).send()
  })
  app.put('/participants/:name/limits', { schema: { body: limitBody } }, async (request) => {
    const name = (request.params as Params).name as string
    const body = request.body as { currency: string; limit: { value: string | number } }
    await setLimit(name, body)
    return { currency: body.currency, limit: { type: 'NET_DEBIT_CAP', value: String(body.limit.value) } }
  })
  app.get('/participants/:name/limits', async (request) => {
    const positions = await hub.positions((request.params as Params).name as string)
    return positions.filter((p) => p.netDebitCap !== null).map((p) => ({ currency: p.currency, limit: { type: 'NET_DEBIT_CAP', value: p.netDebitCap } }))
  })
  app.get('/participants/:name/positions', async (request) => {
    const positions = await hub.positions((request.params as Params).name as string)
    return positions.map((p) => ({ currency: p.currency, value: p.position, reservedValue: p.reserved }))
  })
  app.get('/participants/:name/accounts', async (request) => {
    const positions = await hub.positions((request.params as Params).name as string)
    return positions.flatMap((p) => [
      { ...accountView(p.currency, 'POSITION', p.isActive), value: p.position, reservedValue: p.reserved },
      // Central-ledger's sign: funds in make the SETTLEMENT account more negative (liquidity cover = −value).
      { ...accountView(p.currency, 'SETTLEMENT', p.isActive), value: negated(p.liquidity), reservedValue: '0' },
    ])
  })
  app.put('/participants/:name/accounts/:id', { schema: { body: { type: 'object', required: ['isActive'], properties: { isActive: { type: 'boolean' } } } } }, async (request) => {
    const { name, id } = request.params as Params
    const currency = accountCurrency(id as string)
    await hub.setCurrencyActive(name as string, currency, (request.body as { isActive: boolean }).isActive)
    return { id, isActive: (request.body as { isActive: boolean }).isActive ? 1 : 0 }
  })
  app.post(
    '/participants/:name/accounts/:id',
    {
      schema: {
        body: {
          type: 'object',
          required: ['transferId', 'action', 'amount'],
          properties: {
            transferId: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
            externalReference: { type: 'string', maxLength: 128 },
            action: { type: 'string', enum: ['recordFundsIn', 'recordFundsOutPrepareReserve'] },
            reason: { type: 'string', maxLength: 128 },
            amount: MONEY,
          },
        },
      },
    },
    async (request, reply) => {
      const { name, id } = request.params as Params
      const body = request.body as { transferId: string; action: string; externalReference?: string; reason?: string; amount: { amount: string; currency: string } }
      if (accountCurrency(id as string) !== body.amount.currency || !(id as string).endsWith('-SETTLEMENT')) {
        throw new ValidationError('funds move on the SETTLEMENT account of the same currency', { id })
      }
      const amountMinor = decimal(body.amount.amount, body.amount.currency, 'amount.amount')
      const reference = body.externalReference ?? body.reason
      const outcome =
        body.action === 'recordFundsIn'
          ? await hub.recordFundsIn(name as string, body.amount.currency, amountMinor, body.transferId, reference)
          : await hub.reserveFundsOut(name as string, body.amount.currency, amountMinor, body.transferId, reference)
      if (outcome.status === 'exceeds_credits') throw new HubError('PAYER_INSUFFICIENT_LIQUIDITY', 'Funds out exceed the liquidity available')
      if (outcome.status.startsWith('exists_with_different')) throw new HubError('MODIFIED_REQUEST', 'Modified request: transferId was used with other content')
      if (outcome.status !== 'created' && outcome.status !== 'exists') throw new ValidationError(`funds movement refused: ${outcome.status}`)
      return reply.status(202).send()
    },
  )
  app.put(
    '/participants/:name/accounts/:id/transfers/:transferId',
    { schema: { body: { type: 'object', required: ['action'], properties: { action: { type: 'string', enum: ['recordFundsOutCommit', 'recordFundsOutAbort'] }, reason: { type: 'string' } } } } },
    async (request, reply) => {
      const { transferId } = request.params as Params
      const action = (request.body as { action: string }).action === 'recordFundsOutCommit' ? 'commit' : 'abort'
      const outcome = await hub.completeFundsOut(transferId as string, action)
      if (outcome.status === 'pending_transfer_not_found') throw new NotFoundError('TRANSFER_NOT_FOUND', 'No funds-out reservation with that transferId')
      if (outcome.status !== 'created' && outcome.status !== 'exists') throw new HubError('INVALID_STATE', `funds out cannot ${action}: ${outcome.status}`)
      return reply.status(202).send()
    },
  )
  // Mojaloop's hub setup opens the hub's accounts per currency here (Kivuko also opens them with the first
  // participant of a currency); as in central-ledger, an account already open is a 400 and only the hub has this route.
  app.post(
    '/participants/:name/accounts',
    { schema: { body: { type: 'object', required: ['type', 'currency'], properties: { type: { type: 'string' }, currency: CURRENCY } } } },
    async (request, reply) => {
      const name = (request.params as Params).name as string
      const body = request.body as { type: string; currency: string }
      if (!hub.isHub(name)) throw new ValidationError('Endpoint is reserved for creation of Hub account types only', { name })
      if ((await hub.openHubAccount(body.type, body.currency)) === 'exists') throw new ValidationError('Hub account has already been registered.', { type: body.type, currency: body.currency })
      return reply.status(201).send({ type: body.type, currency: body.currency })
    },
  )

  app.post('/participants/:name/credentials', async (request, reply) => {
    const token = randomBytes(32).toString('base64url')
    await hub.issueToken((request.params as Params).name as string, token)
    return reply.status(201).send({ token })
  })

  // FSPIOP-Signature (reference §1.5): once a participant's key is registered, every request it sends with
  // a body must be signed with it. Mojaloop keeps these keys outside central-ledger; here they sit with the participant.
  app.put(
    '/participants/:name/jwsKey',
    { schema: { body: { type: 'object', required: ['publicKey'], properties: { publicKey: { type: 'string', minLength: 1, maxLength: 16_384 } } } } },
    async (request) => {
      const name = (request.params as Params).name as string
      await hub.setJwsKey(name, (request.body as { publicKey: string }).publicKey)
      return { name, publicKey: await hub.jwsKey(name) }
    },
  )
  app.get('/participants/:name/jwsKey', async (request) => {
    const name = (request.params as Params).name as string
    const publicKey = await hub.jwsKey(name)
    if (publicKey === undefined) throw new NotFoundError('ID_NOT_FOUND', `participant ${name} has no JWS key registered`, { name })
    return { name, publicKey }
  })
  app.delete('/participants/:name/jwsKey', async (request, reply) => {
    await hub.setJwsKey((request.params as Params).name as string, undefined)
    return reply.status(204).send()
  })

  app.get('/transfers', async (request) => {
    const query = request.query as { participant?: string; state?: string; from?: string; to?: string; limit?: string }
    const limit = Math.min(1_000, Math.max(1, Number(query.limit ?? 100) || 100))
    const records = await hub.searchTransfers({
      limit,
      ...(query.participant === undefined ? {} : { participant: query.participant }),
      ...(query.state === undefined ? {} : { state: query.state as TransferState }),
      ...(query.from === undefined ? {} : { fromMs: Date.parse(query.from) }),
      ...(query.to === undefined ? {} : { toMs: Date.parse(query.to) }),
    })
    return records.map(transferView)
  })
  app.get('/transfers/:id', async (request) => {
    const { transfer, history } = await hub.transfer((request.params as Params).id as string)
    return {
      ...transferView(transfer),
      prepare: JSON.parse(transfer.prepareBody) as unknown,
      history: history.map((h) => ({ from: h.from, to: h.to, reason: h.reason, at: new Date(h.atMs).toISOString() })),
    }
  })

  registerOracleRoutes(app, hub)

  await options.register?.(app)
  return app
}

function transferView(t: TransferRecord) {
  return {
    transferId: t.transferId,
    payerFsp: t.payerFsp,
    payeeFsp: t.payeeFsp,
    amount: { amount: formatAmount(t.amountMinor, t.currency), currency: t.currency },
    state: t.state,
    abortReason: t.abortReason,
    errorInformation: t.errorCode === null ? null : { errorCode: t.errorCode, errorDescription: t.errorDescription },
    expiration: new Date(t.expiresAtMs).toISOString(),
    completedTimestamp: t.completedAtMs === null ? null : new Date(t.completedAtMs).toISOString(),
    createdDate: new Date(t.createdAtMs).toISOString(),
  }
}

function accountView(currency: string, type: 'POSITION' | 'SETTLEMENT', isActive: boolean) {
  return { id: `${currency}-${type}`, ledgerAccountType: type, currency, isActive: isActive ? 1 : 0 }
}

function accountViews(currency: string, isActive: boolean) {
  return [accountView(currency, 'POSITION', isActive), accountView(currency, 'SETTLEMENT', isActive)]
}

/** A signed decimal string with its sign flipped; zero stays "0". */
function negated(amount: string): string {
  if (amount === '0') return amount
  return amount.startsWith('-') ? amount.slice(1) : `-${amount}`
}

function accountCurrency(id: string): string {
  const currency = id.split('-')[0] ?? ''
  if (!/^[A-Z]{3}$/.test(currency)) throw new NotFoundError('ID_NOT_FOUND', `unknown account ${id}`, { id })
  return currency
}

/** Admin amounts may come as JSON numbers from Mojaloop's scripts; they are read as text, never as floats. */
function decimal(value: string | number, currency: string, field: string): bigint {
  const text = typeof value === 'number' ? numberText(value) : value
  const parsed = parseAmount(text, currency, { grammar: 'decimal' })
  if (!parsed.ok) throw new ValidationError(`${field}: ${parsed.status.replace(/_/g, ' ')}`, { field })
  return parsed.value
}

/** A JSON number as its shortest decimal text, which JSON.parse already fixed; integers and plain decimals only. */
function numberText(value: number): string {
  const text = String(value)
  if (!/^\d+(\.\d+)?$/.test(text)) throw new ValidationError(`not a plain non-negative amount: ${text}`)
  return text
}
