// SPDX-License-Identifier: Apache-2.0
export * from './types.ts'
export * from './statuses.ts'
export * from './ledger.ts'
export { applyBatch, referencedIds, expiryId, type LedgerEvent, type EventResult, type BatchWrites, type BatchSnapshot } from './apply.ts'
export { PENDING_TRANSITIONS, nextPendingState, type PendingEvent } from './pending-state.ts'
