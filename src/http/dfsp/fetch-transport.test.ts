// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createFetchTransport } from './fetch-transport.ts'

/**
 * A switch stand-in: /fast answers 202 at once, /refuse 400 with errorInformation, /chunked the same in
 * three writes, /huge 400 with 100 KB of JSON, /text 400 with a body that is not JSON, /slow-body sends its
 * headers and never ends.
 */
function fakeSwitch(): Server {
  return createServer((request, response) => {
    request.resume()
    if (request.url === '/fast') response.writeHead(202).end()
    else if (request.url === '/refuse') response.writeHead(400, { 'content-type': 'application/json' }).end('{"errorInformation":{"errorCode":"3100","errorDescription":"no"}}')
    else if (request.url === '/chunked') {
      response.writeHead(400, { 'content-type': 'application/json' })
      response.write('{"errorInformation":')
      setTimeout(() => response.write('{"errorCode":"3100",'), 5)
      setTimeout(() => response.end('"errorDescription":"né"}}'), 10)
    } else if (request.url === '/huge') response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ pad: 'x'.repeat(100_000) }))
    else if (request.url === '/text') response.writeHead(400, { 'content-type': 'text/plain' }).end('no')
    else response.writeHead(200, { 'content-type': 'application/json' }).write('{')
  })
}

/** Runs `work` and answers how many timers of `delayMs` it armed that were still armed when it ended. */
async function timersLeftArmed(delayMs: number, work: () => Promise<void>): Promise<number> {
  const armed = new Set<number>()
  const hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === delayMs) armed.add(id)
    },
    destroy: (id) => armed.delete(id),
  }).enable()
  try {
    await work()
    // Destroy hooks of timers cleared during the work are emitted on a later turn.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    return armed.size
  } finally {
    hook.disable()
  }
}

describe('createFetchTransport', () => {
  let server: Server
  let base: string
  before(async () => {
    server = fakeSwitch()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('answers the status and the JSON body, and leaves no deadline timer behind once the exchange is over', async () => {
    const transport = createFetchTransport(base)
    const left = await timersLeftArmed(54_321, async () => {
      assert.deepEqual(await transport({ method: 'POST', path: '/fast', headers: {}, body: '{}' }, 54_321), { status: 202, body: undefined })
      assert.deepEqual(await transport({ method: 'PUT', path: '/refuse', headers: {}, body: '{}' }, 54_321), {
        status: 400,
        body: { errorInformation: { errorCode: '3100', errorDescription: 'no' } },
      })
    })
    // A deadline still armed fires long after the answer (AbortSignal.timeout's did, building a DOMException each time).
    assert.equal(left, 0)
  })

  it('reads a body that comes in several writes, and answers no body past the limit or when it is not JSON', async () => {
    const transport = createFetchTransport(base)
    assert.deepEqual(await transport({ method: 'PUT', path: '/chunked', headers: {}, body: '{}' }, 5_000), {
      status: 400,
      body: { errorInformation: { errorCode: '3100', errorDescription: 'né' } },
    })
    assert.deepEqual(await transport({ method: 'PUT', path: '/huge', headers: {}, body: '{}' }, 5_000), { status: 400, body: undefined })
    assert.deepEqual(await transport({ method: 'PUT', path: '/text', headers: {}, body: '{}' }, 5_000), { status: 400, body: undefined })
    // The connection dropped past the limit does not spoil the next exchange.
    assert.deepEqual(await transport({ method: 'POST', path: '/fast', headers: {}, body: '{}' }, 5_000), { status: 202, body: undefined })
  })

  it('times out when the body does not come in time: the deadline covers the body too', async () => {
    const transport = createFetchTransport(base)
    const started = performance.now()
    assert.deepEqual(await transport({ method: 'GET', path: '/slow-body', headers: {} }, 200), { error: 'timeout', detail: 'no answer in 200 ms' })
    assert.ok(performance.now() - started < 2_000)
  })

  it('reports a switch that cannot be reached as a network error', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    assert.deepEqual(await createFetchTransport(url)({ method: 'GET', path: '/fast', headers: {} }, 5_000), { error: 'network', detail: 'ECONNREFUSED' })
  })
})
