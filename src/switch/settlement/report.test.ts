// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SettlementReport } from './model.ts'
import { formatSignedAmount, reportToCsv, reportToJson } from './report.ts'

const report: SettlementReport = {
  scope: 'settlement',
  id: 7,
  state: 'SETTLED',
  windowIds: [1, 2],
  rows: [
    { fsp: 'payee', currency: 'USD', sentMinor: 0n, receivedMinor: 15_025n, netMinor: 15_025n },
    { fsp: 'payer', currency: 'USD', sentMinor: 15_025n, receivedMinor: 0n, netMinor: -15_025n },
    { fsp: 'payer', currency: 'UGX', sentMinor: 1_000n, receivedMinor: 1_000n, netMinor: 0n },
    { fsp: '=cmd,"x"', currency: 'UGX', sentMinor: 0n, receivedMinor: 0n, netMinor: 0n },
  ],
}

describe('settlement report', () => {
  it('formats signed amounts in the currency scale without trailing zeros', () => {
    assert.equal(formatSignedAmount(-15_025n, 'USD'), '-150.25')
    assert.equal(formatSignedAmount(15_000n, 'USD'), '150')
    assert.equal(formatSignedAmount(0n, 'USD'), '0')
    assert.equal(formatSignedAmount(-5n, 'BHD'), '-0.005')
    assert.equal(formatSignedAmount(1_234n, 'UGX'), '1234')
  })

  it('renders JSON with decimal strings and per-currency totals', () => {
    const json = reportToJson(report)
    assert.deepEqual(json.rows.slice(0, 3), [
      { participantId: 'payee', currency: 'USD', sent: '0', received: '150.25', net: '150.25' },
      { participantId: 'payer', currency: 'USD', sent: '150.25', received: '0', net: '-150.25' },
      { participantId: 'payer', currency: 'UGX', sent: '1000', received: '1000', net: '0' },
    ])
    assert.deepEqual(json.totals, [
      { currency: 'UGX', amount: '1000', transferParticipants: 2 },
      { currency: 'USD', amount: '150.25', transferParticipants: 2 },
    ])
    assert.deepEqual(JSON.parse(JSON.stringify(json)), json, 'nothing in it needs a custom serializer')
  })

  it('renders RFC 4180 CSV, quoting and defusing text a spreadsheet would run', () => {
    assert.equal(
      reportToCsv(report),
      [
        'participantId,currency,sent,received,net',
        'payee,USD,0,150.25,150.25',
        'payer,USD,150.25,0,-150.25',
        'payer,UGX,1000,1000,0',
        `"'=cmd,""x""",UGX,0,0,0`,
        '',
      ].join('\r\n'),
    )
  })
})
