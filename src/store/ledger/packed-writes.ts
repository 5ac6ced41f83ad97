// SPDX-License-Identifier: Apache-2.0
/**
 * A batch's SQLite rows packed for the trip to the ledger's writer thread. postMessage's structured clone
 * walks a list value by value (a tag, a length, then each bigint's digits or each string's bytes, and on
 * the other side one heap object per value); measured on bench:ledger, that clone was about a tenth of
 * both threads' CPU. Packed, the same rows are one string and a few typed arrays: the string copies as one
 * block and the arrays' buffers are handed over, not copied.
 *
 * The layout: every value of the seven SqliteWrites lists in order, one tag each (null, text, int64,
 * number); texts concatenated into one string with their lengths alongside; bigints in a BigInt64Array,
 * numbers (timestamps) in a Float64Array; `counts` says how many values each list has.
 */
import type { BatchWrites } from '../../ledger/apply.ts'
import type { Account, Transfer } from '../../ledger/types.ts'
import type { SqlValue } from '../ports.ts'

export interface SqliteWrites {
  readonly accountsCreated: SqlValue[]
  /** [debits_limit, credits_limit, debits_pending, debits_posted, credits_pending, credits_posted, id], account after account. */
  readonly accountsUpdated: SqlValue[]
  /** Accounts with exempt debits: the same with debits_exempt before the id (SQLITE_UPDATE_ACCOUNT_EXEMPT). */
  readonly accountsUpdatedExempt: SqlValue[]
  readonly transfers: SqlValue[]
  /** Transfers exempt from the debits limit: the TRANSFER columns, row after row (the flag is implied). */
  readonly exemptTransfers: SqlValue[]
  /** [expires_at_ms, id] row after row: ledger_expiry's key. */
  readonly expiriesOpened: SqlValue[]
  /** [expires_at_ms, id] row after row. */
  readonly expiriesClosed: SqlValue[]
}

export interface PackedWrites {
  /** Values in each SqliteWrites list, in the order of SECTIONS. */
  readonly counts: Uint32Array
  readonly tags: Uint8Array
  readonly text: string
  readonly textLengths: Uint32Array
  readonly bigints: BigInt64Array
  readonly numbers: Float64Array
}

const SECTIONS = ['accountsCreated', 'accountsUpdated', 'accountsUpdatedExempt', 'transfers', 'exemptTransfers', 'expiriesOpened', 'expiriesClosed'] as const

const NULL = 0
const TEXT = 1
const BIGINT = 2
const NUMBER = 3

/** The buffers postMessage hands over instead of copying (the packed rows are not used after sending). */
export function transferables(packed: PackedWrites): ArrayBuffer[] {
  return [packed.counts.buffer, packed.tags.buffer, packed.textLengths.buffer, packed.bigints.buffer, packed.numbers.buffer] as ArrayBuffer[]
}

/** Writes values into typed arrays sized from the row counts (an upper bound per kind, so nothing grows). */
class Packer {
  readonly tags: Uint8Array
  readonly textLengths: Uint32Array
  readonly bigints: BigInt64Array
  readonly numbers: Float64Array
  /** Appended, not joined at the end: V8 keeps a rope that postMessage flattens once (a join cost twice as much). */
  joined = ''
  values = 0
  #texts = 0
  #bigints = 0
  #numbers = 0

  constructor(values: number, texts: number, bigints: number, numbers: number) {
    this.tags = new Uint8Array(values)
    this.textLengths = new Uint32Array(texts)
    this.bigints = new BigInt64Array(bigints)
    this.numbers = new Float64Array(numbers)
  }

