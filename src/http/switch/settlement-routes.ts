// SPDX-License-Identifier: Apache-2.0
/**
 * The hub operator's settlement API, in the shapes of Mojaloop's central-settlement API where that is
 * cheap, as a Fastify plugin over a SettlementService:
 *
 *   GET  /settlementWindows?state=&participantId=&fromDateTime=&toDateTime=
 *   GET  /settlementWindows/{id}                 · GET /settlementWindows/{id}/report[.csv]
 *   POST /settlementWindows/{id}  {state:"CLOSED", reason}   → the window opened in its place (as Mojaloop)
 *   POST /settlements  {settlementModel, reason, settlementWindows:[{id}]}
 *   GET  /settlements/{id}                       · GET /settlements/{id}/report[.csv]
 *   PUT  /settlements/{id}  {state:"SETTLED"|"ABORTED", reason}, or Mojaloop's participants[].accounts[] form
 *
 * Differences from Mojaloop, on purpose: amounts are decimal strings (never JSON numbers); a settlement is
 * settled as a whole, in one step, so the per-account PS_TRANSFERS_* states are accepted and skipped; the
 * window list needs no filter. Errors are `{errorInformation:{errorCode, errorDescription}}` with the
 * catalogue's FSPIOP code and HTTP status.
 *
 * Register with `app.register(settlementRoutes, { service })`; the error handler it sets applies to its
 * own routes only.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HubError, ValidationError } from '../../core/errors.ts'
import { formatAmount } from '../../core/money.ts'
import { participantAccountId } from '../../switch/accounts.ts'
import type { Settlement, SettlementWindow } from '../../switch/settlement/model.ts'
import { formatSignedAmount, reportToCsv, reportToJson } from '../../switch/settlement/report.ts'
import type { SettlementService } from '../../switch/settlement/settlement-service.ts'
import { REASON_LENGTH_MAX, MODEL_LENGTH_MAX, SETTLEMENT_WINDOWS_MAX, type SettlementModelInput } from '../../switch/settlement/settlement-service.ts'
import type { SettlementModelRecord } from '../../store/settlement/settlement-repo.ts'
import { SETTLEMENT_STATES, WINDOW_STATES } from '../../switch/settlement/settlement-state.ts'

export interface SettlementRoutesOptions {
  readonly service: SettlementService
}

// ---- JSON shapes ----------------------------------------------------------------------------------------

function isoDate(ms: number): string {
  return new Date(ms).toISOString()
}

export function windowToJson(w: SettlementWindow) {
  return {
    id: w.id,
    /** Mojaloop's older admin API and the finance portal read the id under this name. */
    settlementWindowId: w.id,
    state: w.state,
    reason: w.reason,
    createdDate: isoDate(w.createdAtMs),
    changedDate: isoDate(w.changedAtMs),
    settlementId: w.settlementId,
    content: w.content.map((c) => ({
      currencyId: c.currency,
      ledgerAccountType: 'POSITION',
      state: w.state,
      transferCount: c.transferCount,
      amount: formatAmount(c.amountMinor, c.currency),
    })),
  }
}

export function settlementToJson(s: Settlement) {
  const byFsp = Map.groupBy(s.participants, (p) => p.fsp)
  return {
    id: s.id,
    state: s.state,
    reason: s.reason,
    settlementModel: s.model,
    createdDate: isoDate(s.createdAtMs),
    changedDate: isoDate(s.changedAtMs),
    settlementWindows: s.windows.map(windowToJson),
    participants: [...byFsp.entries()].map(([fsp, accounts]) => ({
      id: fsp,
      accounts: accounts.map((p) => ({
        id: participantAccountId(p.fsp, p.currency, 'POSITION'),
        state: s.state,
        reason: s.reason,
        // Mojaloop's sign: positive when the participant owes (a net sender), i.e. sent − received.
        netSettlementAmount: { amount: formatSignedAmount(-p.netMinor, p.currency), currency: p.currency },
        sent: formatAmount(p.sentMinor, p.currency),
        received: formatAmount(p.receivedMinor, p.currency),
        net: formatSignedAmount(p.netMinor, p.currency),
        ledgerTransferId: p.ledgerTransferId,
      })),
    })),
  }
}

