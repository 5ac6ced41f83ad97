// SPDX-License-Identifier: Apache-2.0
/**
 * The switch's FSPIOP API over HTTP. Each request passes, in order: the FSPIOP headers (reference §1.3),
 * authentication (a per-participant bearer token whose participant must be the FSPIOP-Source, so a
 * participant cannot speak for another), and the v1.1 body schema. Failures are answered synchronously
 * with errorInformation; everything else is accepted (202 for requests, 200 for callbacks) once the switch
 * has made it durable, and answered through callbacks.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { HubError, ValidationError } from '../../core/errors.ts'
import { validateFspiopBody, validateFspiopHeaders, requireFspiopSignature, type FspiopResource, type HttpMethod } from '../../fspiop/index.ts'
import type { Inbound, PartyPath, Switch } from '../../switch/switch.ts'
import { FspiopRoutes, logBindingsOf, type FspiopHttpRequest } from '../fspiop-routes.ts'

export interface FspiopAppOptions {
  readonly hub: Switch
  /** 'token' (the default): every request carries `Authorization: Bearer <token>` of its FSPIOP-Source. */
  readonly auth?: 'token' | 'none'
  readonly logger?: boolean | object
  /** Called with each request's outcome for metrics: route, status, duration. */
  readonly onResponse?: (route: string, method: string, status: number, durationMs: number) => void
}

type Params = Readonly<Record<string, string | undefined>>

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

export function buildFspiopApp(options: FspiopAppOptions): FastifyInstance {
  // The routes of the table are served by the lean path first (see fspiop-routes.ts); `app` serves the rest.
  const routes = new FspiopRoutes({
    bodyLimit: 5_242_880,
    logFailure: (error, url) => app.log.error({ err: error, ...logBindingsOf(url) }, 'request failed'),
    ...(options.onResponse === undefined ? {} : { onResponse: options.onResponse }),
  })
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 5_242_880,
    routerOptions: { caseSensitive: true },
    return503OnClosing: true,
    serverFactory: routes.serverFactory(),
    // The request's own child logger gets the ids too: one child per request rather than a second one in a hook.
    childLoggerFactory: (logger, bindings, childOptions, rawRequest) => {
      const ids = logBindingsOf(rawRequest.url ?? '')
      return logger.child(ids === undefined ? bindings : { ...bindings, ...ids }, childOptions)
    },
  })
  const hub = options.hub
  const auth = options.auth ?? 'token'

  /** The checks every FSPIOP route makes before the switch sees the message. */
  const inbound = async (request: FspiopHttpRequest, resource: FspiopResource, path: string): Promise<Inbound> => {
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
    const rawBody = request.rawBody
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

  /** GET and DELETE /participants take `?currency=` to name the currency the party is looked up in. */
  const currencyQuery = (request: FspiopHttpRequest): string | undefined => {
    const currency = request.query.currency as string | undefined
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) throw new ValidationError('Malformed syntax: currency', { element: 'currency' }, 'MALFORMED_SYNTAX')
    return currency
  }

  for (const sub of ['', '/:subId']) {
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      routes.add(method, `/participants/:type/:id${sub}`, async (request) => {
        const message = await inbound(request, 'participants', partyPath('participants', request.params))
        await hub.participantsRequest(message, party(request.params), method === 'POST' ? undefined : currencyQuery(request))
        return 202
      })
    }
    routes.add('GET', `/parties/:type/:id${sub}`, async (request) => {
      await hub.getParties(await inbound(request, 'parties', partyPath('parties', request.params)), party(request.params))
      return 202
    })
    routes.add('PUT', `/parties/:type/:id${sub}`, async (request) => {
      await hub.putParties(await inbound(request, 'parties', partyPath('parties', request.params)), party(request.params), false)
      return 200
    })
    routes.add('PUT', `/parties/:type/:id${sub}/error`, async (request) => {
      await hub.putParties(await inbound(request, 'parties', partyPath('parties', request.params, '/error')), party(request.params), true)
      return 200
    })
  }
  routes.add('POST', '/participants', async (request) => {
    await hub.participantsBatch(await inbound(request, 'participants', '/participants'))
    return 202
  })

  /**
   * FSPIOP's shape for a resource with a life cycle: POST creates it (202), GET asks for it (202, answered by
   * callback), PUT is the callback with its state (200), PUT …/error the callback with an error (200).
   */
  const lifeCycle = (
    resource: 'quotes' | 'transfers',
    on: {
      readonly post: (message: Inbound) => Promise<void>
      readonly get: (message: Inbound, id: string) => Promise<void>
      readonly put: (message: Inbound, id: string) => Promise<void>
      readonly error: (message: Inbound, id: string) => Promise<void>
    },
  ): void => {
    routes.add('POST', `/${resource}`, async (request) => {
      await on.post(await inbound(request, resource, `/${resource}`))
      return 202
    })
    for (const [method, suffix, handle, status] of [
      ['GET', '', on.get, 202],
      ['PUT', '', on.put, 200],
      ['PUT', '/error', on.error, 200],
    ] as const) {
      routes.add(method, `/${resource}/:id${suffix}`, async (request) => {
        const id = request.params.id as string
        await handle(await inbound(request, resource, `/${resource}/${id}${suffix}`), id)
        return status
      })
    }
  }
  lifeCycle('quotes', {
    post: (message) => hub.postQuote(message),
    get: (message, id) => hub.getQuote(message, id),
    put: (message, id) => hub.putQuote(message, id, false),
    error: (message, id) => hub.putQuote(message, id, true),
  })
  lifeCycle('transfers', {
    post: (message) => hub.prepareTransfer(message),
    get: (message, id) => hub.getTransfer(message, id),
    put: (message, id) => hub.fulfilTransfer(message, id),
    error: (message, id) => hub.transferError(message, id),
  })

  // Payee-initiated flows (ATM cash-out, merchant payments): relayed without state.
  const relay = async (request: FspiopHttpRequest, resource: 'transactionRequests' | 'authorizations' | 'transactions', id: string | undefined, suffix: '' | '/error', check?: () => void): Promise<200 | 202> => {
    const path = `/${resource}${id === undefined ? '' : `/${encodeURIComponent(id)}`}${suffix}`
    const message = await inbound(request, resource, path)
    check?.()
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''
    await hub.relayToDestination(message, resource, id ?? (request.body as { transactionRequestId?: string } | undefined)?.transactionRequestId, `${path}${query}`)
    return request.method === 'PUT' ? 200 : 202
  }
  routes.add('POST', '/transactionRequests', async (request) => relay(request, 'transactionRequests', undefined, ''))
  for (const resource of ['transactionRequests', 'authorizations', 'transactions'] as const) {
    // GET /authorizations carries in its query what the payee's device must show and collect.
    const check = resource === 'authorizations' ? (request: FspiopHttpRequest) => () => checkAuthorizationQuery(request.query as Record<string, string | undefined>) : () => undefined
    routes.add('GET', `/${resource}/:id`, async (request) => relay(request, resource, request.params.id as string, '', check(request)))
    routes.add('PUT', `/${resource}/:id`, async (request) => relay(request, resource, request.params.id as string, ''))
    routes.add('PUT', `/${resource}/:id/error`, async (request) => relay(request, resource, request.params.id as string, '/error'))
  }

  routes.attach(app)
  routes.leaveToFastify('GET', '/health')
  app.get('/health', async () => ({ status: 'OK' }))
  return app
}
