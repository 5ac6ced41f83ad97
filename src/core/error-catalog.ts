// SPDX-License-Identifier: Apache-2.0
/**
 * Kivuko's error catalogue: one row per error code, each mapped to its FSPIOP error code, the HTTP status
 * used when it is answered synchronously, and whether the caller may retry the same request. Every mapper
 * elsewhere is typed `Record<ErrorCode, …>`, so adding a code here fails compilation until it is mapped,
 * and a test keeps docs/errors.md in step with this table.
 *
 * FSPIOP codes are four digits: category, sub-category, specific error (reference §6).
 */
export interface ErrorSpec {
  readonly fspiop: string
  readonly http: number
  readonly retryable: boolean
  readonly description: string
}

export const ERROR_CATALOG = {
  COMMUNICATION: { fspiop: '1000', http: 503, retryable: true, description: 'Communication error' },
  DESTINATION_COMMUNICATION: { fspiop: '1001', http: 503, retryable: true, description: 'Destination communication error: the peer could not be reached or did not answer' },
  SERVER_ERROR: { fspiop: '2000', http: 500, retryable: true, description: 'Generic server error' },
  INTERNAL: { fspiop: '2001', http: 500, retryable: true, description: 'Internal server error' },
  NOT_IMPLEMENTED: { fspiop: '2002', http: 501, retryable: false, description: 'Not implemented' },
  SERVICE_UNAVAILABLE: { fspiop: '2003', http: 503, retryable: true, description: 'Service currently unavailable' },
  SERVER_TIMED_OUT: { fspiop: '2004', http: 504, retryable: true, description: 'Server timed out: the next party did not answer in time' },
  SERVER_BUSY: { fspiop: '2005', http: 503, retryable: true, description: 'Server busy' },
  CLIENT_ERROR: { fspiop: '3000', http: 400, retryable: false, description: 'Generic client error' },
  UNACCEPTABLE_VERSION: { fspiop: '3001', http: 406, retryable: false, description: 'Unacceptable version requested' },
  UNKNOWN_URI: { fspiop: '3002', http: 404, retryable: false, description: 'Unknown URI' },
  ADD_PARTY_INFO_ERROR: { fspiop: '3003', http: 400, retryable: false, description: 'Add party information error' },
  VALIDATION: { fspiop: '3100', http: 400, retryable: false, description: 'Generic validation error' },
  MALFORMED_SYNTAX: { fspiop: '3101', http: 400, retryable: false, description: 'Malformed syntax' },
  MISSING_ELEMENT: { fspiop: '3102', http: 400, retryable: false, description: 'Missing mandatory element' },
  TOO_MANY_ELEMENTS: { fspiop: '3103', http: 400, retryable: false, description: 'Too many elements' },
  TOO_LARGE_PAYLOAD: { fspiop: '3104', http: 413, retryable: false, description: 'Too large payload' },
  INVALID_SIGNATURE: { fspiop: '3105', http: 400, retryable: false, description: 'Invalid signature' },
  MODIFIED_REQUEST: { fspiop: '3106', http: 400, retryable: false, description: 'Modified request: the same id was used with different content' },
  MISSING_EXTENSION: { fspiop: '3107', http: 400, retryable: false, description: 'Missing mandatory extension parameter' },
  INVALID_STATE: { fspiop: '3100', http: 409, retryable: false, description: 'The object is not in a state that allows this request' },
  ID_NOT_FOUND: { fspiop: '3200', http: 404, retryable: false, description: 'Generic ID not found' },
  DESTINATION_FSP_ERROR: { fspiop: '3201', http: 400, retryable: false, description: 'Destination FSP error: unknown, inactive or without an endpoint' },
  PAYER_FSP_NOT_FOUND: { fspiop: '3202', http: 400, retryable: false, description: 'Payer FSP ID not found' },
  PAYEE_FSP_NOT_FOUND: { fspiop: '3203', http: 400, retryable: false, description: 'Payee FSP ID not found' },
  PARTY_NOT_FOUND: { fspiop: '3204', http: 404, retryable: false, description: 'Party not found' },
  QUOTE_NOT_FOUND: { fspiop: '3205', http: 404, retryable: false, description: 'Quote ID not found' },
  TRANSACTION_REQUEST_NOT_FOUND: { fspiop: '3206', http: 404, retryable: false, description: 'Transaction request ID not found' },
  TRANSACTION_NOT_FOUND: { fspiop: '3207', http: 404, retryable: false, description: 'Transaction ID not found' },
  TRANSFER_NOT_FOUND: { fspiop: '3208', http: 404, retryable: false, description: 'Transfer ID not found' },
  BULK_QUOTE_NOT_FOUND: { fspiop: '3209', http: 404, retryable: false, description: 'Bulk quote ID not found' },
  BULK_TRANSFER_NOT_FOUND: { fspiop: '3210', http: 404, retryable: false, description: 'Bulk transfer ID not found' },
  ACCOUNT_NOT_FOUND: { fspiop: '3200', http: 404, retryable: false, description: 'Ledger account not found' },
  EXPIRED: { fspiop: '3300', http: 400, retryable: false, description: 'Generic expired error' },
  TRANSACTION_REQUEST_EXPIRED: { fspiop: '3301', http: 400, retryable: false, description: 'Transaction request expired' },
  QUOTE_EXPIRED: { fspiop: '3302', http: 400, retryable: false, description: 'Quote expired' },
  TRANSFER_EXPIRED: { fspiop: '3303', http: 400, retryable: false, description: 'Transfer expired' },
  PAYER_ERROR: { fspiop: '4000', http: 400, retryable: false, description: 'Generic payer error' },
  PAYER_INSUFFICIENT_LIQUIDITY: { fspiop: '4001', http: 400, retryable: false, description: 'Payer FSP insufficient liquidity' },
  PAYER_REJECTION: { fspiop: '4100', http: 400, retryable: false, description: 'Generic payer rejection' },
  PAYER_REJECTED_TRANSACTION_REQUEST: { fspiop: '4101', http: 400, retryable: false, description: 'Payer rejected transaction request' },
  PAYER_UNSUPPORTED_TRANSACTION_TYPE: { fspiop: '4102', http: 400, retryable: false, description: 'Payer FSP unsupported transaction type' },
  PAYER_UNSUPPORTED_CURRENCY: { fspiop: '4103', http: 400, retryable: false, description: 'Payer unsupported currency' },
  PAYER_LIMIT_ERROR: { fspiop: '4200', http: 400, retryable: false, description: 'Payer limit error: the net debit cap or an account limit would be exceeded' },
  PAYER_PERMISSION_ERROR: { fspiop: '4300', http: 403, retryable: false, description: 'Payer permission error' },
  PAYER_BLOCKED: { fspiop: '4400', http: 403, retryable: false, description: 'Generic payer blocked error' },
  PAYEE_ERROR: { fspiop: '5000', http: 400, retryable: false, description: 'Generic payee error' },
  PAYEE_INSUFFICIENT_LIQUIDITY: { fspiop: '5001', http: 400, retryable: false, description: 'Payee FSP insufficient liquidity' },
  PAYEE_REJECTION: { fspiop: '5100', http: 400, retryable: false, description: 'Generic payee rejection' },
  PAYEE_REJECTED_QUOTE: { fspiop: '5101', http: 400, retryable: false, description: 'Payee rejected quote' },
  PAYEE_UNSUPPORTED_TRANSACTION_TYPE: { fspiop: '5102', http: 400, retryable: false, description: 'Payee FSP unsupported transaction type' },
  PAYEE_FSP_REJECTED_QUOTE: { fspiop: '5103', http: 400, retryable: false, description: 'Payee FSP rejected quote' },
  PAYEE_REJECTED_TRANSACTION: { fspiop: '5104', http: 400, retryable: false, description: 'Payee rejected transaction' },
  PAYEE_FSP_REJECTED_TRANSACTION: { fspiop: '5105', http: 400, retryable: false, description: 'Payee FSP rejected transaction' },
  PAYEE_UNSUPPORTED_CURRENCY: { fspiop: '5106', http: 400, retryable: false, description: 'Payee unsupported currency' },
  PAYEE_LIMIT_ERROR: { fspiop: '5200', http: 400, retryable: false, description: 'Payee limit error' },
  PAYEE_PERMISSION_ERROR: { fspiop: '5300', http: 403, retryable: false, description: 'Payee permission error' },
  PAYEE_BLOCKED: { fspiop: '5400', http: 403, retryable: false, description: 'Generic payee blocked error' },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CATALOG

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[]

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERROR_CATALOG[code]
}
