// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's FSPIOP API: the callback endpoints it registers with the switch. Each request passes, in
 * order: the FSPIOP headers (reference §1.3; versions 1.0 and 1.1), the bearer token when one is
 * configured, FSPIOP-Destination (when present it must be this DFSP), and the v1.1 body schema. A failure
 * is answered synchronously with errorInformation. Anything else is acknowledged at once (202 for
 * requests, 200 for callbacks and PATCH) and worked on afterwards, answering through callbacks.
 */
import { timingSafeEqual, type KeyObject } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { HubError } from '../../core/errors.ts'
import type { CallbackAnswer, Dfsp, Inbound, TransactionRequestsPostRequest } from '../../dfsp/index.ts'
import {
  CONTENT_LENGTH_MAX,
  FSPIOP_BODY_ROUTES,
  parseErrorInformation,
  validateFspiopHeaders,
  validateFspiopSchema,
  requireFspiopSignature,
  type FspiopBodyRoute,
  type FspiopResource,
  type FspiopVersion,
  type HttpMethod,
  type QuotesPostRequest,
  type TransfersPostRequest,
} from '../../fspiop/index.ts'
import { FspiopRoutes, logBindingsOf, type FspiopHttpRequest } from '../fspiop-routes.ts'

export interface DfspFspiopAppOptions {
  readonly dfsp: Dfsp
  /** When set, every request must carry `Authorization: Bearer <inboundToken>`. */
  readonly inboundToken?: string
  /** Fastify logs through it (and the DFSP should too); none by default. */
  readonly loggerInstance?: FastifyBaseLogger
  /**
   * When set, every request with a body must carry a valid FSPIOP-Signature of its FSPIOP-Source, whose
   * public key this returns (undefined: none known, so the request is refused), as Mojaloop's SDK verifies
   * by default. PUT /parties is exempt, as in the SDK, whose DFSPs do not sign it unless told to.
   */
  readonly verificationKeyOf?: (fspId: string) => Promise<KeyObject | undefined>
}

/** This DFSP speaks v1.1 and reads 1.0 (Mojaloop's SDK still sends 1.0); a 2.0-only peer gets 3001. */
const VERSIONS: readonly FspiopVersion[] = ['1.1', '1.0']

