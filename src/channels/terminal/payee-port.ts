// SPDX-License-Identifier: Apache-2.0
/**
 * The port through which the terminal gateway asks the payee DFSP (the ATM owner or the merchant's
 * acquirer) to run a payee-initiated transaction (reference §7). The gateway speaks ISO 8583 to the
 * terminal and this port to the DFSP; the composition root connects the port to the DFSP's HTTP API.
 *
 * Every method resolves with an outcome; the DFSP's own timeouts come back as REJECTED with fspiopCode
 * '2004' (server timed out) or '1001' (destination communication error). A rejected promise means the
 * adapter itself failed, and the gateway answers the terminal with response code 96.
 */

export interface RequestToPay {
  /** Our id for the FSPIOP transaction request; every later call names it. */
  transactionRequestId: string
  /** The customer, by the MSISDN typed at the terminal. */
  payer: { idType: 'MSISDN'; idValue: string }
  /** The terminal's payee identity: DEVICE for an ATM, BUSINESS (merchant id) for a POS. */
  payee: { idType: 'DEVICE' | 'BUSINESS'; idValue: string; name?: string }
  amountMinor: bigint
  /** ISO 4217 alphabetic code. */
  currency: string
  scenario: 'WITHDRAWAL' | 'PAYMENT'
  initiatorType: 'DEVICE' | 'BUSINESS'
  authenticationType: 'OTP' | 'QRCODE'
}

export type RequestOutcome =
  | { state: 'AWAITING_AUTHORIZATION'; transactionRequestId: string; amountMinor: bigint; feeMinor: bigint; totalDebitMinor: bigint; retriesLeft: number }
  | { state: 'COMMITTED'; transactionRequestId: string; transferId: string; completedAtMs: number }
  | { state: 'RETRY'; transactionRequestId: string; retriesLeft: number }
  | { state: 'REJECTED'; transactionRequestId: string; fspiopCode: string; reason: string }

export interface PayeeDfsp {
  /** Starts the transaction request; normally ends in AWAITING_AUTHORIZATION with the quote to show. */
  requestToPay(request: RequestToPay): Promise<RequestOutcome>
  /**
   * Passes the OTP the customer typed, or the QR code the POS scanned (as the request's authenticationType
   * says); COMMITTED, RETRY (wrong code, tries left) or REJECTED.
   */
  authorize(transactionRequestId: string, code: string): Promise<RequestOutcome>
  /**
   * The customer did not receive the OTP: ask the payer DFSP to send it again. Normally AWAITING_AUTHORIZATION
   * (or RETRY) with the tries left; for a QR code nothing is sent and the payer DFSP just asks again.
   */
  resend(transactionRequestId: string): Promise<RequestOutcome>
  /** The customer or the terminal abandoned the transaction before it was authorized. */
  reject(transactionRequestId: string): Promise<RequestOutcome>
  /** A committed transaction must be given back (the ATM failed to dispense): a REFUND transaction. */
  refund(transactionRequestId: string, reason: string): Promise<{ state: 'REFUNDED' | 'FAILED'; fspiopCode?: string }>
}