// ---- schemas --------------------------------------------------------------------------------------------

const decimal = { type: 'string', pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$' } as const
const reason = { type: 'string', minLength: 1, maxLength: REASON_LENGTH_MAX } as const
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const

const errorSchema = {
  type: 'object',
  required: ['errorInformation'],
  properties: {
    errorInformation: {
      type: 'object',
      required: ['errorCode', 'errorDescription'],
      properties: { errorCode: { type: 'string', pattern: '^[1-9][0-9]{3}$' }, errorDescription: { type: 'string' } },
    },
  },
} as const

const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const

const windowSchema = {
  type: 'object',
  required: ['id', 'settlementWindowId', 'state', 'createdDate', 'changedDate', 'content'],
  properties: {
    id: { type: 'integer' },
    settlementWindowId: { type: 'integer' },
    state: { type: 'string', enum: [...WINDOW_STATES] },
    reason: { type: ['string', 'null'] },
    createdDate: { type: 'string', format: 'date-time' },
    changedDate: { type: 'string', format: 'date-time' },
    settlementId: { type: ['integer', 'null'], description: 'The settlement covering the window now, if any' },
    content: {
      type: 'array',
      items: {
        type: 'object',
        required: ['currencyId', 'ledgerAccountType', 'state', 'transferCount', 'amount'],
        properties: {
          currencyId: { type: 'string' },
          ledgerAccountType: { type: 'string' },
          state: { type: 'string' },
          transferCount: { type: 'integer' },
          amount: { ...decimal, description: 'Total of the committed transfers in this currency' },
        },
      },
    },
  },
} as const

const settlementSchema = {
  type: 'object',
  required: ['id', 'state', 'reason', 'settlementModel', 'createdDate', 'changedDate', 'settlementWindows', 'participants'],
  properties: {
    id: { type: 'integer' },
    state: { type: 'string', enum: [...SETTLEMENT_STATES] },
    reason: { type: 'string' },
    settlementModel: { type: 'string' },
    createdDate: { type: 'string', format: 'date-time' },
    changedDate: { type: 'string', format: 'date-time' },
    settlementWindows: { type: 'array', items: windowSchema },
    participants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'accounts'],
        properties: {
          id: { type: 'string', description: "The participant's name" },
          accounts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'state', 'netSettlementAmount', 'sent', 'received', 'net'],
              properties: {
                id: { type: 'string', description: "The participant's POSITION ledger account in the currency" },
                state: { type: 'string' },
                reason: { type: 'string' },
                netSettlementAmount: {
                  type: 'object',
                  required: ['amount', 'currency'],
                  properties: { amount: { ...decimal, description: "Mojaloop's sign: positive when the participant owes (sent − received)" }, currency: { type: 'string' } },
                },
                sent: decimal,
                received: decimal,
                net: { ...decimal, description: 'received − sent: positive for a net receiver' },
                ledgerTransferId: { type: ['string', 'null'], description: 'The ledger transfer that settles the net; null for a net of zero' },
              },
            },
          },
        },
      },
    },
  },
} as const

const reportSchema = {
  type: 'object',
  required: ['scope', 'id', 'state', 'windowIds', 'rows', 'totals'],
  properties: {
    scope: { type: 'string', enum: ['window', 'settlement'] },
    id: { type: 'integer' },
    state: { type: 'string' },
    windowIds: { type: 'array', items: { type: 'integer' } },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['participantId', 'currency', 'sent', 'received', 'net'],
        properties: { participantId: { type: 'string' }, currency: { type: 'string' }, sent: decimal, received: decimal, net: decimal },
      },
    },
    totals: {
      type: 'array',
      items: {
        type: 'object',
        required: ['currency', 'amount', 'transferParticipants'],
        properties: { currency: { type: 'string' }, amount: decimal, transferParticipants: { type: 'integer' } },
      },
    },
  },
} as const

