// SPDX-License-Identifier: Apache-2.0
/**
 * The FSPIOP routes of an app, served on two paths from one table. Every transfer crosses a dozen FSPIOP
 * messages, and Fastify's request pipeline (request and reply objects, hooks, a child logger per request)
 * costs ~25 µs per request over a bare node:http handler (docs/perf/e2e-2026-12-07.txt): a tenth of what
 * the switch spends per message. So the ordinary request — a route of the table, a JSON body of a stated
 * length within the limit, request logging off — is served by a lean node:http handler that routes with
 * find-my-way (Fastify's own router, with Fastify's options), reads the body and runs the same handler.
 * Everything else (another content type, a chunked or oversized body, a URL find-my-way refuses, a route
 * outside the table, the app closing, request logging on) goes to Fastify unread, which has the same
 * routes, parsers and error handler: one behaviour, whichever path a request takes.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyRequest, FastifyServerFactory } from 'fastify'
import FindMyWay from 'find-my-way'
import { HubError, ValidationError } from '../core/errors.ts'
import { errorInformationOf, httpStatusOf } from '../fspiop/index.ts'

export type FspiopRouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** What a route's handler sees of a request, on either path. */
export interface FspiopHttpRequest {
  readonly method: FspiopRouteMethod
  /** The request target as sent (path and query): signatures cover it. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly params: Readonly<Record<string, string | undefined>>
  /** The query, parsed as Fastify parses it (find-my-way's fast-querystring: a repeated name gives an array). */
  readonly query: Readonly<Record<string, unknown>>
  /** The parsed JSON body; undefined when there is none. */
  readonly body: unknown
  /** The body's text as received, when there is one: signatures are verified on it and relays pass it on. */
  readonly rawBody: string | undefined
}

/** A route answers its status once the message is durable; failures are thrown and answered by the table's error mapping. */
export type FspiopRouteHandler = (request: FspiopHttpRequest) => Promise<200 | 202>

export interface FspiopRoutesOptions {
  readonly bodyLimit: number
  /** Logs a request that failed for an unexpected reason (it is answered 2001 Internal server error). */
  readonly logFailure: (error: unknown, url: string) => void
  /** Called with each request's outcome for metrics: route, method, status, duration. */
  readonly onResponse?: (route: string, method: string, status: number, durationMs: number) => void
}

/** FSPIOP bodies come as application/vnd.interoperability.<resource>+json;version=…; plain JSON is read too. */
const FSPIOP_JSON = /^application\/vnd\.interoperability\.[a-zA-Z]+\+json/
const MALFORMED_JSON = 'Malformed syntax: the body is not JSON'
/** The content types the lean path reads itself; any other (even one Fastify accepts) goes to Fastify. */
const LEAN_CONTENT_TYPE = /^(?:application\/vnd\.interoperability\.[a-zA-Z]+\+json(?:;\s?version=\d{1,2}(?:\.\d{1,2})?)?|application\/json(?:;\s?charset=utf-8)?)$/

/** Fastify's router options (its defaults, and caseSensitive as both apps set it), so both paths route alike. */
const ROUTER_OPTIONS = { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 100, useSemicolonDelimiter: false } as const

const FASTIFY_ONLY = Symbol('fastify only')

interface Route {
  readonly url: string
  readonly method: FspiopRouteMethod
  readonly handler: FspiopRouteHandler
}

export interface ErrorAnswer {
  readonly status: number
  readonly body: unknown
}

/**
 * What every log line of a request names, from its path: the transfer or quote id, or the party id type
 * (never the party identifier: an MSISDN or account number stays out of the logs).
 */
export function logBindingsOf(url: string): Readonly<Record<string, string>> | undefined {
  const [, resource, first, second] = url.split('?')[0]?.split('/') ?? []
  if (first === undefined) return undefined
  if (resource === 'transfers') return { transferId: first }
  if (resource === 'quotes') return { quoteId: first }
  if ((resource === 'parties' || resource === 'participants') && second !== undefined) return { partyIdType: first }
  return undefined
}

