// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's HTTP transport to the switch: Node's global fetch (undici inside, with keep-alive), one
 * deadline per exchange covering the response body too, no redirects (FSPIOP: 3xx must not be followed).
 * The answer body is read up to a small limit and parsed as JSON when it is JSON: a switch's synchronous
 * refusal carries errorInformation. Never throws.
 */
import type { FspiopTransport, OutgoingRequest, TransportResult } from '../../dfsp/index.ts'

const RESPONSE_BYTES_MAX = 65_536

export function createFetchTransport(baseUrl: string): FspiopTransport {
  const base = baseUrl.replace(/\/+$/, '')
  return async (request: OutgoingRequest, timeoutMs: number): Promise<TransportResult> => {
    const deadline = AbortSignal.timeout(timeoutMs)
    try {
      const response = await fetch(`${base}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
        signal: deadline,
      })
      const text = await readText(response)
      return { status: response.status, body: parseJson(text) }
    } catch (error) {
      if (deadline.aborted) return { error: 'timeout', detail: `no answer in ${timeoutMs} ms` }
      return { error: 'network', detail: networkDetail(error) }
    }
  }
}

async function readText(response: Response): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    bytes += value.byteLength
    if (bytes > RESPONSE_BYTES_MAX) {
      await reader.cancel()
      return ''
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
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
