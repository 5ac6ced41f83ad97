// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP: one participant of the scheme. Customers and wallets on the ledger, the FSPIOP peer in the
 * payer and payee roles, the synchronous outbound API, oracle registration, and the sweeper. The HTTP
 * edges live in http/dfsp, the tables in store/dfsp.
 */
export { Dfsp, type DfspOptions, type RegistrationResult, type TransferStatus } from './dfsp.ts'
export { DFSP_DEFAULTS, resolveDfspConfig, type CustomerSeed, type DfspConfig, type DfspConfigInput } from './config.ts'
export { DEMO_CUSTOMERS, DEMO_TERMINALS, DEMO_WITHDRAWAL_FEE } from './demo.ts'
export { feeFor, NO_FEE, parseFeeRule, type FeeRule, type FeeRuleInput } from './fees.ts'
export { checkQuoteResponse, payerDebit, payerQuoteAmount, quoteAsPayee, type AmountType, type PayeeQuoteAmounts } from './quote-math.ts'
export { formatBalance, type Balance, type NewCustomer, type StatementEntry, type StatementKind } from './customers.ts'
export { httpStatusForPeerError, type PartyLookup, type QuoteSummary, type SendFailure, type SendInput, type SendOutcome, type SendStage, type SendState } from './payer.ts'
export { requestHash, type CallbackAnswer, type Inbound } from './context.ts'
export { dfspAccountId, ledgerPrefix, walletAccountId } from './ledger-ids.ts'
export { TRANSFER_TRANSITIONS, nextTransferState, type AbortReason, type Role, type TransferEvent, type TransferState } from './transfer-state.ts'
export type {
  Customer,
  CustomerInsert,
  DfspLogger,
  DfspRepository,
  FspiopTransport,
  OutgoingRequest,
  PartyIdType,
  QuoteChanges,
  QuoteRecord,
  QuoteState,
  TransferChanges,
  TransferRecord,
  TransportResult,
} from './ports.ts'
export type { Trace } from './switch-api.ts'
export { PayeeTransactionRequests, type PayeeNotices, type RequestToPayInput, type RequestToPayQuote, type RequestToPayView } from './request-to-pay.ts'
export { PayerTransactionRequests, type AuthorizationsIDPutResponse, type TransactionRequestsPostRequest } from './txn-request-payer.ts'
export {
  PAYEE_REQUEST_TRANSITIONS,
  PAYER_REQUEST_TRANSITIONS,
  nextPayeeRequestState,
  nextPayerRequestState,
  type PayeeRequestEvent,
  type PayeeRequestState,
  type PayerRequestEvent,
  type PayerRequestState,
} from './txn-request-state.ts'
export { OtpService, QR_CODE_VALUE, resolveOtpConfig, type ChallengeKind, type IssuedOtp, type IssuedQrCode, type OtpConfig, type OtpConfigInput } from './otp/otp.ts'
export { NotificationOutbox, keepingSmsSender, type Notification, type SmsSender } from './otp/notifications.ts'