export function buildDfspFspiopApp(options: DfspFspiopAppOptions): FastifyInstance {
  const { dfsp } = options
  // The routes of the table are served by the lean path first (see fspiop-routes.ts); `app` serves the rest.
  const routes = new FspiopRoutes({ bodyLimit: CONTENT_LENGTH_MAX, logFailure: (error, url) => app.log.error({ err: error, ...logBindingsOf(url) }, 'FSPIOP request failed') })
  const app = Fastify({
    ...(options.loggerInstance === undefined ? { logger: false } : { loggerInstance: options.loggerInstance }),
    bodyLimit: CONTENT_LENGTH_MAX,
    routerOptions: { caseSensitive: true },
    return503OnClosing: true,
    serverFactory: routes.serverFactory(),
  })

  const expectedAuthorization = options.inboundToken === undefined ? undefined : Buffer.from(`Bearer ${options.inboundToken}`, 'utf8')

  /**
   * The checks of every route; answers who sent it and how to call back. `route` is the FSPIOP route the
   * Fastify route serves (undefined for GET): its body schema is known here, so the concrete path need not
   * be matched against every FSPIOP template again for each request.
   */
  const verificationKeyOf = options.verificationKeyOf
  const inbound = async (request: FspiopHttpRequest, resource: FspiopResource, route?: FspiopBodyRoute): Promise<Inbound> => {
    const method = request.method as HttpMethod
    const checked = validateFspiopHeaders(request.headers as Record<string, string | undefined>, { method, resource, supportedVersions: VERSIONS })
    if (!checked.ok) throw checked.error
    if (expectedAuthorization !== undefined) {
      const given = Buffer.from(typeof request.headers.authorization === 'string' ? request.headers.authorization : '', 'utf8')
      if (given.length !== expectedAuthorization.length || !timingSafeEqual(given, expectedAuthorization)) {
        throw new HubError('PAYER_PERMISSION_ERROR', 'Unauthenticated: the bearer token is missing or wrong')
      }
    }
    const headers = checked.value
    if (headers.destination !== undefined && headers.destination !== dfsp.config.dfspId) {
      throw new HubError('DESTINATION_FSP_ERROR', `FSPIOP-Destination ${headers.destination} is not ${dfsp.config.dfspId}`)
    }
    if (verificationKeyOf !== undefined && route !== undefined && !(method === 'PUT' && resource === 'parties')) {
      const key = await verificationKeyOf(headers.source)
      await requireFspiopSignature({ method, uri: request.url, headers: request.headers, rawBody: request.rawBody ?? '' }, key, headers.source)
    }
    if (route !== undefined) {
      const body = validateFspiopSchema(FSPIOP_BODY_ROUTES[route], request.body)
      if (!body.ok) throw body.error
    }
    return {
      source: headers.source,
      version: headers.responseVersion,
      trace: {
        ...(headers.traceparent === undefined ? {} : { traceparent: headers.traceparent }),
        ...(headers.tracestate === undefined ? {} : { tracestate: headers.tracestate }),
      },
    }
  }

  const later = (status: 200 | 202, what: string, work: () => Promise<void> | void): 200 | 202 => {
    dfsp.run(what, async () => work())
    return status
  }
  const success = (body: unknown): CallbackAnswer => ({ ok: true, body })
  const failure = (body: unknown): CallbackAnswer => {
    const parsed = parseErrorInformation(body)
    // The schema check above already passed, so this holds; the fallback keeps the types honest.
    return parsed.ok ? { ok: false, errorInformation: parsed.value.errorInformation } : { ok: false, errorInformation: { errorCode: '3100', errorDescription: 'unreadable error' } }
  }

  for (const sub of ['', '/:subId']) {
    routes.add('GET', `/parties/:type/:id${sub}`, async (request) => {
      const params = request.params
      const from = await inbound(request, 'parties')
      return later(202, 'GET /parties', () => dfsp.onGetParty(from, params.type as string, params.id as string, params.subId))
    })
    routes.add('PUT', `/parties/:type/:id${sub}`, async (request) => {
      const params = request.params
      await inbound(request, 'parties', sub === '' ? 'PUT /parties/{Type}/{ID}' : 'PUT /parties/{Type}/{ID}/{SubId}')
      return later(200, 'PUT /parties', () => dfsp.onPartyAnswer(params.type as string, params.id as string, params.subId, success(request.body)))
    })
    routes.add('PUT', `/parties/:type/:id${sub}/error`, async (request) => {
      const params = request.params
      await inbound(request, 'parties', sub === '' ? 'PUT /parties/{Type}/{ID}/error' : 'PUT /parties/{Type}/{ID}/{SubId}/error')
      return later(200, 'PUT /parties/error', () => dfsp.onPartyAnswer(params.type as string, params.id as string, params.subId, failure(request.body)))
    })
    routes.add('PUT', `/participants/:type/:id${sub}`, async (request) => {
      const params = request.params
      await inbound(request, 'participants', sub === '' ? 'PUT /participants/{Type}/{ID}' : 'PUT /participants/{Type}/{ID}/{SubId}')
      return later(200, 'PUT /participants', () => dfsp.onParticipantAnswer(params.type as string, params.id as string, params.subId, success(request.body)))
    })
    routes.add('PUT', `/participants/:type/:id${sub}/error`, async (request) => {
      const params = request.params
      await inbound(request, 'participants', sub === '' ? 'PUT /participants/{Type}/{ID}/error' : 'PUT /participants/{Type}/{ID}/{SubId}/error')
      return later(200, 'PUT /participants/error', () => dfsp.onParticipantAnswer(params.type as string, params.id as string, params.subId, failure(request.body)))
    })
  }

  routes.add('POST', '/quotes', async (request) => {
    const from = await inbound(request, 'quotes', 'POST /quotes')
    return later(202, 'POST /quotes', () => dfsp.onQuoteRequest(from, request.body as QuotesPostRequest))
  })
  routes.add('PUT', '/quotes/:id', async (request) => {
    const id = request.params.id
    await inbound(request, 'quotes', 'PUT /quotes/{ID}')
    return later(200, 'PUT /quotes', () => dfsp.onQuoteAnswer(id as string, success(request.body)))
  })
  routes.add('PUT', '/quotes/:id/error', async (request) => {
    const id = request.params.id
    await inbound(request, 'quotes', 'PUT /quotes/{ID}/error')
    return later(200, 'PUT /quotes/error', () => dfsp.onQuoteAnswer(id as string, failure(request.body)))
  })

  routes.add('POST', '/transfers', async (request) => {
    const from = await inbound(request, 'transfers', 'POST /transfers')
    return later(202, 'POST /transfers', () => dfsp.onTransferPrepare(from, request.body as TransfersPostRequest))
  })
  routes.add('PUT', '/transfers/:id', async (request) => {
    const id = request.params.id
    await inbound(request, 'transfers', 'PUT /transfers/{ID}')
    return later(200, 'PUT /transfers', () => dfsp.onTransferAnswer(id as string, success(request.body)))
  })
  routes.add('PUT', '/transfers/:id/error', async (request) => {
    const id = request.params.id
    await inbound(request, 'transfers', 'PUT /transfers/{ID}/error')
    return later(200, 'PUT /transfers/error', () => dfsp.onTransferAnswer(id as string, failure(request.body)))
  })
  routes.add('PATCH', '/transfers/:id', async (request) => {
    const id = request.params.id
    await inbound(request, 'transfers', 'PATCH /transfers/{ID}')
    return later(200, 'PATCH /transfers', () => dfsp.onTransferPatch(id as string, request.body as { transferState: string }))
  })

  // Payee-initiated transactions with OTP (reference §2.3, §2.5, §7)
  routes.add('POST', '/transactionRequests', async (request) => {
    const from = await inbound(request, 'transactionRequests', 'POST /transactionRequests')
    return later(202, 'POST /transactionRequests', () => dfsp.onTransactionRequest(from, request.body as TransactionRequestsPostRequest))
  })
  routes.add('PUT', '/transactionRequests/:id', async (request) => {
    const id = request.params.id
    await inbound(request, 'transactionRequests', 'PUT /transactionRequests/{ID}')
    return later(200, 'PUT /transactionRequests', () => dfsp.onTransactionRequestAnswer(id as string, success(request.body)))
  })
  routes.add('PUT', '/transactionRequests/:id/error', async (request) => {
    const id = request.params.id
    await inbound(request, 'transactionRequests', 'PUT /transactionRequests/{ID}/error')
    return later(200, 'PUT /transactionRequests/error', () => dfsp.onTransactionRequestAnswer(id as string, failure(request.body)))
  })
  routes.add('GET', '/authorizations/:id', async (request) => {
    const id = request.params.id
    const from = await inbound(request, 'authorizations')
    const query = { ...(request.query as Record<string, string | undefined>) }
    return later(202, 'GET /authorizations', () => dfsp.onAuthorizationRequest(from, id as string, query))
  })
  routes.add('PUT', '/authorizations/:id', async (request) => {
    const id = request.params.id
    await inbound(request, 'authorizations', 'PUT /authorizations/{ID}')
    return later(200, 'PUT /authorizations', () => dfsp.onAuthorizationAnswer(id as string, success(request.body)))
  })
  routes.add('PUT', '/authorizations/:id/error', async (request) => {
    const id = request.params.id
    await inbound(request, 'authorizations', 'PUT /authorizations/{ID}/error')
    return later(200, 'PUT /authorizations/error', () => dfsp.onAuthorizationAnswer(id as string, failure(request.body)))
  })

  routes.attach(app)
  routes.leaveToFastify('GET', '/health')
  app.get('/health', async () => ({ status: 'OK' }))
  return app
}