export class FspiopRoutes {
  readonly #options: FspiopRoutesOptions
  readonly #router = FindMyWay(ROUTER_OPTIONS)
  readonly #routes: Route[] = []
  readonly #rawBodies = new WeakMap<FastifyRequest, string>()
  #closing = false
  #fastifyLogsRequests = false

  constructor(options: FspiopRoutesOptions) {
    this.#options = options
  }

  /** Adds a route to both paths (call before `attach`). */
  add(method: FspiopRouteMethod, url: string, handler: FspiopRouteHandler): void {
    const route: Route = { url, method, handler }
    this.#routes.push(route)
    this.#router.on(method, url, () => undefined, route)
  }

  /**
   * Names a route the app registers on Fastify alone, so that the lean router knows every route Fastify
   * has and never serves a request with a looser pattern of its own that Fastify would route elsewhere.
   */
  leaveToFastify(method: FspiopRouteMethod, url: string): void {
    this.#router.on(method, url, () => undefined, FASTIFY_ONLY)
  }

  /** The Fastify option that makes the app's server try the lean path first. */
  serverFactory(): FastifyServerFactory {
    return (fastifyHandler, fastifyOptions) => {
      const serverOptions = fastifyOptions as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number }
      const server = createServer((request, response) => {
        if (!this.#serveLean(request, response)) fastifyHandler(request, response)
      })
      // What Fastify sets on the servers it makes itself (fastify/lib/server.js), from the same options.
      server.keepAliveTimeout = serverOptions.keepAliveTimeout ?? 72_000
      server.requestTimeout = serverOptions.requestTimeout ?? 0
      server.setTimeout(serverOptions.connectionTimeout ?? 0)
      if ((serverOptions.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = serverOptions.maxRequestsPerSocket ?? 0
      return server
    }
  }

  /**
   * Registers the table's routes, the JSON parsers and the error handler on the Fastify app (the path for
   * everything the lean one leaves, and for `inject`).
   */
  attach(app: FastifyInstance): void {
    const parseJson = (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void => {
      if (body === '') return done(null, undefined)
      this.#rawBodies.set(request, body)
      try {
        done(null, JSON.parse(body))
      } catch {
        done(new ValidationError(MALFORMED_JSON, {}, 'MALFORMED_SYNTAX'))
      }
    }
    app.addContentTypeParser(FSPIOP_JSON, { parseAs: 'string' }, parseJson)
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson)
    app.setErrorHandler((error: Error, request, reply) => {
      const answer = this.answerOf(error, request.url)
      return reply.status(answer.status).send(answer.body)
    })
    app.setNotFoundHandler((_request, reply) => reply.status(404).send(errorInformationOf(new ValidationError('Unknown URI', {}, 'UNKNOWN_URI'))))
    if (this.#options.onResponse !== undefined) {
      const onResponse = this.#options.onResponse
      // A callback hook: an async one costs a promise per request for nothing here.
      app.addHook('onResponse', (request, reply, done) => {
        onResponse(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime)
        done()
      })
    }
    for (const route of this.#routes) {
      app.route({ method: route.method, url: route.url, handler: async (request, reply) => reply.status(await route.handler(this.fromFastify(request))).send() })
    }
    // Fastify writes two lines per request at info and below; it keeps that job, so those apps take its path.
    const log = app.log as { isLevelEnabled?: (level: string) => boolean }
    this.#fastifyLogsRequests = app.initialConfig.disableRequestLogging !== true && typeof log.isLevelEnabled === 'function' && log.isLevelEnabled('info')
    app.addHook('preClose', (done) => {
      // From here Fastify answers 503 and closes the connection, as return503OnClosing says.
      this.#closing = true
      done()
    })
  }

  /** A Fastify request as the handlers see it. */
  fromFastify(request: FastifyRequest): FspiopHttpRequest {
    return {
      method: request.method as FspiopRouteMethod,
      url: request.url,
      headers: request.headers,
      params: request.params as Record<string, string>,
      query: request.query as Record<string, unknown>,
      body: request.body,
      rawBody: this.#rawBodies.get(request),
    }
  }

  /** The answer to a failed request: a HubError says its own; Fastify's own errors map to 3104 (too large) or 3101; anything else is 2001, logged. */
  answerOf(error: unknown, url: string): ErrorAnswer {
    const failure = error as Error & { statusCode?: number; code?: string }
    let hubError: HubError
    if (error instanceof HubError) hubError = error
    else if (failure.code === 'FST_ERR_CTP_BODY_TOO_LARGE') hubError = new ValidationError('Too large payload', {}, 'TOO_LARGE_PAYLOAD')
    else if (failure.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') hubError = new ValidationError('Malformed syntax: unsupported content type', {}, 'MALFORMED_SYNTAX')
    else if (typeof failure.statusCode === 'number' && failure.statusCode < 500) hubError = new ValidationError(`Malformed syntax: ${failure.message}`, {}, 'MALFORMED_SYNTAX')
    else {
      this.#options.logFailure(error, url)
      hubError = new HubError('INTERNAL', 'Internal server error')
    }
    return { status: httpStatusOf(hubError), body: errorInformationOf(hubError) }
  }

  /** Serves the request when it is an ordinary one (see the module comment); false leaves it, unread, to Fastify. */
  #serveLean(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.#closing || this.#fastifyLogsRequests) return false
    const method = request.method ?? ''
    const found = this.#router.find(method as 'GET', request.url ?? '')
    if (found === null || found.store === FASTIFY_ONLY) return false
    const headers = request.headers
    if (headers['transfer-encoding'] !== undefined) return false
    // Node has already refused a malformed Content-Length; Fastify answers one over the limit.
    const contentLength = headers['content-length']
    const length = contentLength === undefined ? 0 : Number(contentLength)
    if (!(length <= this.#options.bodyLimit)) return false
    // GET and DELETE with a body, and a content type Fastify may refuse (even with no body), are Fastify's.
    if (length > 0 && (method === 'GET' || method === 'DELETE')) return false
    const contentType = headers['content-type']
    if (contentType === undefined ? length > 0 : !LEAN_CONTENT_TYPE.test(contentType)) return false
    const route = found.store as Route
    const startedMs = performance.now()
    if (length === 0) {
      this.#handle(route, request, response, found, undefined, startedMs)
      return true
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => void chunks.push(chunk))
    request.on('end', () => {
      const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')
      this.#handle(route, request, response, found, text, startedMs)
    })
    // A client gone mid-body: nothing was accepted, so nothing is lost; the socket is already closing.
    request.on('error', () => response.destroy())
    return true
  }

  #handle(route: Route, request: IncomingMessage, response: ServerResponse, found: { params: Record<string, string | undefined>; searchParams: Record<string, unknown> }, rawBody: string | undefined, startedMs: number): void {
    const url = request.url as string
    let body: unknown
    if (rawBody !== undefined && rawBody !== '') {
      try {
        body = JSON.parse(rawBody)
      } catch {
        this.#answerError(route, request, response, new ValidationError(MALFORMED_JSON, {}, 'MALFORMED_SYNTAX'), startedMs)
        return
      }
    }
    const message: FspiopHttpRequest = { method: route.method, url, headers: request.headers, params: found.params, query: found.searchParams, body, rawBody: rawBody === '' ? undefined : rawBody }
    let answered: Promise<200 | 202>
    try {
      answered = route.handler(message)
    } catch (error) {
      this.#answerError(route, request, response, error, startedMs)
      return
    }
    answered.then(
      (status) => {
        response.writeHead(status, { 'content-length': '0' })
        response.end()
        this.#options.onResponse?.(route.url, route.method, status, performance.now() - startedMs)
      },
      (error: unknown) => this.#answerError(route, request, response, error, startedMs),
    )
  }

  #answerError(route: Route, request: IncomingMessage, response: ServerResponse, error: unknown, startedMs: number): void {
    const answer = this.answerOf(error, request.url as string)
    const text = JSON.stringify(answer.body)
    response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) })
    response.end(text)
    this.#options.onResponse?.(route.url, route.method, answer.status, performance.now() - startedMs)
  }
}
