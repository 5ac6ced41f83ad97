// SPDX-License-Identifier: Apache-2.0
/**
 * A switch stand-in for DFSP tests: a node:http server on loopback that records every request a DFSP sends
 * it and answers as a switch does (202 to requests, 200 to callbacks). Tests wait for what they expect
 * with `next`, and play the switch's part themselves (with Mojaloop's MojaloopRequests, for instance).
 *
 * With `relay()`, it also routes like a minimal switch between registered DFSPs, so two Kivuko DFSPs can
 * pay each other: an oracle fed by POST /participants, GET /parties to the owner, quotes and transfers to
 * FSPIOP-Destination, and the commit notification: a payee's RESERVED fulfilment becomes PUT COMMITTED
 * to the payer and PATCH COMMITTED to the payee. It keeps no positions; the switch proper does that.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildFspiopHeaders, validateFulfilment, type FspiopResource } from '../../src/fspiop/index.ts'

export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: any
}

interface Route {
  readonly url: string
  /** What the switch sends as Authorization to this DFSP. */
  readonly token?: string
}

export class FakeSwitch {
  readonly received: Recorded[] = []
  url = ''
  /** Status per request; default 202 for GET/POST, 200 otherwise. */
  respond: (r: Recorded) => number = (r) => (r.method === 'GET' || r.method === 'POST' ? 202 : 200)
  readonly #server: Server
  #waiters: { match: (r: Recorded) => boolean; resolve: (r: Recorded) => void; reject: (error: Error) => void }[] = []
  readonly #taken = new Set<Recorded>()
  #routes: Map<string, Route> | undefined
  readonly oracle = new Map<string, string>()
  readonly #transfers = new Map<string, { payerFsp: string; payeeFsp: string; condition: string; state: string }>()
  readonly #forwards = new Set<Promise<unknown>>()

