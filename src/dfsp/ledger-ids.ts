// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's ledger accounts and transfer ids. One ledger table may hold the switch's positions and several
 * DFSPs' books at once (`kivuko start` runs them on one store), so every id is prefixed by the DFSP, and
 * every transfer id is derived from what it books: running the same step twice finds the same id, and the
 * ledger answers `exists` instead of moving money twice. That is what makes each step safe to retry
 * after a crash.
 *
 * Accounts per DFSP and currency:
 *   SCHEME   the DFSP's money in the scheme, as its own books see it: credited by every payment a customer
 *            sends out, debited by every payment a customer receives (its switch position, mirrored)
 *   FEES     fee income: payer fees from senders, payee fees from incoming transfers
 *   FUNDING  the other side of deposits (cash in at a branch, demo seeding)
 *   W        one wallet per customer: debits must not exceed credits (limit 0), so it never goes negative
 *
 * Transfer kinds (two or three characters, so that prefix + kind + a UUID fit the ledger's 64):
 *   hp, hf   payer: hold of the principal (to SCHEME) and of the payer fee (to FEES); pending
 *   cp, cf   payee: credit of the customer and of the payee fee (from SCHEME); posted, or pending when the
 *            DFSP answers RESERVED
 *   P…, V…   post and void of one of the above (Php, Vhf, Pcp, …)
 *   rp, rf   payee: reversal of a posted credit the switch then aborted
 *   dep      deposit
 */
import { createHash } from 'node:crypto'

export type AccountKind = 'SCHEME' | 'FEES' | 'FUNDING'
export type HoldKind = 'hp' | 'hf' | 'cp' | 'cf'
export type EntryKind = HoldKind | `P${HoldKind}` | `V${HoldKind}` | 'rp' | 'rf' | 'dep'

const ENTRY_KINDS: ReadonlySet<string> = new Set(['hp', 'hf', 'cp', 'cf', 'Php', 'Phf', 'Pcp', 'Pcf', 'Vhp', 'Vhf', 'Vcp', 'Vcf', 'rp', 'rf', 'dep'])

/**
 * `dfsp.<id>` for short, plain DFSP ids; otherwise a digest of the id, since an FspId may be 32 characters
 * of anything and ledger ids allow only letters, digits and `._:-`.
 */
export function ledgerPrefix(dfspId: string): string {
  if (/^[A-Za-z0-9_-]{1,16}$/.test(dfspId)) return `dfsp.${dfspId}`
  return `dfsp.h${createHash('sha256').update(dfspId, 'utf8').digest('hex').slice(0, 15)}`
}

export function dfspAccountId(dfspId: string, currency: string, kind: AccountKind): string {
  return `${ledgerPrefix(dfspId)}:${currency}:${kind}`
}

export function walletAccountId(dfspId: string, customerId: string): string {
  return `${ledgerPrefix(dfspId)}:W:${customerId}`
}

/** `ref` is what the entry is for: an FSPIOP transferId, a deposit id or a customer id. */
export function ledgerTransferId(dfspId: string, kind: EntryKind, ref: string): string {
  return `${ledgerPrefix(dfspId)}:${kind}:${ref}`
}

export function postId(dfspId: string, kind: HoldKind, ref: string): string {
  return ledgerTransferId(dfspId, `P${kind}`, ref)
}

export function voidId(dfspId: string, kind: HoldKind, ref: string): string {
  return ledgerTransferId(dfspId, `V${kind}`, ref)
}

/** The kind and reference of one of this DFSP's ledger transfer ids; undefined for anyone else's. */
export function parseLedgerTransferId(dfspId: string, id: string): { readonly kind: EntryKind; readonly ref: string } | undefined {
  const prefix = `${ledgerPrefix(dfspId)}:`
  if (!id.startsWith(prefix)) return undefined
  const rest = id.slice(prefix.length)
  const colon = rest.indexOf(':')
  const kind = rest.slice(0, colon)
  if (colon < 0 || !ENTRY_KINDS.has(kind)) return undefined
  return { kind: kind as EntryKind, ref: rest.slice(colon + 1) }
}
