// SPDX-License-Identifier: Apache-2.0
/**
 * Everything this DFSP sends to the switch: FSPIOP headers (source = this DFSP, destination when known,
 * the W3C trace context carried over), the bearer token, and a body checked against the v1.1 schema
 * before it leaves. Requests (GET, POST) are sent once: the caller decides what a refusal means.
 * Callbacks (PUT, PATCH) are retried on network errors, timeouts, 429 and 5xx with exponential backoff,
 * since FSPIOP leaves delivery to the sender and receivers accept duplicates (reference §1.1, §1.7).
 *
 * Retries are kept in memory: a callback still owed when the process stops is not sent later. That is
 * the FSPIOP recovery model: the peer resends its request (same id) or asks with GET, and this DFSP
 * answers again from what it stored before it first answered.
 */
import type { KeyObject } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Clock } from '../core/clock.ts'
import {
  bodyRouteOf,
  buildFspiopHeaders,
  canonicalJson,
  errorInformationFor,
  FSPIOP_BODY_ROUTES,
  isFspiopResource,
  parseErrorInformation,
  signFspiop,
  validateFspiopBody,
  validateFspiopSchema,
  type ErrorInformation,
  type FspiopBodyRoute,
  type FspiopResult,
  type FspiopVersion,
  type HttpMethod,
} from '../fspiop/index.ts'
import { assert } from '../core/assert.ts'
import type { DfspConfig } from './config.ts'
import type { DfspLogger, FspiopTransport } from './ports.ts'

export interface Trace {
  readonly traceparent?: string
  readonly tracestate?: string
}

export type SendOutcome =
  /** The switch took it (2xx). */
  | { readonly kind: 'accepted'; readonly status: number }
  /** The switch answered, but not with 2xx; with its errorInformation when it sent one. */
  | { readonly kind: 'refused'; readonly status: number; readonly errorInformation?: ErrorInformation }
  /** No answer: the switch could not be reached, or did not answer in time. */
  | { readonly kind: 'unreachable'; readonly error: 'timeout' | 'network'; readonly detail: string }

const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 5_000

export class SwitchApi {
  readonly #config: DfspConfig
  readonly #transport: FspiopTransport
  readonly #clock: Clock
  readonly #logger: DfspLogger
  readonly #signingKey: KeyObject | undefined
  readonly #stopped = new AbortController()

  constructor(config: DfspConfig, transport: FspiopTransport, clock: Clock, logger: DfspLogger, signingKey?: KeyObject) {
    this.#config = config
    this.#transport = transport
    this.#clock = clock
    this.#logger = logger
    this.#signingKey = signingKey
  }

  /** A request that starts an exchange (GET /parties, POST /quotes, …), sent once. */
  async request(method: 'GET' | 'POST', path: string, body: object | undefined, options: { readonly destination?: string; readonly trace?: Trace } = {}): Promise<SendOutcome> {
    if (body !== undefined) {
      const checked = validateOutgoingBody(method, path, body)
      // Our own request failing the schema is a bug in this DFSP, never the peer's fault.
      assert(checked.ok, `${method} ${path} would send an invalid body: ${checked.ok ? '' : checked.error.message}`)
    }
    return this.#send(method, path, body, options.destination, '1.1', options.trace)
  }

