// SPDX-License-Identifier: Apache-2.0
/**
 * The ATM/POS terminal channel: an ISO 8583 TCP gateway that turns terminal messages into
 * payee-initiated FSPIOP transactions through the PayeeDfsp port, and virtual terminals that speak to it.
 */
export { decodeDisplayData, encodeDisplayData, type DisplayData } from './display-data.ts'
export { RESEND_ACTION, TERMINAL_GATEWAY_DEFAULTS, TerminalGateway, type TerminalGatewayOptions } from './gateway.ts'
export { runInteractiveTerminal, type InteractiveTerminalOptions } from './interactive.ts'
export { silentTerminalLogger, type TerminalLogger } from './logger.ts'
export type { PayeeDfsp, RequestOutcome, RequestToPay } from './payee-port.ts'
export { TerminalRegistry, TerminalRegistryError, type Terminal, type TerminalEntry, type TerminalType } from './registry.ts'
export { responseCodeForRejection, type RejectionContext } from './response-codes.ts'
export { TERMINAL_SERVER_DEFAULTS, TerminalServer, type TerminalServerOptions } from './server.ts'
export {
  QR_POS_ENTRY_MODE,
  RESEND_STEP,
  runScript,
  VirtualTerminal,
  VirtualTerminalError,
  type OtpResult,
  type Purchase,
  type Quote,
  type ResendResult,
  type ScriptStep,
  type ScriptTranscript,
  type TerminalScript,
  type VirtualTerminalOptions,
} from './virtual-terminal.ts'