  constructor() {
    this.#server = createServer((request, response) => {
      let text = ''
      request.setEncoding('utf8')
      request.on('data', (chunk: string) => (text += chunk))
      request.on('end', () => {
        const recorded: Recorded = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: text === '' ? undefined : JSON.parse(text) }
        response.statusCode = this.respond(recorded)
        response.end()
        this.received.push(recorded)
        const waiter = this.#waiters.find((w) => w.match(recorded))
        if (waiter !== undefined) {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          this.#taken.add(recorded)
          waiter.resolve(recorded)
        }
        if (this.#routes !== undefined && response.statusCode < 300) this.#track(this.#route(recorded))
      })
    })
  }

  static async start(): Promise<FakeSwitch> {
    const fake = new FakeSwitch()
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve))
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`
    return fake
  }

  /** The next recorded message, not yet taken, that matches; waits up to timeoutMs. */
  next(match: (r: Recorded) => boolean, timeoutMs = 5_000): Promise<Recorded> {
    const already = this.received.find((r) => !this.#taken.has(r) && match(r))
    if (already !== undefined) {
      this.#taken.add(already)
      return Promise.resolve(already)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done)
        reject(new Error(`fake switch: nothing matching arrived in ${timeoutMs} ms; received: ${this.received.map((r) => `${r.method} ${r.path}`).join(', ')}`))
      }, timeoutMs)
      const done = (r: Recorded): void => {
        clearTimeout(timer)
        resolve(r)
      }
      const fail = (error: Error): void => {
        clearTimeout(timer)
        reject(error)
      }
      this.#waiters.push({ match, resolve: done, reject: fail })
    })
  }

  /** The next message with this method and path. */
  nextAt(method: string, path: string, timeoutMs?: number): Promise<Recorded> {
    return this.next((r) => r.method === method && r.path === path, timeoutMs)
  }

  /** Routes between these DFSPs from now on (see the file comment). */
  relay(routes: Record<string, Route>): void {
    this.#routes = new Map(Object.entries(routes))
  }

  async close(): Promise<void> {
    for (const waiter of this.#waiters) waiter.reject(new Error('fake switch closed'))
    this.#waiters = []
    while (this.#forwards.size > 0) await Promise.allSettled([...this.#forwards])
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#forwards.delete(tracked))
    this.#forwards.add(tracked)
  }

  async #route(r: Recorded): Promise<void> {
    const source = String(r.headers['fspiop-source'] ?? '')
    const destination = r.headers['fspiop-destination'] === undefined ? undefined : String(r.headers['fspiop-destination'])
    const segments = r.path.split('/').slice(1)
    const [resource] = segments
    if (r.method === 'POST' && resource === 'participants') {
      const key = `${decodeURIComponent(segments[1] ?? '')}/${decodeURIComponent(segments[2] ?? '')}`
      this.oracle.set(key, r.body.fspId)
      await this.#send(source, 'PUT', r.path, { fspId: r.body.fspId }, 'participants')
      return
    }
    if (r.method === 'GET' && resource === 'parties') {
      const owner = this.oracle.get(`${decodeURIComponent(segments[1] ?? '')}/${decodeURIComponent(segments[2] ?? '')}`)
      if (owner === undefined) {
        await this.#send(source, 'PUT', `${r.path}/error`, { errorInformation: { errorCode: '3204', errorDescription: 'Party not found' } }, 'parties')
        return
      }
      await this.#forward(owner, r, { 'fspiop-destination': owner })
      return
    }
    if (r.method === 'POST' && resource === 'transfers') {
      this.#transfers.set(r.body.transferId, { payerFsp: r.body.payerFsp, payeeFsp: r.body.payeeFsp, condition: r.body.condition, state: 'RESERVED' })
      await this.#forward(r.body.payeeFsp, r)
      return
    }
    if (r.method === 'GET' && resource === 'transfers') {
      const transfer = this.#transfers.get(segments[1] ?? '')
      if (transfer === undefined) await this.#send(source, 'PUT', `${r.path}/error`, { errorInformation: { errorCode: '3208', errorDescription: 'Transfer ID not found' } }, 'transfers')
      else await this.#send(source, 'PUT', r.path, { transferState: transfer.state }, 'transfers')
      return
    }
    if (r.method === 'PUT' && resource === 'transfers' && segments.length === 2) {
      const transfer = this.#transfers.get(segments[1] ?? '')
      if (transfer === undefined) return
      if (validateFulfilment(r.body.fulfilment, transfer.condition) !== 'valid') {
        transfer.state = 'ABORTED'
        const error = { errorInformation: { errorCode: '3100', errorDescription: 'Generic validation error - invalid fulfilment' } }
        await this.#send(transfer.payerFsp, 'PUT', `${r.path}/error`, error, 'transfers')
        await this.#send(transfer.payeeFsp, 'PUT', `${r.path}/error`, error, 'transfers')
        return
      }
      transfer.state = 'COMMITTED'
      const committed = { ...r.body, transferState: 'COMMITTED' }
      await this.#send(transfer.payerFsp, 'PUT', r.path, committed, 'transfers', source)
      if (r.body.transferState === 'RESERVED') {
        await this.#send(transfer.payeeFsp, 'PATCH', r.path, { completedTimestamp: r.body.completedTimestamp, transferState: 'COMMITTED' }, 'transfers')
      }
      return
    }
    if (destination !== undefined) await this.#forward(destination, r)
  }

  /** Relays a participant's message unchanged (headers and body), as the switch does. */
  async #forward(to: string, r: Recorded, extraHeaders: Record<string, string> = {}): Promise<void> {
    const route = this.#routes?.get(to)
    if (route === undefined) return
    const headers: Record<string, string> = { ...extraHeaders }
    for (const name of ['content-type', 'accept', 'date', 'fspiop-source', 'fspiop-destination', 'traceparent', 'tracestate']) {
      const value = r.headers[name]
      if (typeof value === 'string' && headers[name] === undefined) headers[name] = value
    }
    if (route.token !== undefined) headers.authorization = `Bearer ${route.token}`
    await fetch(`${route.url}${r.path}`, { method: r.method, headers, ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }) })
  }

  /** A message the switch itself originates (FSPIOP-Source "switch"), or relays with the original source. */
  async #send(to: string, method: 'PUT' | 'PATCH', path: string, body: object, resource: FspiopResource, source = 'switch'): Promise<void> {
    const route = this.#routes?.get(to)
    if (route === undefined) return
    const headers = buildFspiopHeaders({ resource, method, source, destination: to, nowMs: Date.now() })
    if (route.token !== undefined) headers.authorization = `Bearer ${route.token}`
    await fetch(`${route.url}${path}`, { method, headers, body: JSON.stringify(body) })
  }
}