const accountUpdate = {
  type: 'object',
  required: ['id', 'state'],
  properties: {
    id: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer' }], description: 'The account id GET /settlements/{id} shows' },
    state: { type: 'string', enum: ['PENDING_SETTLEMENT', 'PS_TRANSFERS_RECORDED', 'PS_TRANSFERS_RESERVED', 'PS_TRANSFERS_COMMITTED', 'SETTLED'] },
    reason: reason,
    externalReference: { type: 'string', maxLength: 256 },
  },
} as const

const settlementUpdate = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['SETTLED', 'ABORTED'] },
    reason: reason,
    externalReference: { type: 'string', maxLength: 256 },
    participants: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'accounts'],
        properties: { id: { type: 'string', minLength: 1 }, accounts: { type: 'array', minItems: 1, items: accountUpdate } },
      },
    },
  },
  anyOf: [{ required: ['state', 'reason'] }, { required: ['participants'] }],
} as const

interface IdParams {
  id: number
}

interface WindowQuery {
  state?: (typeof WINDOW_STATES)[number]
  participantId?: string
  fromDateTime?: string
  toDateTime?: string
}

interface CloseBody {
  state: 'CLOSED'
  reason: string
}

interface CreateBody {
  settlementModel: string
  reason: string
  settlementWindows: { id: number }[]
}

interface AccountUpdate {
  id: string | number
  state: 'PENDING_SETTLEMENT' | 'PS_TRANSFERS_RECORDED' | 'PS_TRANSFERS_RESERVED' | 'PS_TRANSFERS_COMMITTED' | 'SETTLED'
  reason?: string
}

interface UpdateBody {
  state?: 'SETTLED' | 'ABORTED'
  reason?: string
  participants?: { id: string; accounts: AccountUpdate[] }[]
}

// ---- the plugin -------------------------------------------------------------------------------------------

