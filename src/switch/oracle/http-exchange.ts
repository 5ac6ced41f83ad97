// SPDX-License-Identifier: Apache-2.0
/**
 * The default OracleExchange: one HTTP request through Node's global fetch with a deadline. Redirects are
 * not followed (an oracle that moved is misconfigured, and following one would send party ids elsewhere);
 * the answer's body is read up to a limit, past which the answer counts as unusable.
 */
import { networkDetail } from '../../fspiop/exchange.ts'
import type { OracleExchange, OracleReply } from './oracle.ts'

export interface FetchOracleExchangeOptions {
  /** Real time after which the oracle is given up on, body included. Default 5 s. */
  readonly timeoutMs?: number
  /** Largest answer read (a batch answer lists up to 10,000 parties). Default 5 MiB, FSPIOP's largest body. */
  readonly responseBytesMax?: number
}

export function createFetchOracleExchange(options: FetchOracleExchangeOptions = {}): OracleExchange {
  const timeoutMs = options.timeoutMs ?? 5_000
  const responseBytesMax = options.responseBytesMax ?? 5_242_880
  return async (request): Promise<OracleReply> => {
    const deadline = AbortSignal.timeout(timeoutMs)
    try {
      const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual', signal: deadline })
      const body = await readText(response, responseBytesMax)
      if (body === undefined) return { error: 'oversized', detail: `more than ${responseBytesMax} bytes` }
      return { status: response.status, body }
    } catch (error) {
      if (deadline.aborted) return { error: 'timeout', detail: `${timeoutMs} ms` }
      return { error: 'network', detail: networkDetail(error) }
    }
  }
}

/** The body as text, or undefined when it is larger than allowed (the rest is cancelled). */
async function readText(response: Response, bytesMax: number): Promise<string | undefined> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    bytes += value.byteLength
    if (bytes > bytesMax) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
