// SPDX-License-Identifier: Apache-2.0
/**
 * The switch's FSPIOP API over HTTP. Each request passes, in order: the FSPIOP headers (reference §1.3),
 * authentication (a per-participant bearer token whose participant must be the FSPIOP-Source, so a
 * participant cannot speak for another), and the v1.1 body schema. Failures are answered synchronously
 * with errorInformation; everything else is accepted (202 for requests, 200 for callbacks) once the switch
 * has made it durable, and answered through callbacks.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { HubError, ValidationError } from '../../core/errors.ts'
import { errorInformationOf, httpStatusOf, validateFspiopBody, validateFspiopHeaders, requireFspiopSignature, type FspiopResource, type HttpMethod } from '../../fspiop/index.ts'
import type { Inbound, PartyPath, Switch } from '../../switch/switch.ts'

export interface FspiopAppOptions {
  readonly hub: Switch
  /** 'token' (the default): every request carries `Authorization: Bearer <token>` of its FSPIOP-Source. */
  readonly auth?: 'token' | 'none'
  readonly logger?: boolean | object
  /** Called with each request's outcome for metrics: route, status, duration. */
  readonly onResponse?: (route: string, method: string, status: number, durationMs: number) => void
}

const FSPIOP_JSON = /^application\/vnd\.interoperability\.[a-zA-Z]+\+json/

type Params = Record<string, string>

/** GET /authorizations carries what the payee's device must show and collect (reference §2.5). */
function checkAuthorizationQuery(query: Record<string, string | undefined>): void {
  for (const name of ['authenticationType', 'retriesLeft', 'amount', 'currency']) {
    if (query[name] === undefined || query[name] === '') throw new ValidationError(`Missing mandatory element: ${name}`, { element: name }, 'MISSING_ELEMENT')
  }
  if (query.authenticationType !== 'OTP' && query.authenticationType !== 'QRCODE' && query.authenticationType !== 'U2F') {
    throw new ValidationError('Malformed syntax: authenticationType', { element: 'authenticationType' }, 'MALFORMED_SYNTAX')
  }
  if (!/^[1-9]\d*$/.test(query.retriesLeft as string)) throw new ValidationError('Malformed syntax: retriesLeft', { element: 'retriesLeft' }, 'MALFORMED_SYNTAX')
  if (!/^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$/.test(query.amount as string)) throw new ValidationError('Malformed syntax: amount', { element: 'amount' }, 'MALFORMED_SYNTAX')
  if (!/^[A-Z]{3}$/.test(query.currency as string)) throw new ValidationError('Malformed syntax: currency', { element: 'currency' }, 'MALFORMED_SYNTAX')
}

/** What every log line of a request names, from its path: the transfer or quote id, or the party id type. */
export function logBindingsOf(url: string): Readonly<Record<string, string>> | undefined {
  const [, resource, first, second] = url.split('?')[0]?.split('/') ?? []
  if (first === undefined) return undefined
  if (resource === 'transfers') return { transferId: first }
  if (resource === 'quotes') return { quoteId: first }
  if ((resource === 'parties' || resource === 'participants') && second !== undefined) return { partyIdType: first }
  return undefined
}

