// SPDX-License-Identifier: Apache-2.0
/**
 * Multilateral netting and the ledger transfers that settle it, as pure functions.
 *
 * Over a set of committed transfers each participant has, per currency, what it sent (as payer) and what
 * it received (as payee); its net is received − sent. Every transfer is sent by one participant and
 * received by another, so per currency the nets sum to zero: the hub neither creates nor absorbs money.
 *
 * Settling a net moves the participant's POSITION back toward zero against the hub's
 * HUB_MULTILATERAL_SETTLEMENT account of the currency (accounts.ts): a net sender's POSITION was debited
 * more than credited, so it is credited by the net; a net receiver's was credited more, so it is debited.
 * LIQUIDITY accounts do not move: the real money changes hands outside the hub, in the settlement bank.
 */
import { createHash } from 'node:crypto'
import { assert } from '../../core/assert.ts'
import { isLedgerId } from '../../core/ids.ts'
import type { TransferInput } from '../../ledger/types.ts'
import { hubAccountId, participantAccountId } from '../accounts.ts'
import type { ParticipantNet } from './model.ts'

/** One side of the flows: the total one participant sent (or received) in one currency. */
export interface FlowTotal {
  readonly fsp: string
  readonly currency: string
  readonly totalMinor: bigint
}

function key(fsp: string, currency: string): string {
  return `${fsp}\u0000${currency}`
}

function compareNets(a: ParticipantNet, b: ParticipantNet): number {
  if (a.fsp !== b.fsp) return a.fsp < b.fsp ? -1 : 1
  if (a.currency !== b.currency) return a.currency < b.currency ? -1 : 1
  return 0
}

/** Joins what each participant sent and received into its nets, ordered by participant and currency. */
export function combineNets(sent: readonly FlowTotal[], received: readonly FlowTotal[]): ParticipantNet[] {
  const totals = new Map<string, { fsp: string; currency: string; sentMinor: bigint; receivedMinor: bigint }>()
  const entry = (flow: FlowTotal) => {
    assert(flow.totalMinor >= 0n, 'a flow total is never negative')
    const k = key(flow.fsp, flow.currency)
    let total = totals.get(k)
    if (total === undefined) {
      total = { fsp: flow.fsp, currency: flow.currency, sentMinor: 0n, receivedMinor: 0n }
      totals.set(k, total)
    }
    return total
  }
  const seenSent = new Set<string>()
  for (const flow of sent) {
    assert(!seenSent.has(key(flow.fsp, flow.currency)), 'one sent total per participant and currency')
    seenSent.add(key(flow.fsp, flow.currency))
    entry(flow).sentMinor = flow.totalMinor
  }
  const seenReceived = new Set<string>()
  for (const flow of received) {
    assert(!seenReceived.has(key(flow.fsp, flow.currency)), 'one received total per participant and currency')
    seenReceived.add(key(flow.fsp, flow.currency))
    entry(flow).receivedMinor = flow.totalMinor
  }
  const nets = [...totals.values()].map((t) => ({ ...t, netMinor: t.receivedMinor - t.sentMinor }))
  nets.sort(compareNets)
  assertNetsBalance(nets)
  return nets
}

/** Per currency, what was sent equals what was received, so the nets sum to zero. A failure is a bug. */
export function assertNetsBalance(nets: readonly ParticipantNet[]): void {
  const sums = new Map<string, { sent: bigint; received: bigint; net: bigint }>()
  for (const n of nets) {
    assert(n.netMinor === n.receivedMinor - n.sentMinor, `net of ${n.fsp} ${n.currency} is received − sent`)
    const sum = sums.get(n.currency) ?? { sent: 0n, received: 0n, net: 0n }
    sums.set(n.currency, { sent: sum.sent + n.sentMinor, received: sum.received + n.receivedMinor, net: sum.net + n.netMinor })
  }
  for (const [currency, sum] of sums) {
    assert(sum.net === 0n && sum.sent === sum.received, `settlement nets in ${currency} sum to ${sum.net}, not zero`)
  }
}

/**
 * The ledger id of the transfer that settles one net: derived from the settlement, participant and
 * currency only, so a retried settle submits the same id and the ledger answers `exists` instead of moving
 * money twice. Readable when it fits the ledger's id rules, else a digest of the same three parts.
 */
export function settlementTransferId(settlementId: number, fsp: string, currency: string): string {
  assert(Number.isSafeInteger(settlementId) && settlementId > 0, 'settlement ids are positive integers')
  const readable = `stl:${settlementId}:${fsp}:${currency}`
  if (isLedgerId(readable)) return readable
  const digest = createHash('sha256').update(`${settlementId}\u0000${fsp}\u0000${currency}`).digest('base64url').slice(0, 40)
  return `stl:${settlementId}:${digest}`
}

/** The posted ledger transfer that settles a non-zero net, or null for a net of zero. */
export function settlementLedgerTransfer(settlementId: number, net: ParticipantNet): TransferInput | null {
  if (net.netMinor === 0n) return null
  const position = participantAccountId(net.fsp, net.currency, 'POSITION')
  const hub = hubAccountId(net.currency, 'HUB_MULTILATERAL_SETTLEMENT')
  const sender = net.netMinor < 0n
  return {
    id: settlementTransferId(settlementId, net.fsp, net.currency),
    type: 'posted',
    // Net sender: debit the hub, credit the participant's POSITION. Net receiver: the other way round.
    debitAccountId: sender ? hub : position,
    creditAccountId: sender ? position : hub,
    amountMinor: sender ? -net.netMinor : net.netMinor,
    currency: net.currency,
    reference: `settlement ${settlementId} ${sender ? 'SETTLEMENT_NET_SENDER' : 'SETTLEMENT_NET_RECIPIENT'}`,
    // A net receiver's position moves whatever its net debit cap, as in Mojaloop's settlement: the cap limits
    // what a participant may prepare, not what settling a closed window owes it back.
    ...(sender ? {} : { exemptFromDebitsLimit: true }),
  }
}
