// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's HTTP transport to the switch: undici's `request` on a keep-alive pool, one deadline per
 * exchange covering the response body too, no redirects (FSPIOP: 3xx must not be followed). (It used
 * fetch, whose WHATWG streams cost about twice the CPU per exchange.) The answer body is read up to a small
 * limit and parsed as JSON when it is JSON: a switch's synchronous refusal carries errorInformation. Never
 * throws.
 *
 * The deadline is a timer cleared when the exchange ends, not AbortSignal.timeout: that one's timer runs to
 * its end even after the answer came, and then builds a DOMException with a stack for a signal nobody
 * listens to any more (~1 % of a DFSP's main thread under bench:e2e, one per message sent 10 s earlier).
 */
import { Agent, request as undiciRequest } from 'undici'
import type { FspiopTransport, OutgoingRequest, TransportResult } from '../../dfsp/index.ts'

const RESPONSE_BYTES_MAX = 65_536

export function createFetchTransport(baseUrl: string): FspiopTransport {
  const base = baseUrl.replace(/\/+$/, '')
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  return async (request: OutgoingRequest, timeoutMs: number): Promise<TransportResult> => {
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(), timeoutMs)
    try {
      const response = await undiciRequest(`${base}${request.path}`, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        signal: deadline.signal,
        dispatcher,
      })
      const text = await readText(response.body)
      return { status: response.statusCode, body: parseJson(text) }
    } catch (error) {
      if (deadline.signal.aborted) return { error: 'timeout', detail: `no answer in ${timeoutMs} ms` }
      return { error: 'network', detail: networkDetail(error) }
    } finally {
      clearTimeout(timer)
    }
  }
}

/** The body as text, or '' past the limit (the connection is then dropped rather than read to the end). */
async function readText(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of body) {
    bytes += chunk.byteLength
    if (bytes > RESPONSE_BYTES_MAX) {
      body.destroy()
      return ''
    }
    chunks.push(chunk)
  }
  return chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The error's code (ECONNREFUSED, UND_ERR_SOCKET, …) or its name: enough to act on, never a body. */
function networkDetail(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.length > 0) return code
  return cause instanceof Error ? cause.name : 'unknown'
}
