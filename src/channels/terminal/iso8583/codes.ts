// SPDX-License-Identifier: Apache-2.0
/**
 * Code tables carried inside data elements, as data: response codes (reference §8.5), processing codes
 * (§8.4) and network management codes (§8.2). Which FSPIOP outcome maps to which response code is the
 * gateway's decision and lives with the gateway.
 */
import { Iso8583Error } from './errors.ts'
import { FIELD_NUMBERS } from './spec-87.ts'

interface CodeEntry {
  readonly code: string
  readonly description: string
}

/** Response codes (ISO 8583:1987, two characters), by name. */
export const RESPONSE_CODES = {
  approved: { code: '00', description: 'Approved' },
  referToIssuer: { code: '01', description: 'Refer to card issuer' },
  invalidMerchant: { code: '03', description: 'Invalid merchant' },
  doNotHonour: { code: '05', description: 'Do not honour' },
  invalidTransaction: { code: '12', description: 'Invalid transaction' },
  invalidAmount: { code: '13', description: 'Invalid amount' },
  invalidCardNumber: { code: '14', description: 'Invalid card number (no such account)' },
  noSuchIssuer: { code: '15', description: 'No such issuer' },
  noActionTaken: { code: '21', description: 'No action taken' },
  formatError: { code: '30', description: 'Format error' },
  insufficientFunds: { code: '51', description: 'Not sufficient funds' },
  expiredCard: { code: '54', description: 'Expired card' },
  incorrectPin: { code: '55', description: 'Incorrect PIN' },
  noCardRecord: { code: '56', description: 'No card record' },
  notPermittedToCardholder: { code: '57', description: 'Transaction not permitted to cardholder' },
  notPermittedToTerminal: { code: '58', description: 'Transaction not permitted to terminal' },
  exceedsWithdrawalAmountLimit: { code: '61', description: 'Exceeds withdrawal amount limit' },
  exceedsWithdrawalFrequencyLimit: { code: '65', description: 'Exceeds withdrawal frequency limit' },
  responseReceivedTooLate: { code: '68', description: 'Response received too late' },
  pinTriesExceeded: { code: '75', description: 'Allowable number of PIN tries exceeded' },
  issuerOrSwitchInoperative: { code: '91', description: 'Issuer or switch inoperative' },
  unableToRoute: { code: '92', description: 'Financial institution or intermediate network facility cannot be found for routing' },
  duplicateTransmission: { code: '94', description: 'Duplicate transmission' },
  systemMalfunction: { code: '96', description: 'System malfunction' },
} as const satisfies Record<string, CodeEntry>

export type ResponseCodeName = keyof typeof RESPONSE_CODES
export type ResponseCode = (typeof RESPONSE_CODES)[ResponseCodeName]['code']

const RESPONSE_CODES_BY_CODE: ReadonlyMap<string, ResponseCodeName> = new Map(
  (Object.keys(RESPONSE_CODES) as ResponseCodeName[]).map((name) => [RESPONSE_CODES[name].code, name]),
)

/** The name of a response code ('51' → 'insufficientFunds'), or undefined when the table lacks it. */
export function responseCodeName(code: string): ResponseCodeName | undefined {
  return RESPONSE_CODES_BY_CODE.get(code)
}

/** Processing code positions 1–2: the transaction type. */
export const TRANSACTION_TYPES = {
  purchase: { code: '00', description: 'Goods and services (purchase)' },
  cashWithdrawal: { code: '01', description: 'Cash withdrawal' },
  purchaseWithCashback: { code: '09', description: 'Purchase with cashback' },
  refund: { code: '20', description: 'Return (refund)' },
  deposit: { code: '21', description: 'Deposit' },
  availableFundsInquiry: { code: '30', description: 'Available funds inquiry' },
  balanceInquiry: { code: '31', description: 'Balance inquiry' },
  accountTransfer: { code: '40', description: 'Account transfer' },
} as const satisfies Record<string, CodeEntry>

/** Processing code positions 3–4 (from account) and 5–6 (to account): the account type. */
export const ACCOUNT_TYPES = {
  default: { code: '00', description: 'Default or unspecified account' },
  savings: { code: '10', description: 'Savings account' },
  cheque: { code: '20', description: 'Cheque (current) account' },
  credit: { code: '30', description: 'Credit account' },
} as const satisfies Record<string, CodeEntry>

export type TransactionTypeName = keyof typeof TRANSACTION_TYPES
export type AccountTypeName = keyof typeof ACCOUNT_TYPES

export interface ProcessingCode {
  /** Undefined when positions 1–2 hold a code the table lacks (dialects add their own). */
  readonly transactionType: TransactionTypeName | undefined
  readonly fromAccount: AccountTypeName | undefined
  readonly toAccount: AccountTypeName | undefined
  /** The six digits as received. */
  readonly code: string
}

function nameOf<T extends Record<string, CodeEntry>>(table: T, code: string): keyof T | undefined {
  return (Object.keys(table) as (keyof T)[]).find((name) => table[name]?.code === code)
}

/** '010000' → cash withdrawal, default account to default account. Throws unless six digits. */
export function parseProcessingCode(code: string): ProcessingCode {
  if (typeof code !== 'string' || !/^[0-9]{6}$/.test(code)) {
    throw new Iso8583Error(FIELD_NUMBERS.processingCode, 'processingCode', 'bad_charset', 'a processing code is six digits')
  }
  return {
    transactionType: nameOf(TRANSACTION_TYPES, code.slice(0, 2)),
    fromAccount: nameOf(ACCOUNT_TYPES, code.slice(2, 4)),
    toAccount: nameOf(ACCOUNT_TYPES, code.slice(4, 6)),
    code,
  }
}

/** cashWithdrawal → '010000'; the accounts default to unspecified. */
export function formatProcessingCode(
  transactionType: TransactionTypeName,
  fromAccount: AccountTypeName = 'default',
  toAccount: AccountTypeName = 'default',
): string {
  return TRANSACTION_TYPES[transactionType].code + ACCOUNT_TYPES[fromAccount].code + ACCOUNT_TYPES[toAccount].code
}

/** Network management information codes (1987, carried in 0800/0810). */
export const NETWORK_MANAGEMENT_CODES = {
  signOn: { code: '001', description: 'Sign-on' },
  signOff: { code: '002', description: 'Sign-off' },
  keyChange: { code: '161', description: 'Key change' },
  echoTest: { code: '301', description: 'Echo test' },
} as const satisfies Record<string, CodeEntry>

export type NetworkManagementCodeName = keyof typeof NETWORK_MANAGEMENT_CODES

/** The name of a network management code ('301' → 'echoTest'), or undefined when the table lacks it. */
export function networkManagementCodeName(code: string): NetworkManagementCodeName | undefined {
  return nameOf(NETWORK_MANAGEMENT_CODES, code)
}
