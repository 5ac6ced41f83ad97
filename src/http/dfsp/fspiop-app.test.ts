// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Dfsp } from '../../dfsp/index.ts'
import { buildFspiopHeaders, errorInformationOf, validateFspiopBody, type FspiopResource, type HttpMethod } from '../../fspiop/index.ts'
import { buildDfspFspiopApp } from './fspiop-app.ts'

/** The part of a Dfsp the FSPIOP app touches before the work starts: its id, and where the work is handed. */
function fakeDfsp(): { dfsp: Dfsp; handed: string[] } {
  const handed: string[] = []
  const dfsp = { config: { dfspId: 'bank' }, run: (what: string) => void handed.push(what) } as unknown as Dfsp
  return { dfsp, handed }
}

const ID = 'b51ec534-ee48-4575-b6a9-ead2955b8069'
const PATHS: readonly (readonly [HttpMethod, string])[] = [
  ['PUT', '/parties/MSISDN/256700000001'],
  ['PUT', '/parties/MSISDN/256700000001/error'],
  ['PUT', '/parties/BUSINESS/shop-1/till-2'],
  ['PUT', '/parties/BUSINESS/shop-1/till-2/error'],
  ['PUT', '/participants/MSISDN/256700000001'],
  ['PUT', '/participants/MSISDN/256700000001/error'],
  ['PUT', '/participants/BUSINESS/shop-1/till-2'],
  ['PUT', '/participants/BUSINESS/shop-1/till-2/error'],
  ['POST', '/quotes'],
  ['PUT', `/quotes/${ID}`],
  ['PUT', `/quotes/${ID}/error`],
  ['POST', '/transfers'],
  ['PUT', `/transfers/${ID}`],
  ['PUT', `/transfers/${ID}/error`],
  ['PATCH', `/transfers/${ID}`],
  ['POST', '/transactionRequests'],
  ['PUT', `/transactionRequests/${ID}`],
  ['PUT', `/transactionRequests/${ID}/error`],
  ['PUT', `/authorizations/${ID}`],
  ['PUT', `/authorizations/${ID}/error`],
]

describe('DFSP FSPIOP app', () => {
  it('checks each route against the body schema FSPIOP gives its path, and hands a valid one on', async () => {
    const { dfsp, handed } = fakeDfsp()
    const app = buildDfspFspiopApp({ dfsp })
    const bodies = [{}, { fspId: 5 }, { errorInformation: { errorCode: '3100', errorDescription: 'no' } }, { transferState: 'COMMITTED', completedTimestamp: '2026-01-01T00:00:00.000Z' }]
    let accepted = 0
    try {
      for (const [method, url] of PATHS) {
        const resource = url.split('/')[1] as FspiopResource
        const headers = buildFspiopHeaders({ resource, method, source: 'payerfsp', destination: 'bank', nowMs: Date.now() })
        for (const body of bodies) {
          const expected = validateFspiopBody(method, url, body)
          const answer = await app.inject({ method, url, headers, payload: JSON.stringify(body) })
          if (expected.ok) {
            accepted += 1
            assert.equal(answer.statusCode, method === 'POST' ? 202 : 200, `${method} ${url} ${JSON.stringify(body)}`)
          } else {
            assert.equal(answer.statusCode, 400, `${method} ${url} ${JSON.stringify(body)}`)
            assert.deepEqual(JSON.parse(answer.body), errorInformationOf(expected.error), `${method} ${url} ${JSON.stringify(body)}`)
          }
        }
      }
      // Every path accepts one of them at least (an error callback, a PATCH, a bare participant answer).
      assert.ok(accepted >= PATHS.filter(([, path]) => path.endsWith('/error')).length)
      assert.equal(handed.length, accepted)
    } finally {
      await app.close()
    }
  })
})
