// SPDX-License-Identifier: Apache-2.0
/** The FSPIOP app's log lines name what the request is about, and its metrics hear every request. */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { buildFspiopHeaders } from '../../fspiop/index.ts'
import type { Switch } from '../../switch/switch.ts'
import { logBindingsOf } from '../fspiop-routes.ts'
import { buildFspiopApp } from './fspiop-app.ts'

describe('FSPIOP app logging', () => {
  it('binds the transfer id, quote id or party id type from the path', () => {
    assert.deepEqual(logBindingsOf('/transfers/t-1'), { transferId: 't-1' })
    assert.deepEqual(logBindingsOf('/transfers/t-1/error?x=1'), { transferId: 't-1' })
    assert.deepEqual(logBindingsOf('/quotes/q-1'), { quoteId: 'q-1' })
    assert.deepEqual(logBindingsOf('/parties/MSISDN/256700000001'), { partyIdType: 'MSISDN' })
    assert.deepEqual(logBindingsOf('/participants/MSISDN/256700000001/error'), { partyIdType: 'MSISDN' })
    assert.equal(logBindingsOf('/transfers'), undefined)
    assert.equal(logBindingsOf('/participants/req-1'), undefined)
    assert.equal(logBindingsOf('/health'), undefined)
  })

  it('writes every line of a request with its request id and transfer id', async () => {
    const lines: Record<string, unknown>[] = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
        done()
      },
    })
    const seen: string[] = []
    const hub = { getTransfer: async (_msg: unknown, id: string) => void seen.push(id) } as unknown as Switch
    const responses: string[] = []
    const app = buildFspiopApp({ hub, auth: 'none', logger: { level: 'info', stream }, onResponse: (route, method, status) => void responses.push(`${method} ${route} ${status}`) })
    try {
      const headers = buildFspiopHeaders({ resource: 'transfers', method: 'GET', source: 'payerfsp', nowMs: Date.now() })
      const response = await app.inject({ method: 'GET', url: '/transfers/t-42', headers })
      assert.equal(response.statusCode, 202, response.body)
      assert.deepEqual(seen, ['t-42'])
      assert.deepEqual(responses, ['GET /transfers/:id 202'])
      const ofRequest = lines.filter((line) => line.reqId !== undefined)
      assert.ok(ofRequest.length >= 2, 'incoming request and request completed')
      for (const line of ofRequest) assert.equal(line.transferId, 't-42', JSON.stringify(line))
    } finally {
      await app.close()
    }
  })
})
