// SPDX-License-Identifier: Apache-2.0
/**
 * Deferred multilateral net settlement: windows, settlements, the nets and the ledger transfers that settle
 * them, and the report. See settlement-service.ts for the guarantees.
 */
export {
  SettlementService,
  DEFAULT_SETTLEMENT_MODEL,
  MODEL_LENGTH_MAX,
  REASON_LENGTH_MAX,
  SETTLEMENT_WINDOWS_MAX,
  type CloseOutcome,
  type SettlementServiceDeps,
} from './settlement-service.ts'
export type {
  CommittedTransfer,
  CreateSettlementInput,
  ParticipantNet,
  RecordOutcome,
  Settlement,
  SettlementParticipant,
  SettlementReport,
  SettlementWindow,
  WindowContent,
  WindowFilter,
} from './model.ts'
export {
  SETTLEMENT_EVENTS,
  SETTLEMENT_STATES,
  SETTLEMENT_TRANSITIONS,
  WINDOW_EVENTS,
  WINDOW_STATES,
  WINDOW_TRANSITIONS,
  nextSettlementState,
  nextWindowState,
  type SettlementEvent,
  type SettlementState,
  type WindowEvent,
  type WindowState,
} from './settlement-state.ts'
export { assertNetsBalance, combineNets, settlementLedgerTransfer, settlementTransferId, type FlowTotal } from './netting.ts'
export { REPORT_CSV_HEADER, formatSignedAmount, reportToCsv, reportToJson, type ReportJson, type ReportRowJson, type ReportTotalJson } from './report.ts'
