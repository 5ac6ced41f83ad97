// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's FSPIOP API: the callback endpoints it registers with the switch. Each request passes, in
 * order: the FSPIOP headers (reference §1.3; versions 1.0 and 1.1), the bearer token when one is
 * configured, FSPIOP-Destination (when present it must be this DFSP), and the v1.1 body schema. A failure
 * is answered synchronously with errorInformation. Anything else is acknowledged at once (202 for
 * requests, 200 for callbacks and PATCH) and worked on afterwards, answering through callbacks.
 */
import { timingSafeEqual, type KeyObject } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { HubError, ValidationError } from '../../core/errors.ts'
import type { CallbackAnswer, Dfsp, Inbound, TransactionRequestsPostRequest } from '../../dfsp/index.ts'
import {
  CONTENT_LENGTH_MAX,
  errorInformationOf,
  FSPIOP_BODY_ROUTES,
  httpStatusOf,
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
const FSPIOP_JSON = /^application\/vnd\.interoperability\.[a-zA-Z]+\+json/

type Params = Record<string, string>

export function buildDfspFspiopApp(options: DfspFspiopAppOptions): FastifyInstance {
  const { dfsp } = options
  const app = Fastify({ ...(options.loggerInstance === undefined ? { logger: false } : { loggerInstance: options.loggerInstance }), bodyLimit: CONTENT_LENGTH_MAX, routerOptions: { caseSensitive: true }, return503OnClosing: true })

  // With verification on, the text is kept for it: a signature covers the bytes as sent.
  const rawBodies = new WeakMap<FastifyRequest, string>()
  const keepsRawBodies = options.verificationKeyOf !== undefined
  const parseJson = (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void => {
    if (body === '') return done(null, undefined)
    if (keepsRawBodies) rawBodies.set(request, body)
    try {
      done(null, JSON.parse(body))
    } catch {
      done(new ValidationError('the body is not JSON', {}, 'MALFORMED_SYNTAX'))
    }
  }
  app.addContentTypeParser(FSPIOP_JSON, { parseAs: 'string' }, parseJson)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson)

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    let hubError: HubError
    if (error instanceof HubError) hubError = error
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') hubError = new ValidationError('Too large payload', {}, 'TOO_LARGE_PAYLOAD')
    else if (typeof error.statusCode === 'number' && error.statusCode < 500) hubError = new ValidationError(error.message, {}, 'MALFORMED_SYNTAX')
    else {
      request.log.error({ err: error }, 'FSPIOP request failed')
      hubError = new HubError('INTERNAL', 'Internal server error')
    }
    return reply.status(httpStatusOf(hubError)).send(errorInformationOf(hubError))
  })
  app.setNotFoundHandler((_request, reply) => reply.status(404).send(errorInformationOf(new ValidationError('Unknown URI', {}, 'UNKNOWN_URI'))))

  const expectedAuthorization = options.inboundToken === undefined ? undefined : Buffer.from(`Bearer ${options.inboundToken}`, 'utf8')

  /**
   * The checks of every route; answers who sent it and how to call back. `route` is the FSPIOP route the
   * Fastify route serves (undefined for GET): its body schema is known here, so the concrete path need not
   * be matched against every FSPIOP template again for each request.
   */
  const verificationKeyOf = options.verificationKeyOf
  const inbound = async (request: FastifyRequest, resource: FspiopResource, route?: FspiopBodyRoute): Promise<Inbound> => {
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
      await requireFspiopSignature({ method, uri: request.url, headers: request.headers, rawBody: rawBodies.get(request) ?? '' }, key, headers.source)
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

  const later = (reply: FastifyReply, status: 200 | 202, what: string, work: () => Promise<void> | void): FastifyReply => {
    dfsp.run(what, async () => work())
    return reply.status(status).send()
  }
  const success = (body: unknown): CallbackAnswer => ({ ok: true, body })
  const failure = (body: unknown): CallbackAnswer => {
    const parsed = parseErrorInformation(body)
    // The schema check above already passed, so this holds; the fallback keeps the types honest.
    return parsed.ok ? { ok: false, errorInformation: parsed.value.errorInformation } : { ok: false, errorInformation: { errorCode: '3100', errorDescription: 'unreadable error' } }
  }

  for (const sub of ['', '/:subId']) {
    app.get(`/parties/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      const from = await inbound(request, 'parties')
      return later(reply, 202, 'GET /parties', () => dfsp.onGetParty(from, params.type as string, params.id as string, params.subId))
    })
    app.put(`/parties/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await inbound(request, 'parties', sub === '' ? 'PUT /parties/{Type}/{ID}' : 'PUT /parties/{Type}/{ID}/{SubId}')
      return later(reply, 200, 'PUT /parties', () => dfsp.onPartyAnswer(params.type as string, params.id as string, params.subId, success(request.body)))
    })
    app.put(`/parties/:type/:id${sub}/error`, async (request, reply) => {
      const params = request.params as Params
      await inbound(request, 'parties', sub === '' ? 'PUT /parties/{Type}/{ID}/error' : 'PUT /parties/{Type}/{ID}/{SubId}/error')
      return later(reply, 200, 'PUT /parties/error', () => dfsp.onPartyAnswer(params.type as string, params.id as string, params.subId, failure(request.body)))
    })
    app.put(`/participants/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await inbound(request, 'participants', sub === '' ? 'PUT /participants/{Type}/{ID}' : 'PUT /participants/{Type}/{ID}/{SubId}')
      return later(reply, 200, 'PUT /participants', () => dfsp.onParticipantAnswer(params.type as string, params.id as string, params.subId, success(request.body)))
    })
    app.put(`/participants/:type/:id${sub}/error`, async (request, reply) => {
      const params = request.params as Params
      await inbound(request, 'participants', sub === '' ? 'PUT /participants/{Type}/{ID}/error' : 'PUT /participants/{Type}/{ID}/{SubId}/error')
      return later(reply, 200, 'PUT /participants/error', () => dfsp.onParticipantAnswer(params.type as string, params.id as string, params.subId, failure(request.body)))
    })
  }

  app.post('/quotes', async (request, reply) => {
    const from = await inbound(request, 'quotes', 'POST /quotes')
    return later(reply, 202, 'POST /quotes', () => dfsp.onQuoteRequest(from, request.body as QuotesPostRequest))
  })
  app.put('/quotes/:id', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'quotes', 'PUT /quotes/{ID}')
    return later(reply, 200, 'PUT /quotes', () => dfsp.onQuoteAnswer(id as string, success(request.body)))
  })
  app.put('/quotes/:id/error', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'quotes', 'PUT /quotes/{ID}/error')
    return later(reply, 200, 'PUT /quotes/error', () => dfsp.onQuoteAnswer(id as string, failure(request.body)))
  })

  app.post('/transfers', async (request, reply) => {
    const from = await inbound(request, 'transfers', 'POST /transfers')
    return later(reply, 202, 'POST /transfers', () => dfsp.onTransferPrepare(from, request.body as TransfersPostRequest))
  })
  app.put('/transfers/:id', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'transfers', 'PUT /transfers/{ID}')
    return later(reply, 200, 'PUT /transfers', () => dfsp.onTransferAnswer(id as string, success(request.body)))
  })
  app.put('/transfers/:id/error', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'transfers', 'PUT /transfers/{ID}/error')
    return later(reply, 200, 'PUT /transfers/error', () => dfsp.onTransferAnswer(id as string, failure(request.body)))
  })
  app.patch('/transfers/:id', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'transfers', 'PATCH /transfers/{ID}')
    return later(reply, 200, 'PATCH /transfers', () => dfsp.onTransferPatch(id as string, request.body as { transferState: string }))
  })

  // Payee-initiated transactions with OTP (reference §2.3, §2.5, §7)
  app.post('/transactionRequests', async (request, reply) => {
    const from = await inbound(request, 'transactionRequests', 'POST /transactionRequests')
    return later(reply, 202, 'POST /transactionRequests', () => dfsp.onTransactionRequest(from, request.body as TransactionRequestsPostRequest))
  })
  app.put('/transactionRequests/:id', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'transactionRequests', 'PUT /transactionRequests/{ID}')
    return later(reply, 200, 'PUT /transactionRequests', () => dfsp.onTransactionRequestAnswer(id as string, success(request.body)))
  })
  app.put('/transactionRequests/:id/error', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'transactionRequests', 'PUT /transactionRequests/{ID}/error')
    return later(reply, 200, 'PUT /transactionRequests/error', () => dfsp.onTransactionRequestAnswer(id as string, failure(request.body)))
  })
  app.get('/authorizations/:id', async (request, reply) => {
    const { id } = request.params as Params
    const from = await inbound(request, 'authorizations')
    const query = { ...(request.query as Record<string, string | undefined>) }
    return later(reply, 202, 'GET /authorizations', () => dfsp.onAuthorizationRequest(from, id as string, query))
  })
  app.put('/authorizations/:id', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'authorizations', 'PUT /authorizations/{ID}')
    return later(reply, 200, 'PUT /authorizations', () => dfsp.onAuthorizationAnswer(id as string, success(request.body)))
  })
  app.put('/authorizations/:id/error', async (request, reply) => {
    const { id } = request.params as Params
    await inbound(request, 'authorizations', 'PUT /authorizations/{ID}/error')
    return later(reply, 200, 'PUT /authorizations/error', () => dfsp.onAuthorizationAnswer(id as string, failure(request.body)))
  })

  app.get('/health', async () => ({ status: 'OK' }))
  return app
}
