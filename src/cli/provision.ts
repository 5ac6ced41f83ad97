// SPDX-License-Identifier: Apache-2.0
/**
 * Provisioning a participant through the switch's admin API, as a scheme operator's script does: the
 * participant and its currency, its callback endpoints, its net debit cap, its opening liquidity (once,
 * by a fixed transfer id) and a fresh API token. Used by `kivuko start` and the end-to-end tests.
 */
import { standardEndpoints } from '../switch/endpoints.ts'

export interface Provisioning {
  readonly name: string
  readonly currency: string
  /** Where the participant's FSPIOP API listens: its callback endpoints are derived from it. */
  readonly fspiopUrl: string
  readonly netDebitCap: string
  readonly liquidity: string
}

export async function adminCall(adminUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${adminUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await response.text()
  if (response.status >= 400) throw new Error(`admin ${method} ${path}: ${response.status} ${text}`)
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** Provisions one participant; safe to run again. Returns the participant's new API token. */
export async function provisionParticipant(adminUrl: string, p: Provisioning, adminToken?: string): Promise<string> {
  await adminCall(adminUrl, 'POST', '/participants', { name: p.name, currency: p.currency }, adminToken)
  for (const endpoint of standardEndpoints(p.fspiopUrl)) await adminCall(adminUrl, 'POST', `/participants/${p.name}/endpoints`, endpoint, adminToken)
  await adminCall(adminUrl, 'POST', `/participants/${p.name}/initialPositionAndLimits`, { currency: p.currency, limit: { type: 'NET_DEBIT_CAP', value: p.netDebitCap }, initialPosition: 0 }, adminToken)
  // The fixed transfer id makes the deposit happen once, however often this runs.
  await adminCall(
    adminUrl,
    'POST',
    `/participants/${p.name}/accounts/${p.currency}-SETTLEMENT`,
    { transferId: `opening-deposit-${p.name}`, externalReference: 'opening deposit', action: 'recordFundsIn', reason: 'opening deposit', amount: { amount: p.liquidity, currency: p.currency } },
    adminToken,
  )
  return (await adminCall(adminUrl, 'POST', `/participants/${p.name}/credentials`, undefined, adminToken)).body.token as string
}