export async function settlementRoutes(app: FastifyInstance, options: SettlementRoutesOptions): Promise<void> {
  const service = options.service
  app.setErrorHandler(settlementErrorHandler)

  app.get<{ Querystring: WindowQuery }>(
    '/settlementWindows',
    {
      schema: {
        summary: 'Lists settlement windows',
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: [...WINDOW_STATES] },
            participantId: { type: 'string', minLength: 1, maxLength: 32 },
            fromDateTime: { type: 'string', format: 'date-time' },
            toDateTime: { type: 'string', format: 'date-time' },
          },
        },
        response: { 200: { type: 'array', items: windowSchema }, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query
      const windows = await service.listWindows({
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(q.participantId === undefined ? {} : { participantId: q.participantId }),
        ...(q.fromDateTime === undefined ? {} : { fromMs: Date.parse(q.fromDateTime) }),
        ...(q.toDateTime === undefined ? {} : { toMs: Date.parse(q.toDateTime) }),
      })
      return windows.map(windowToJson)
    },
  )

  app.get<{ Params: IdParams }>(
    '/settlementWindows/:id',
    { schema: { summary: 'Returns one settlement window', params: idParams, response: { 200: windowSchema, ...errorResponses } } },
    async (request) => windowToJson(await service.getWindow(request.params.id)),
  )

  app.post<{ Params: IdParams; Body: CloseBody }>(
    '/settlementWindows/:id',
    {
      schema: {
        summary: 'Closes the OPEN settlement window and answers with the window opened in its place',
        params: idParams,
        body: { type: 'object', required: ['state', 'reason'], properties: { state: { type: 'string', enum: ['CLOSED'] }, reason } },
        response: { 200: windowSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { opened } = await service.closeWindow(request.params.id, request.body.reason)
      return windowToJson(opened)
    },
  )

  app.get<{ Params: IdParams }>(
    '/settlementWindows/:id/report',
    { schema: { summary: "Sent, received and net per participant and currency over a window's transfers", params: idParams, response: { 200: reportSchema, ...errorResponses } } },
    async (request) => reportToJson(await service.windowReport(request.params.id)),
  )

  app.get<{ Params: IdParams }>(
    '/settlementWindows/:id/report.csv',
    { schema: { summary: 'The window report as CSV', params: idParams, response: errorResponses } },
    async (request, reply) => sendCsv(reply, `settlement-window-${request.params.id}.csv`, reportToCsv(await service.windowReport(request.params.id))),
  )

  // Settlement models, in central-ledger's shapes, so that Mojaloop's hub setup scripts run unchanged.
  const modelSchema = {
    type: 'object',
    required: ['name', 'settlementGranularity', 'settlementInterchange', 'settlementDelay', 'requireLiquidityCheck', 'ledgerAccountType', 'autoPositionReset', 'settlementAccountType'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: MODEL_LENGTH_MAX },
      settlementGranularity: { type: 'string', enum: ['GROSS', 'NET'] },
      settlementInterchange: { type: 'string', enum: ['BILATERAL', 'MULTILATERAL'] },
      settlementDelay: { type: 'string', enum: ['IMMEDIATE', 'DEFERRED'] },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      requireLiquidityCheck: { type: 'boolean' },
      ledgerAccountType: { type: 'string', minLength: 1, maxLength: 64 },
      autoPositionReset: { type: 'boolean' },
      settlementAccountType: { type: 'string', minLength: 1, maxLength: 64 },
    },
  } as const
  const modelToJson = (m: SettlementModelRecord) => ({
    name: m.name,
    isActive: m.isActive,
    settlementGranularity: 'NET',
    settlementInterchange: 'MULTILATERAL',
    settlementDelay: 'DEFERRED',
    currency: m.currency,
    requireLiquidityCheck: m.requireLiquidityCheck,
    ledgerAccountType: 'POSITION',
    autoPositionReset: m.autoPositionReset,
    settlementAccountType: 'SETTLEMENT',
  })
  app.post('/settlementModels', { schema: { summary: 'Registers a settlement model (deferred multilateral net only)', body: modelSchema } }, async (request, reply) => {
    await service.createModel(request.body as SettlementModelInput)
    return reply.status(201).send()
  })
  app.get('/settlementModels', { schema: { summary: 'Lists the settlement models' } }, async () => (await service.models()).map(modelToJson))
  app.get<{ Params: { name: string } }>('/settlementModels/:name', { schema: { summary: 'One settlement model' } }, async (request) => modelToJson((await service.models(request.params.name))[0] as SettlementModelRecord))
  app.put<{ Params: { name: string }; Body: { isActive: boolean } }>(
    '/settlementModels/:name',
    { schema: { summary: 'Activates or deactivates a settlement model', body: { type: 'object', required: ['isActive'], properties: { isActive: { type: 'boolean' } } } } },
    async (request) => modelToJson(await service.setModelActive(request.params.name, request.body.isActive)),
  )

  app.post<{ Body: CreateBody }>(
    '/settlements',
    {
      schema: {
        summary: 'Creates a deferred net settlement over CLOSED windows',
        body: {
          type: 'object',
          required: ['settlementModel', 'reason', 'settlementWindows'],
          properties: {
            settlementModel: { type: 'string', minLength: 1, maxLength: MODEL_LENGTH_MAX },
            reason,
            settlementWindows: {
              type: 'array',
              minItems: 1,
              maxItems: SETTLEMENT_WINDOWS_MAX,
              uniqueItems: true,
              items: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } },
            },
          },
        },
        response: { 200: settlementSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body
      const settlement = await service.createSettlement({
        windowIds: body.settlementWindows.map((w) => w.id),
        reason: body.reason,
        model: body.settlementModel,
      })
      return settlementToJson(settlement)
    },
  )

  app.get<{ Params: IdParams }>(
    '/settlements/:id',
    { schema: { summary: 'Returns one settlement', params: idParams, response: { 200: settlementSchema, ...errorResponses } } },
    async (request) => settlementToJson(await service.getSettlement(request.params.id)),
  )

  app.put<{ Params: IdParams; Body: UpdateBody }>(
    '/settlements/:id',
    {
      schema: {
        summary: 'Settles (SETTLED) or aborts (ABORTED) a settlement',
        params: idParams,
        body: settlementUpdate,
        response: { 200: settlementSchema, ...errorResponses },
      },
    },
    async (request) => {
      const id = request.params.id
      const body = request.body
      if (body.participants === undefined) {
        const why = body.reason as string
        const settlement = body.state === 'ABORTED' ? await service.abortSettlement(id, why) : await service.settle(id, why)
        return settlementToJson(settlement)
      }
      return settlementToJson(await updateByAccounts(service, id, body))
    },
  )

  app.get<{ Params: IdParams }>(
    '/settlements/:id/report',
    { schema: { summary: 'Sent, received and net per participant and currency of a settlement', params: idParams, response: { 200: reportSchema, ...errorResponses } } },
    async (request) => reportToJson(await service.settlementReport(request.params.id)),
  )

  app.get<{ Params: IdParams }>(
    '/settlements/:id/report.csv',
    { schema: { summary: 'The settlement report as CSV', params: idParams, response: errorResponses } },
    async (request, reply) => sendCsv(reply, `settlement-${request.params.id}.csv`, reportToCsv(await service.settlementReport(request.params.id))),
  )
}