  text(value: string): void {
    this.tags[this.values++] = TEXT
    this.textLengths[this.#texts++] = value.length
    this.joined += value
  }

  bigint(value: bigint): void {
    // A BigInt64Array stores a value out of range modulo 2^64: read it back and refuse what changed (SQLite
    // could not store it either). Cheaper than comparing with the bounds.
    const at = this.#bigints++
    this.bigints[at] = value
    if (this.bigints[at] !== value) throw new RangeError(`${value} does not fit a 64-bit integer`)
    this.tags[this.values++] = BIGINT
  }

  number(value: number): void {
    this.tags[this.values++] = NUMBER
    this.numbers[this.#numbers++] = value
  }

  bigintOrNull(value: bigint | null): void {
    if (value === null) this.tags[this.values++] = NULL
    else this.bigint(value)
  }

  textOrNull(value: string | null): void {
    if (value === null) this.tags[this.values++] = NULL
    else this.text(value)
  }

  /** An account's limits and four counters, in the order of ACCOUNT_COLUMNS and of the update's SET list. */
  balances(a: Account): void {
    this.bigintOrNull(a.debitsLimitMinor)
    this.bigintOrNull(a.creditsLimitMinor)
    this.bigint(a.debitsPendingMinor)
    this.bigint(a.debitsPostedMinor)
    this.bigint(a.creditsPendingMinor)
    this.bigint(a.creditsPostedMinor)
  }

  numberOrNull(value: number | null): void {
    if (value === null) this.tags[this.values++] = NULL
    else this.number(value)
  }
}

/**
 * The batch's rows in the column order of the SQLite statements that write them (ACCOUNT_COLUMNS,
 * the update's SET list then the id, TRANSFER_COLUMNS, ledger_expiry's key), packed.
 */
export function packSqliteWrites(writes: BatchWrites): PackedWrites {
  const { accountsCreated, accountsUpdated, transfersCreated } = writes
  const { opened, closed } = netExpiries(writes.expiriesOpened, writes.expiriesClosed)
  const expiries = opened.length + closed.length
  const p = new Packer(
    accountsCreated.length * 10 + accountsUpdated.length * 8 + transfersCreated.length * 10 + expiries * 2,
    accountsCreated.length * 3 + accountsUpdated.length + transfersCreated.length * 7 + expiries,
    accountsCreated.length * 6 + accountsUpdated.length * 7 + transfersCreated.length,
    accountsCreated.length + transfersCreated.length * 2 + expiries,
  )
  const counts = new Uint32Array(SECTIONS.length)
  let sectionStart = 0
  const endSection = (section: number): void => {
    counts[section] = p.values - sectionStart
    sectionStart = p.values
  }
  for (const a of accountsCreated) {
    p.text(a.id)
    p.text(a.currency)
    p.text(a.code)
    p.balances(a)
    p.number(a.createdAtMs)
  }
  endSection(0)
  // Unsorted: SQLite has one writer and no row locks to order (PostgreSQL's updateAccounts sorts), and the
  // account table's pages are in the cache; sorting thousands of ids cost the main thread ~4 % of a batch.
  const accountUpdate = (a: Account): void => {
    p.balances(a)
    if (a.debitsExemptMinor !== undefined) p.bigint(a.debitsExemptMinor)
    p.text(a.id)
  }
  const journalRow = (t: Transfer): void => {
    p.text(t.id)
    p.text(t.type)
    p.text(t.debitAccountId)
    p.text(t.creditAccountId)
    p.bigint(t.amountMinor)
    p.text(t.currency)
    p.textOrNull(t.pendingId)
    p.numberOrNull(t.expiresAtMs)
    p.textOrNull(t.reference)
    p.number(t.createdAtMs)
  }
  // Exempt rows (settlement's) are rare and go in lists of their own, after the others: a second pass only
  // when the first one skipped some.
  let exemptAccounts = 0
  for (const a of accountsUpdated) {
    if (a.debitsExemptMinor === undefined) accountUpdate(a)
    else exemptAccounts += 1
  }
  endSection(1)
  if (exemptAccounts > 0) for (const a of accountsUpdated) if (a.debitsExemptMinor !== undefined) accountUpdate(a)
  endSection(2)
  let exemptTransfers = 0
  for (const t of transfersCreated) {
    if (t.exemptFromDebitsLimit !== true) journalRow(t)
    else exemptTransfers += 1
  }
  endSection(3)
  if (exemptTransfers > 0) for (const t of transfersCreated) if (t.exemptFromDebitsLimit === true) journalRow(t)
  endSection(4)
  for (const list of [opened, closed]) {
    for (const e of list) {
      p.number(e.expiresAtMs)
      p.text(e.id)
    }
    endSection(list === opened ? 5 : 6)
  }
  return { counts, tags: p.tags, text: p.joined, textLengths: p.textLengths, bigints: p.bigints, numbers: p.numbers }
}

/** The seven flat lists again, value for value what packSqliteWrites was given. */
export function unpackSqliteWrites(packed: PackedWrites): SqliteWrites {
  const { counts, tags, text, textLengths, bigints, numbers } = packed
  let value = 0
  let textAt = 0
  let texts = 0
  let ints = 0
  let nums = 0
  const lists = SECTIONS.map((_, section) => {
    const end = value + (counts[section] as number)
    const list: SqlValue[] = new Array(end - value)
    for (let i = 0; value < end; i += 1, value += 1) {
      switch (tags[value]) {
        case TEXT: {
          const length = textLengths[texts++] as number
          list[i] = text.slice(textAt, textAt + length)
          textAt += length
          break
        }
        case BIGINT:
          list[i] = bigints[ints++] as bigint
          break
        case NUMBER:
          list[i] = numbers[nums++] as number
          break
        default:
          list[i] = null
      }
    }
    return list
  })
  const [accountsCreated, accountsUpdated, accountsUpdatedExempt, transfers, exemptTransfers, expiriesOpened, expiriesClosed] = lists as [
    SqlValue[],
    SqlValue[],
    SqlValue[],
    SqlValue[],
    SqlValue[],
    SqlValue[],
    SqlValue[],
  ]
  return { accountsCreated, accountsUpdated, accountsUpdatedExempt, transfers, exemptTransfers, expiriesOpened, expiriesClosed }
}

/** Journal rows in the packed batch (the writer thread bounds a merged transaction by them). */
export function packedJournalRows(packed: PackedWrites): number {
  return ((packed.counts[3] as number) + (packed.counts[4] as number)) / 10
}

/**
 * A pending transfer created and resolved in the same batch never needs its expiry row: both cancel out,
 * and the rest is what to insert and what to delete.
 */
export function netExpiries<E extends { readonly id: string }>(opened: readonly E[], closed: readonly E[]): { opened: E[]; closed: E[] } {
  if (opened.length === 0 || closed.length === 0) return { opened: [...opened], closed: [...closed] }
  const closedIds = new Set(closed.map((e) => e.id))
  const openedIds = new Set<string>()
  const keep: E[] = []
  for (const e of opened) {
    if (closedIds.has(e.id)) openedIds.add(e.id)
    else keep.push(e)
  }
  return { opened: keep, closed: openedIds.size === 0 ? [...closed] : closed.filter((e) => !openedIds.has(e.id)) }
}
