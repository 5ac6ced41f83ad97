// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's HTTP transport to the switch: one exchange per message (src/fspiop/exchange.ts: undici's
 * dispatcher with a handler of its own, no redirects, FSPIOP: a 3xx is not followed) on a keep-alive pool,
 * one deadline covering the response body too. (It used undici's `request` before, and fetch before that:
 * a readable stream per answer and an async iteration over it, for answers that are an empty 202 nearly
 * always.) The answer body is read up to a small limit and parsed as JSON when it is JSON: a switch's
 * synchronous refusal carries errorInformation. Never throws.
 */
import { Agent } from 'undici'
import type { FspiopTransport, OutgoingRequest, TransportResult } from '../../dfsp/index.ts'
import { exchange } from '../../fspiop/exchange.ts'

const RESPONSE_BYTES_MAX = 65_536

export function createFetchTransport(baseUrl: string): FspiopTransport {
  const base = baseUrl.replace(/\/+$/, '')
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  return async (request: OutgoingRequest, timeoutMs: number): Promise<TransportResult> => {
    const result = await exchange(dispatcher, { url: `${base}${request.path}`, method: request.method, headers: request.headers, body: request.body ?? null }, { timeoutMs, responseBytesMax: RESPONSE_BYTES_MAX, keepBody: true })
    if ('error' in result) return { error: result.error, detail: result.detail }
    return { status: result.status, body: parseJson(result.body) }
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