  /**
   * A callback (PUT …, PUT …/error). A body that fails the schema is a bug here; the peer is then sent
   * a 2001 error callback instead, so that it is not left waiting for an answer that never comes.
   */
  async callback(path: string, body: object, options: { readonly destination: string; readonly version?: FspiopVersion; readonly trace?: Trace }): Promise<SendOutcome> {
    let sendPath = path
    let sendBody = body
    const checked = validateOutgoingBody('PUT', path, body)
    if (!checked.ok) {
      this.#logger.error({ path, problem: checked.error.message }, 'a callback failed the FSPIOP schema; sending 2001 instead')
      sendPath = path.endsWith('/error') ? path : `${path}/error`
      sendBody = errorInformationFor('INTERNAL', 'the DFSP could not build a valid answer')
    }
    const attemptsMax = this.#config.callbackAttemptsMax
    let outcome: SendOutcome = { kind: 'unreachable', error: 'network', detail: 'not sent' }
    for (let attempt = 1; attempt <= attemptsMax; attempt += 1) {
      outcome = await this.#send('PUT', sendPath, sendBody, options.destination, options.version ?? '1.1', options.trace)
      if (!retryable(outcome) || attempt === attemptsMax || this.#stopped.signal.aborted) break
      const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1))
      try {
        await sleep(delayMs * (0.5 + Math.random() / 2), undefined, { signal: this.#stopped.signal })
      } catch {
        break
      }
    }
    if (outcome.kind !== 'accepted') this.#logger.warn({ path: sendPath, outcome }, 'callback to the switch was not accepted')
    return outcome
  }

  /** Stops retrying: callbacks waiting for their next attempt give up. */
  stop(): void {
    this.#stopped.abort()
  }

  async #send(method: HttpMethod, path: string, body: object | undefined, destination: string | undefined, version: FspiopVersion, trace: Trace | undefined): Promise<SendOutcome> {
    const resource = path.split('/')[1] ?? ''
    assert(isFspiopResource(resource), `not an FSPIOP path: ${path}`)
    const headers = buildFspiopHeaders({
      resource,
      method,
      source: this.#config.dfspId,
      version,
      nowMs: this.#clock.nowMs(),
      ...(destination === undefined ? {} : { destination }),
      ...(trace?.traceparent === undefined ? {} : { traceparent: trace.traceparent }),
      ...(trace?.tracestate === undefined ? {} : { tracestate: trace.tracestate }),
    })
    // Signed as Mojaloop's SDK signs (JWS over the exact body, with URI, method, source, destination and
    // date protected), so that the switch and a peer that verify signatures take what this DFSP sends. Signed
    // bodies go out canonical (sorted keys), as the SDK sends them: its validator re-serialises that way.
    const signingKey = this.#signingKey
    const text = body === undefined ? undefined : signingKey === undefined ? JSON.stringify(body) : canonicalJson(body)
    if (text !== undefined && signingKey !== undefined) Object.assign(headers, await signFspiop({ method, uri: path, headers, body: text }, signingKey))
    if (this.#config.switchToken !== undefined) headers.authorization = `Bearer ${this.#config.switchToken}`
    const result = await this.#transport({ method, path, headers, ...(text === undefined ? {} : { body: text }) }, this.#config.timeouts.httpMs)
    if ('error' in result) return { kind: 'unreachable', error: result.error, detail: result.detail }
    if (result.status >= 200 && result.status < 300) return { kind: 'accepted', status: result.status }
    const parsed = parseErrorInformation(result.body)
    return parsed.ok ? { kind: 'refused', status: result.status, errorInformation: parsed.value.errorInformation } : { kind: 'refused', status: result.status }
  }
}

function retryable(outcome: SendOutcome): boolean {
  if (outcome.kind === 'unreachable') return true
  return outcome.kind === 'refused' && (outcome.status >= 500 || outcome.status === 429)
}

/**
 * The literal segments of FSPIOP's body routes after the resource (only `error` today). A path's route
 * depends on nothing else than its method, resource, segment count, and which segments are empty or one of
 * these literals, so the route found for one path is the route of every path of that shape.
 */
const ROUTE_LITERALS: ReadonlySet<string> = new Set(
  Object.keys(FSPIOP_BODY_ROUTES).flatMap((route) => route.split(' ')[1]?.split('/').slice(2).filter((segment) => !segment.startsWith('{')) ?? []),
)
const routesByShape = new Map<string, FspiopBodyRoute | undefined>()

/** The path's shape: its ids replaced by `*` (an empty one stays empty). */
function shapeOf(method: HttpMethod, path: string): string {
  const segments = path.split('?')[0]?.replace(/^\/+|\/+$/g, '').split('/') ?? []
  return `${method} ${segments.map((segment, index) => (index === 0 || segment === '' || ROUTE_LITERALS.has(segment) ? segment : '*')).join('/')}`
}

/**
 * validateFspiopBody for what this DFSP sends, with the route found once per path shape: matching every path
 * against every FSPIOP template (bodyRouteOf) was ~1 % of a DFSP's main thread under bench:e2e.
 */
export function validateOutgoingBody(method: HttpMethod, path: string, body: unknown): FspiopResult<unknown> {
  const shape = shapeOf(method, path)
  let route = routesByShape.get(shape)
  if (route === undefined && !routesByShape.has(shape)) {
    route = bodyRouteOf(method, path)
    routesByShape.set(shape, route)
  }
  return route === undefined ? validateFspiopBody(method, path, body) : validateFspiopSchema(FSPIOP_BODY_ROUTES[route], body)
}

/** A URL path of FSPIOP segments, each percent-encoded (party ids may hold `+`, `@`, spaces, …). */
export function fspiopPath(...segments: readonly (string | undefined)[]): string {
  return `/${segments.filter((segment): segment is string => segment !== undefined).map(encodeURIComponent).join('/')}`
}
