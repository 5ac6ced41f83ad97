// SPDX-License-Identifier: Apache-2.0
/**
 * A participant stand-in for switch tests: a real HTTP server on loopback that records every request the
 * switch sends it and answers as a DFSP does (202 to requests, 200 to callbacks). Tests wait for the
 * message they expect with `next`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: any
  /** The body as it came over the wire (signatures are over these bytes). */
  readonly rawBody: string
}

export class FakeDfsp {
  readonly name: string
  readonly received: Received[] = []
  #server: Server
  #waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = []
  #taken = new Set<Received>()
  url = ''
  /** Called with every message after it is answered: lets a test play the DFSP's side (e.g. fulfil at once). */
  onReceive: ((r: Received) => void) | undefined
  /** Status to answer with, per request; default 202/200. */
  respond: (r: Received) => number = (r) => (r.method === 'GET' || r.method === 'POST' || r.method === 'DELETE' ? 202 : 200)

  constructor(name: string) {
    this.name = name
    this.#server = createServer((request, response) => {
      let text = ''
      request.setEncoding('utf8')
      request.on('data', (chunk: string) => (text += chunk))
      request.on('end', () => {
        const received: Received = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: text === '' ? undefined : JSON.parse(text), rawBody: text }
        response.statusCode = this.respond(received)
        response.end()
        this.received.push(received)
        this.onReceive?.(received)
        const waiter = this.#waiters.find((w) => w.match(received))
        if (waiter !== undefined) {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          this.#taken.add(received)
          waiter.resolve(received)
        }
      })
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  /** The next message (not yet taken) that matches, waiting up to timeoutMs for it. */
  next(match: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const already = this.received.find((r) => !this.#taken.has(r) && match(r))
    if (already !== undefined) {
      this.#taken.add(already)
      return Promise.resolve(already)
    }
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve }
      this.#waiters.push(waiter)
      setTimeout(() => {
        if (this.#waiters.includes(waiter)) {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          reject(new Error(`${this.name}: no matching message within ${timeoutMs} ms; got ${this.received.map((r) => `${r.method} ${r.path}`).join(', ')}`))
        }
      }, timeoutMs)
    })
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

export { standardEndpoints as endpointsFor } from '../../src/switch/endpoints.ts'