export function buildFspiopApp(options: FspiopAppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 5_242_880,
    routerOptions: { caseSensitive: true },
    return503OnClosing: true,
    // The request's own child logger gets the ids too: one child per request rather than a second one in a hook.
    childLoggerFactory: (logger, bindings, childOptions, rawRequest) => {
      const ids = logBindingsOf(rawRequest.url ?? '')
      return logger.child(ids === undefined ? bindings : { ...bindings, ...ids }, childOptions)
    },
  })
  const hub = options.hub
  const auth = options.auth ?? 'token'

  // FSPIOP bodies come as application/vnd.interoperability.<resource>+json;version=…; malformed JSON is 3101.
  // The text is kept too: signatures are verified on it and relays pass it on byte for byte.
  const rawBodies = new WeakMap<FastifyRequest, string>()
  const parseJson = (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void => {
    if (body === '') return done(null, undefined)
    rawBodies.set(request, body)
    try {
      done(null, JSON.parse(body))
    } catch {
      done(new ValidationError('Malformed syntax: the body is not JSON', {}, 'MALFORMED_SYNTAX'))
    }
  }
  app.addContentTypeParser(FSPIOP_JSON, { parseAs: 'string' }, parseJson)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson)

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number; code?: string }, request, reply) => {
    let hubError: HubError
    if (error instanceof HubError) hubError = error
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') hubError = new ValidationError('Too large payload', {}, 'TOO_LARGE_PAYLOAD')
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') hubError = new ValidationError('Malformed syntax: unsupported content type', {}, 'MALFORMED_SYNTAX')
    else if (typeof error.statusCode === 'number' && error.statusCode < 500) hubError = new ValidationError(`Malformed syntax: ${error.message}`, {}, 'MALFORMED_SYNTAX')
    else {
      request.log.error({ err: error }, 'request failed')
      hubError = new HubError('INTERNAL', 'Internal server error')
    }
    return reply.status(httpStatusOf(hubError)).send(errorInformationOf(hubError))
  })
  app.setNotFoundHandler((_request, reply) => {
    const error = new ValidationError('Unknown URI', {}, 'UNKNOWN_URI')
    return reply.status(404).send(errorInformationOf(error))
  })
  if (options.onResponse !== undefined) {
    const onResponse = options.onResponse
    // A callback hook: an async one costs a promise per request for nothing here.
    app.addHook('onResponse', (request, reply, done) => {
      onResponse(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime)
      done()
    })
  }

  /** The checks every FSPIOP route makes before the switch sees the message. */
  const inbound = async (request: FastifyRequest, resource: FspiopResource, path: string): Promise<Inbound> => {
    const method = request.method as HttpMethod
    const headerCheck = validateFspiopHeaders(request.headers as Record<string, string | undefined>, { method, resource })
    if (!headerCheck.ok) throw headerCheck.error
    const headers = headerCheck.value
    if (auth === 'token') {
      const authorization = request.headers.authorization
      const token = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined
      const caller = token === undefined || token === '' ? undefined : await hub.authenticate(token)
      if (caller === undefined) throw new HubError('PAYER_PERMISSION_ERROR', 'Unauthenticated: a participant bearer token is required')
      if (caller !== headers.source) throw new HubError('PAYER_PERMISSION_ERROR', 'FSPIOP-Source is not the authenticated participant')
    }
    const rawBody = rawBodies.get(request)
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const key = await hub.verificationKeyOf(headers.source)
      if (key !== undefined) await requireFspiopSignature({ method, uri: request.url, headers: request.headers, rawBody: rawBody ?? '' }, key, headers.source)
      const bodyCheck = validateFspiopBody(method, path, request.body)
      if (!bodyCheck.ok) throw bodyCheck.error
    }
    return { method, path, headers, raw: request.headers, body: request.body, ...(rawBody === undefined ? {} : { rawBody }) }
  }

  const party = (params: Params): PartyPath => ({
    partyIdType: params.type as string,
    partyIdentifier: params.id as string,
    ...(params.subId === undefined ? {} : { partySubIdOrType: params.subId }),
  })
  const partyPath = (resource: string, params: Params, suffix = ''): string =>
    `/${resource}/${encodeURIComponent(params.type as string)}/${encodeURIComponent(params.id as string)}${params.subId === undefined ? '' : `/${encodeURIComponent(params.subId)}`}${suffix}`

  const accepted = (reply: FastifyReply): FastifyReply => reply.status(202).send()
  const ok = (reply: FastifyReply): FastifyReply => reply.status(200).send()

  /** GET and DELETE /participants take `?currency=` to name the currency the party is looked up in. */
  const currencyQuery = (request: FastifyRequest): string | undefined => {
    const currency = (request.query as Record<string, string | undefined>).currency
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) throw new ValidationError('Malformed syntax: currency', { element: 'currency' }, 'MALFORMED_SYNTAX')
    return currency
  }

  for (const sub of ['', '/:subId']) {
    app.get(`/participants/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await hub.participantsRequest(await inbound(request, 'participants', partyPath('participants', params)), party(params), currencyQuery(request))
      return accepted(reply)
    })
    app.post(`/participants/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await hub.participantsRequest(await inbound(request, 'participants', partyPath('participants', params)), party(params))
      return accepted(reply)
    })
    app.delete(`/participants/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await hub.participantsRequest(await inbound(request, 'participants', partyPath('participants', params)), party(params), currencyQuery(request))
      return accepted(reply)
    })
    app.get(`/parties/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await hub.getParties(await inbound(request, 'parties', partyPath('parties', params)), party(params))
      return accepted(reply)
    })
    app.put(`/parties/:type/:id${sub}`, async (request, reply) => {
      const params = request.params as Params
      await hub.putParties(await inbound(request, 'parties', partyPath('parties', params)), party(params), false)
      return ok(reply)
    })
    app.put(`/parties/:type/:id${sub}/error`, async (request, reply) => {
      const params = request.params as Params
      await hub.putParties(await inbound(request, 'parties', partyPath('parties', params, '/error')), party(params), true)
      return ok(reply)
    })
  }
  app.post('/participants', async (request, reply) => {
    await hub.participantsBatch(await inbound(request, 'participants', '/participants'))
    return accepted(reply)
  })

  app.post('/quotes', async (request, reply) => {
    await hub.postQuote(await inbound(request, 'quotes', '/quotes'))
    return accepted(reply)
  })
  app.get('/quotes/:id', async (request, reply) => {
    const { id } = request.params as Params
    await hub.getQuote(await inbound(request, 'quotes', `/quotes/${id}`), id as string)
    return accepted(reply)
  })
  app.put('/quotes/:id', async (request, reply) => {
    const { id } = request.params as Params
    await hub.putQuote(await inbound(request, 'quotes', `/quotes/${id}`), id as string, false)
    return ok(reply)
  })
  app.put('/quotes/:id/error', async (request, reply) => {
    const { id } = request.params as Params
    await hub.putQuote(await inbound(request, 'quotes', `/quotes/${id}/error`), id as string, true)
    return ok(reply)
  })

  app.post('/transfers', async (request, reply) => {
    await hub.prepareTransfer(await inbound(request, 'transfers', '/transfers'))
    return accepted(reply)
  })
  app.get('/transfers/:id', async (request, reply) => {
    const { id } = request.params as Params
    await hub.getTransfer(await inbound(request, 'transfers', `/transfers/${id}`), id as string)
    return accepted(reply)
  })
  app.put('/transfers/:id', async (request, reply) => {
    const { id } = request.params as Params
    await hub.fulfilTransfer(await inbound(request, 'transfers', `/transfers/${id}`), id as string)
    return ok(reply)
  })
  app.put('/transfers/:id/error', async (request, reply) => {
    const { id } = request.params as Params
    await hub.transferError(await inbound(request, 'transfers', `/transfers/${id}/error`), id as string)
    return ok(reply)
  })

  // Payee-initiated flows (ATM cash-out, merchant payments): relayed without state.
  const relay = (resource: 'transactionRequests' | 'authorizations' | 'transactions', withId: boolean, suffix: '' | '/error') => async (request: FastifyRequest, reply: FastifyReply) => {
    const id = withId ? ((request.params as Params).id as string) : undefined
    const path = `/${resource}${id === undefined ? '' : `/${encodeURIComponent(id)}`}${suffix}`
    const message = await inbound(request, resource, path)
    if (resource === 'authorizations' && request.method === 'GET') checkAuthorizationQuery(request.query as Record<string, string | undefined>)
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''
    await hub.relayToDestination(message, resource, id ?? (request.body as { transactionRequestId?: string } | undefined)?.transactionRequestId, `${path}${query}`)
    return request.method === 'PUT' ? ok(reply) : accepted(reply)
  }
  app.post('/transactionRequests', relay('transactionRequests', false, ''))
  for (const resource of ['transactionRequests', 'authorizations', 'transactions'] as const) {
    app.get(`/${resource}/:id`, relay(resource, true, ''))
    app.put(`/${resource}/:id`, relay(resource, true, ''))
    app.put(`/${resource}/:id/error`, relay(resource, true, '/error'))
  }

  app.get('/health', async () => ({ status: 'OK' }))
  return app
}
