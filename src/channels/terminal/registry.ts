// SPDX-License-Identifier: Apache-2.0
/**
 * The terminals the gateway accepts, by terminal id (ISO 8583 field 41). For now the registry is built
 * in memory from configuration (a list of entries validated here); a stored registry can replace it
 * behind the same `find` without touching the gateway.
 *
 * An ATM transacts as a FSPIOP DEVICE whose identifier is its device id (by default its terminal id);
 * a POS transacts as the merchant, a BUSINESS identified by the merchant id.
 */
import { findCurrency, findCurrencyByNumeric, type Currency } from '../../core/money.ts'

export type TerminalType = 'ATM' | 'POS'

/** One terminal as configuration describes it. */
export interface TerminalEntry {
  /** ISO 8583 field 41: up to 8 printable ASCII characters. */
  readonly terminalId: string
  readonly type: TerminalType
  /** The payee identifier: the DEVICE id for an ATM (defaults to terminalId), the merchant id for a POS. */
  readonly payeeId?: string
  /** ISO 4217 alphabetic code of the only currency the terminal handles, e.g. 'KES'. */
  readonly currency: string
  /** Shown to the customer's DFSP as the payee name and printed on receipts. */
  readonly name: string
  readonly location?: string
}

/** A validated terminal, with the FSPIOP identity it transacts under. */
export interface Terminal {
  readonly terminalId: string
  readonly type: TerminalType
  readonly payee: { readonly idType: 'DEVICE' | 'BUSINESS'; readonly idValue: string; readonly name: string }
  readonly currency: Currency
  readonly name: string
  readonly location: string | undefined
}

export class TerminalRegistryError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid terminal registry:\n  ${problems.join('\n  ')}`)
    this.name = 'TerminalRegistryError'
    this.problems = problems
  }
}

const TERMINAL_ID = /^[\x21-\x7e][\x20-\x7e]{0,7}$/
const PAYEE_ID = /^[A-Za-z0-9._:-]{1,128}$/

export class TerminalRegistry {
  readonly #terminals: ReadonlyMap<string, Terminal>

  /** Validates every entry and reports all problems at once, like loadConfig. */
  constructor(entries: readonly TerminalEntry[]) {
    const problems: string[] = []
    const terminals = new Map<string, Terminal>()
    entries.forEach((entry, index) => {
      const where = `terminals[${index}]`
      const terminal = toTerminal(entry, where, problems)
      if (terminal === undefined) return
      if (terminals.has(terminal.terminalId)) problems.push(`${where}: terminal id ${terminal.terminalId} appears twice`)
      else terminals.set(terminal.terminalId, terminal)
    })
    if (problems.length > 0) throw new TerminalRegistryError(problems)
    this.#terminals = terminals
  }

  /**
   * The terminal behind field 41. Fixed-length field 41 arrives right-padded with spaces, so trailing
   * spaces are not part of the id.
   */
  find(terminalIdField: string): Terminal | undefined {
    return this.#terminals.get(terminalIdField.trimEnd())
  }

  get size(): number {
    return this.#terminals.size
  }

  list(): readonly Terminal[] {
    return [...this.#terminals.values()]
  }
}

function toTerminal(entry: TerminalEntry, where: string, problems: string[]): Terminal | undefined {
  const before = problems.length
  const terminalId = typeof entry.terminalId === 'string' ? entry.terminalId.trimEnd() : ''
  if (!TERMINAL_ID.test(terminalId)) problems.push(`${where}: terminalId is 1 to 8 printable ASCII characters`)
  if (entry.type !== 'ATM' && entry.type !== 'POS') problems.push(`${where}: type is ATM or POS`)
  const currency = typeof entry.currency === 'string' ? findCurrency(entry.currency) : undefined
  if (currency === undefined) problems.push(`${where}: currency ${String(entry.currency)} is not an ISO 4217 code with a minor unit`)
  else if (findCurrencyByNumeric(currency.numeric) !== currency) problems.push(`${where}: currency ${currency.code} has no unique numeric code for field 49`)
  if (typeof entry.name !== 'string' || entry.name.trim() === '') problems.push(`${where}: name is required`)
  const payeeId = entry.payeeId ?? (entry.type === 'ATM' ? terminalId : undefined)
  if (payeeId === undefined) problems.push(`${where}: a POS needs payeeId, the merchant id it is paid under`)
  else if (!PAYEE_ID.test(payeeId)) problems.push(`${where}: payeeId is 1 to 128 of letters, digits and ._:-`)
  if (problems.length > before || currency === undefined || payeeId === undefined) return undefined
  return Object.freeze({
    terminalId,
    type: entry.type,
    payee: Object.freeze({ idType: entry.type === 'ATM' ? 'DEVICE' : 'BUSINESS', idValue: payeeId, name: entry.name.trim() }),
    currency,
    name: entry.name.trim(),
    location: entry.location,
  })
}