/**
 * Mojaloop's per-account form. Kivuko settles a settlement as a whole: when every account of it is named
 * SETTLED the settlement is settled; accounts moving through the PS_TRANSFERS_* steps change nothing
 * (settling does those steps at once); anything in between is refused.
 */
async function updateByAccounts(service: SettlementService, id: number, body: UpdateBody): Promise<Settlement> {
  const settlement = await service.getSettlement(id)
  const known = new Map(settlement.participants.map((p) => [participantAccountId(p.fsp, p.currency, 'POSITION'), p.fsp]))
  const named = new Map<string, AccountUpdate>()
  for (const participant of body.participants ?? []) {
    for (const account of participant.accounts) {
      const accountId = String(account.id)
      if (known.get(accountId) !== participant.id) {
        throw new ValidationError(`settlement ${id} has no account ${accountId} of participant ${participant.id}`, { accountId, participantId: participant.id })
      }
      named.set(accountId, account)
    }
  }
  const settledCount = [...named.values()].filter((a) => a.state === 'SETTLED').length
  if (settledCount === 0) return settlement
  if (settledCount !== known.size) {
    throw new ValidationError(`settlement ${id} is settled as a whole: name all of its ${known.size} accounts with state SETTLED`, { settlementId: id })
  }
  const first = [...named.values()].find((a) => a.reason !== undefined)
  return service.settle(id, body.reason ?? first?.reason ?? 'settled')
}

function sendCsv(reply: FastifyReply, filename: string, csv: string): FastifyReply {
  return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(csv)
}

/** One mapping for every failure on these routes: the catalogue's FSPIOP code and HTTP status. */
function settlementErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const hubError = toHubError(error)
  if (hubError.spec.http >= 500) request.log.error({ err: error }, 'settlement request failed')
  else request.log.info({ code: hubError.code, details: hubError.details }, 'settlement request rejected')
  return reply.status(hubError.spec.http).send({ errorInformation: { errorCode: hubError.spec.fspiop, errorDescription: hubError.message } })
}

function toHubError(error: FastifyError): HubError {
  if (error instanceof HubError) return error
  // Schema failures carry `validation`: the client sent a request the API does not accept.
  if (error.validation !== undefined) return new ValidationError(error.message)
  // Fastify's own 4xx (unparsable JSON, wrong content type, body too large) are the client's too.
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new HubError(error.statusCode === 413 ? 'TOO_LARGE_PAYLOAD' : 'MALFORMED_SYNTAX', error.message)
  }
  return new HubError('INTERNAL', 'Internal server error', {}, { cause: error })
}
