// SPDX-License-Identifier: Apache-2.0
/**
 * A virtual ATM or POS at the keyboard: prompts for the customer's MSISDN and amount (and, on a POS, whether
 * the customer pays with a one-time password or the QR code their wallet app shows), shows the quote, asks for
 * confirmation and the code (again after a wrong one; R asks for the OTP to be sent again), and prints the
 * outcome and receipt. The CLI (`kivuko atm`, `kivuko pos`) passes stdin and stdout; tests pass streams.
 */
import { createInterface } from 'node:readline/promises'
import type { Readable, Writable } from 'node:stream'
import { findCurrency, formatFixed, parseAmount } from '../../core/money.ts'
import { responseCodeName } from './iso8583/index.ts'
import { VirtualTerminal } from './virtual-terminal.ts'

export interface InteractiveTerminalOptions {
  readonly host: string
  readonly port: number
  readonly terminalId: string
  readonly kind: 'ATM' | 'POS'
  /** ISO 4217 alphabetic code the terminal transacts in. */
  readonly currency: string
  readonly input: Readable
  readonly output: Writable
}

/** Runs customer sessions until the input ends or the customer types "q"; resolves when done. */
export async function runInteractiveTerminal(options: InteractiveTerminalOptions): Promise<void> {
  const currency = findCurrency(options.currency)
  if (currency === undefined) throw new Error(`unknown currency ${options.currency}`)
  const terminal = await VirtualTerminal.connect({ host: options.host, port: options.port, terminalId: options.terminalId })
  const lines = createInterface({ input: options.input, output: options.output, terminal: false })
  // One iterator for the whole session: it buffers lines that arrive before they are asked for.
  const answers = lines[Symbol.asyncIterator]()
  const say = (text: string): void => {
    options.output.write(`${text}\n`)
  }
  const ask = async (question: string): Promise<string | undefined> => {
    options.output.write(question)
    const answer = await answers.next()
    return answer.done === true ? undefined : String(answer.value).trim()
  }
  const show = (minor: bigint): string => `${formatFixed(minor, currency.code)} ${currency.code}`
  try {
    say(`${options.kind} ${options.terminalId} connected to ${options.host}:${options.port}`)
    for (;;) {
      const msisdn = await ask('Customer mobile number (q to quit): ')
      if (msisdn === undefined || msisdn === 'q') return
      const amountText = await ask(`Amount in ${currency.code}: `)
      if (amountText === undefined) return
      const amount = parseAmount(amountText, currency.code, { grammar: 'decimal' })
      if (!amount.ok) {
        say(`Not an amount (${amount.status}).`)
        continue
      }
      let authentication: 'OTP' | 'QRCODE' = 'OTP'
      if (options.kind === 'POS') {
        const how = await ask('Pay with (1) one-time password or (2) QR code from the wallet app? [1]: ')
        if (how === undefined) return
        authentication = how === '2' ? 'QRCODE' : 'OTP'
      }
      const purchase = { msisdn, amountMinor: amount.value, currency: currency.code, authentication }
      const quote = options.kind === 'ATM' ? await terminal.cashOut(purchase) : await terminal.purchase(purchase)
      if (!quote.approved) {
        say(`Declined: ${quote.responseCode} ${responseCodeName(quote.responseCode) ?? ''}`)
        continue
      }
      say(`Amount ${show(quote.amountMinor)}, fee ${show(quote.feeMinor)}, your account is debited ${show(quote.totalDebitMinor)}.`)
      const confirm = await ask('Confirm? (y/n): ')
      if (confirm !== 'y') {
        say(`Cancelled (${await terminal.reverse()}).`)
        continue
      }
      let tries = quote.triesLeft
      const qr = authentication === 'QRCODE'
      for (;;) {
        const left = `${tries} ${tries === 1 ? 'try' : 'tries'} left`
        const code = await ask(qr ? `Scan the QR code in the customer's wallet app (type or paste it; ${left}): ` : `One-time password (${left}; R if the SMS did not come): `)
        if (code === undefined || code === '') {
          say(`Cancelled (${await terminal.reverse()}).`)
          break
        }
        if (!qr && (code === 'R' || code === 'r')) {
          const resent = await terminal.resendCode()
          if (resent.outcome === 'RESENT') {
            tries = resent.triesLeft
            say('A new one-time password is on its way by SMS.')
            continue
          }
          say(`Declined: ${resent.responseCode} ${responseCodeName(resent.responseCode) ?? ''}`)
          break
        }
        const result = qr ? await terminal.scanQrCode(code) : await terminal.enterOtp(code)
        if (result.outcome === 'RETRY') {
          tries = result.triesLeft
          say(qr ? 'QR code not accepted.' : 'Wrong one-time password.')
          continue
        }
        if (result.outcome === 'DECLINED') say(`Declined: ${result.responseCode} ${responseCodeName(result.responseCode) ?? ''}`)
        else {
          say(options.kind === 'ATM' ? 'Approved: please take your cash.' : 'Approved.')
          for (const [key, value] of Object.entries(result.receipt)) say(`  ${key.padEnd(9)} ${value}`)
        }
        break
      }
    }
  } finally {
    lines.close()
    await terminal.close()
  }
}
