// SPDX-License-Identifier: Apache-2.0
/**
 * The sender thread's own cases (the HTTP cases it shares with the in-process sender are in
 * http-sender.test.ts): a thread that dies, a sender that closes, many attempts at once.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { DeliveryRequest } from './message.ts'
import { SenderThread } from './sender-thread.ts'

const CRASHING = new URL('./sender-worker-crashing.fixture.ts', import.meta.url)
const never = new AbortController().signal

function aRequest(url: string, id = 'm-1'): DeliveryRequest {
  return {
    id,
    destination: 'payeefsp',
    method: 'PUT',
    url,
    headers: { 'content-type': 'application/vnd.interoperability.transfers+json;version=1.1', 'fspiop-source': 'Hub' },
    body: `{"transferState":"COMMITTED","id":"${id}"}`,
    correlation: `transfers/${id}`,
    attempt: 1,
  }
}

describe('SenderThread', { timeout: 60_000 }, () => {
  let server: Server
  let base: string
  /** Bodies received, by path; /silent/… is never answered. */
  const received = new Map<string, string>()

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        received.set(request.url ?? '', Buffer.concat(chunks).toString('utf8'))
        if (!(request.url ?? '').startsWith('/silent')) response.writeHead(202).end()
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  })

  it('answers each of many concurrent attempts with its own result', async () => {
    const thread = new SenderThread()
    try {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => thread.send(aRequest(`${base}/many/${i}`, `m-${i}`), never)))
      assert.ok(results.every((result) => 'status' in result && result.status === 202))
      for (let i = 0; i < 200; i += 1) assert.equal(received.get(`/many/${i}`), `{"transferState":"COMMITTED","id":"m-${i}"}`)
    } finally {
      await thread.close()
    }
  })

  it('ends the attempts a dying thread had not answered as network errors, and the next attempt gets a new thread', async () => {
    const thread = new SenderThread({ workerFile: CRASHING })
    try {
      const silent = thread.send(aRequest(`${base}/silent/1`), never)
      // The silent one is out when the thread dies: it can never be answered now.
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.deepEqual(await thread.send(aRequest(`${base}/crash/1`), never), { error: 'network', detail: 'sender thread exited' })
      assert.deepEqual(await silent, { error: 'network', detail: 'sender thread exited' })
      assert.deepEqual(await thread.send(aRequest(`${base}/after/1`), never), { status: 202 })
    } finally {
      await thread.close()
    }
  })

  it('ends an attempt still out when it closes, and refuses attempts after it', async () => {
    const thread = new SenderThread()
    const silent = thread.send(aRequest(`${base}/silent/2`), never)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await thread.close()
    assert.deepEqual(await silent, { error: 'network', detail: 'sender closed' })
    assert.deepEqual(await thread.send(aRequest(`${base}/late/1`), never), { error: 'network', detail: 'sender closed' })
    assert.equal(received.has('/late/1'), false)
  })

  it("ends an attempt as a timeout when the outbox's signal aborts, and the thread carries on", async () => {
    const thread = new SenderThread({ timeoutMs: 600_000 })
    try {
      const controller = new AbortController()
      const pending = thread.send(aRequest(`${base}/silent/3`), controller.signal)
      setTimeout(() => controller.abort(), 100)
      assert.deepEqual(await pending, { error: 'timeout' })
      assert.deepEqual(await thread.send(aRequest(`${base}/after/2`), never), { status: 202 })
    } finally {
      await thread.close()
    }
  })
})
