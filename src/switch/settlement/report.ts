// SPDX-License-Identifier: Apache-2.0
/**
 * The settlement report's two renderings, JSON and CSV, for the HTTP API, the CLI and the console alike.
 * Amounts are decimal strings in the currency's scale (a net may carry a leading minus); a JS number
 * never holds one.
 */
import { formatAmount } from '../../core/money.ts'
import type { SettlementReport } from './model.ts'

/** formatAmount for amounts that may be negative: a net sender's net is "-12.5". */
export function formatSignedAmount(amountMinor: bigint, currency: string): string {
  return amountMinor < 0n ? `-${formatAmount(-amountMinor, currency)}` : formatAmount(amountMinor, currency)
}

export interface ReportRowJson {
  readonly participantId: string
  readonly currency: string
  readonly sent: string
  readonly received: string
  /** received − sent. */
  readonly net: string
}

export interface ReportTotalJson {
  readonly currency: string
  /** Everything sent in the currency, which is also everything received. */
  readonly amount: string
  readonly transferParticipants: number
}

export interface ReportJson {
  readonly scope: SettlementReport['scope']
  readonly id: number
  readonly state: string
  readonly windowIds: readonly number[]
  readonly rows: readonly ReportRowJson[]
  readonly totals: readonly ReportTotalJson[]
}

export function reportToJson(report: SettlementReport): ReportJson {
  const totals = new Map<string, { amount: bigint; participants: number }>()
  for (const row of report.rows) {
    const total = totals.get(row.currency) ?? { amount: 0n, participants: 0 }
    totals.set(row.currency, { amount: total.amount + row.sentMinor, participants: total.participants + 1 })
  }
  return {
    scope: report.scope,
    id: report.id,
    state: report.state,
    windowIds: report.windowIds,
    rows: report.rows.map((row) => ({
      participantId: row.fsp,
      currency: row.currency,
      sent: formatAmount(row.sentMinor, row.currency),
      received: formatAmount(row.receivedMinor, row.currency),
      net: formatSignedAmount(row.netMinor, row.currency),
    })),
    totals: [...totals.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([currency, total]) => ({ currency, amount: formatAmount(total.amount, currency), transferParticipants: total.participants })),
  }
}

export const REPORT_CSV_HEADER = ['participantId', 'currency', 'sent', 'received', 'net'] as const

/**
 * RFC 4180 CSV, CRLF line ends, one row per participant and currency. Text that a spreadsheet would run as
 * a formula (a leading =, +, -, @, tab or CR) is prefixed with an apostrophe; amounts are left as they are.
 */
export function reportToCsv(report: SettlementReport): string {
  const lines = [REPORT_CSV_HEADER.join(',')]
  for (const row of report.rows) {
    lines.push(
      [
        csvText(row.fsp),
        csvText(row.currency),
        formatAmount(row.sentMinor, row.currency),
        formatAmount(row.receivedMinor, row.currency),
        formatSignedAmount(row.netMinor, row.currency),
      ].join(','),
    )
  }
  return `${lines.join('\r\n')}\r\n`
}

function csvText(value: string): string {
  const safe = /^[=+@\t\r-]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}
