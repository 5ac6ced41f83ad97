// SPDX-License-Identifier: Apache-2.0
/**
 * Deferred multilateral net settlement (reference §4.7), the way Mojaloop's admin API shows it.
 *
 * - Every committed transfer is recorded, inside the switch's own commit transaction, in the one OPEN
 *   settlement window (`recordCommitted`). The first window opens lazily.
 * - An operator closes the OPEN window (`closeWindow`); the next one opens in the same transaction, so
 *   exactly one window is OPEN at any time, and a closed window's content never changes (settlement-repo.ts
 *   explains the locking that guarantees it on PostgreSQL).
 * - A settlement (`createSettlement`) takes one or more CLOSED windows and fixes, per participant and
 *   currency, what was sent, received and the net (received − sent); per currency the nets sum to zero.
 * - Settling it (`settle`) posts one ledger transfer per non-zero net between the participant's POSITION
 *   account and the hub's HUB_MULTILATERAL_SETTLEMENT account, moving every position back toward zero,
 *   and then marks the settlement and its windows SETTLED. The transfers form one linked chain, so either
 *   every position moves or none does, and their ids derive from the settlement, participant and currency,
 *   so a retried settle never moves money twice. Once settling has started the settlement can no longer be
 *   aborted; a settle that failed part-way is simply run again.
 * - Aborting a settlement that has not started settling (`abortSettlement`) returns its windows to CLOSED.
 *
 * The ledger runs its own transactions, so the ledger transfers are never inside one of settlement's: the
 * SETTLING state is what makes the gap between them safe.
 */
import { assert } from '../../core/assert.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { ConflictError, HubError, NotFoundError, RejectedError, UnavailableError, ValidationError } from '../../core/errors.ts'
import { findCurrency } from '../../core/money.ts'
import type { Ledger } from '../../ledger/ledger.ts'
import { TRANSFER_STATUS_ERRORS } from '../../ledger/statuses.ts'
import type { TransferInput } from '../../ledger/types.ts'
import type { SqlClient, SqlExecutor } from '../../store/ports.ts'
import * as repo from '../../store/settlement/settlement-repo.ts'
import { hubAccountId } from '../accounts.ts'
import type {
  CommittedTransfer,
  CreateSettlementInput,
  RecordOutcome,
  Settlement,
  SettlementParticipant,
  SettlementReport,
  SettlementWindow,
  WindowFilter,
} from './model.ts'
import { combineNets, settlementLedgerTransfer } from './netting.ts'
import { nextSettlementState, nextWindowState } from './settlement-state.ts'

export const DEFAULT_SETTLEMENT_MODEL = 'DEFERREDNET'
export const REASON_LENGTH_MAX = 512
export const MODEL_LENGTH_MAX = 64
/** Most windows one settlement may cover. */
export const SETTLEMENT_WINDOWS_MAX = 1_000

/** How often a transaction that lost a race on PostgreSQL (serialization, deadlock) is run again. */
const TRANSACTION_ATTEMPTS_MAX = 10
/** How often recordCommitted looks for the OPEN window before giving up (each miss is a close racing it). */
const OPEN_WINDOW_LOOKUPS_MAX = 10

export interface SettlementServiceDeps {
  readonly store: SqlClient
  readonly ledger: Ledger
  readonly clock?: Clock
}

/** A settlement model as Mojaloop's admin API takes it. */
export interface SettlementModelInput {
  readonly name: string
  readonly settlementGranularity: string
  readonly settlementInterchange: string
  readonly settlementDelay: string
  readonly currency?: string
  readonly requireLiquidityCheck: boolean
  readonly ledgerAccountType: string
  readonly autoPositionReset: boolean
  readonly settlementAccountType: string
}

export interface CloseOutcome {
  /** The window just closed, with its final content. */
  readonly closed: SettlementWindow
  /** The window that opened in its place. */
  readonly opened: SettlementWindow
}

export class SettlementService {
  readonly #store: SqlClient
  readonly #ledger: Ledger
  readonly #clock: Clock

  constructor(deps: SettlementServiceDeps) {
    this.#store = deps.store
    this.#ledger = deps.ledger
    this.#clock = deps.clock ?? systemClock
  }

  /**
   * Records a committed transfer in the OPEN window. Call it with the executor of the transaction that
   * commits the transfer, so that both commit or neither does. Idempotent per transferId: a second call
   * answers `exists` with the window of the first; the same id with other content is a ConflictError
   * (MODIFIED_REQUEST). On PostgreSQL the OPEN window stays locked FOR SHARE until that transaction ends:
   * keep the transaction short, since closing the window waits for it.
   */
  async recordCommitted(tx: SqlExecutor, transfer: CommittedTransfer): Promise<RecordOutcome> {
    checkCommitted(transfer)
    const windowId = await this.#openWindowIn(tx, true)
    // The insert is the duplicate check: almost every call records a new transfer, so no read before it.
    if (await repo.insertRecordedTransfer(tx, transfer, windowId)) return { windowId, status: 'recorded' }
    // Recorded before, or by another transaction meanwhile (the insert waited for it to commit).
    const existing = await repo.findRecordedTransfer(tx, transfer.transferId)
    assert(existing !== undefined, `settlement transfer ${transfer.transferId} conflicted on insert but cannot be read`)
    return sameTransfer(existing, transfer)
  }

  /**
   * Registers a settlement model (Mojaloop's `POST /settlementModels`). Kivuko settles one way — deferred,
   * multilateral, net, on the POSITION account against SETTLEMENT — so only models that describe that way
   * are taken; any other (gross, bilateral, immediate, interchange fees) is refused rather than recorded and
   * silently settled otherwise. A name already taken is a ValidationError, as central-ledger answers.
   */
  async createModel(input: SettlementModelInput): Promise<repo.SettlementModelRecord> {
    checkText(input.name, 'name', MODEL_LENGTH_MAX)
    const unsupported = (
      [
        ['settlementGranularity', input.settlementGranularity, 'NET'],
        ['settlementInterchange', input.settlementInterchange, 'MULTILATERAL'],
        ['settlementDelay', input.settlementDelay, 'DEFERRED'],
        ['ledgerAccountType', input.ledgerAccountType, 'POSITION'],
        ['settlementAccountType', input.settlementAccountType, 'SETTLEMENT'],
      ] as const
    ).filter(([, given, supported]) => given !== supported)
    if (unsupported.length > 0) {
      const what = unsupported.map(([field, given]) => `${field} ${given}`).join(', ')
      throw new ValidationError(`Kivuko settles deferred multilateral net on POSITION against SETTLEMENT only; not ${what}`, { name: input.name })
    }
    if (input.currency !== undefined && findCurrency(input.currency) === undefined) throw new ValidationError(`unknown currency ${input.currency}`, { currency: input.currency })
    const record = {
      name: input.name,
      currency: input.currency ?? null,
      requireLiquidityCheck: input.requireLiquidityCheck,
      autoPositionReset: input.autoPositionReset,
      createdAtMs: this.#clock.nowMs(),
    }
    const inserted = await this.#transaction((tx) => repo.insertSettlementModel(tx, record))
    if (!inserted) throw new ValidationError('Settlement Model already exists', { name: input.name })
    return { ...record, isActive: true }
  }

  /** The registered settlement models, or the one named. */
  async models(name?: string): Promise<repo.SettlementModelRecord[]> {
    const models = await repo.listSettlementModels(this.#store, name)
    if (name !== undefined && models.length === 0) throw new NotFoundError('ID_NOT_FOUND', `settlement model ${name} not found`, { name })
    return models
  }

  async setModelActive(name: string, isActive: boolean): Promise<repo.SettlementModelRecord> {
    const changed = await this.#transaction((tx) => repo.setSettlementModelActive(tx, name, isActive))
    if (changed === 0) throw new NotFoundError('ID_NOT_FOUND', `settlement model ${name} not found`, { name })
    return (await this.models(name))[0] as repo.SettlementModelRecord
  }

  /** The OPEN window, opened first if there is none yet (at the hub's first start, say). */
  async currentWindow(): Promise<SettlementWindow> {
    return this.#transaction(async (tx) => {
      const id = await this.#openWindowIn(tx, false)
      return this.#windowIn(tx, id)
    })
  }

  async getWindow(id: number): Promise<SettlementWindow> {
    return this.#windowIn(this.#store, id)
  }

  /** Windows in id order; every filter given must hold. */
  async listWindows(filter: WindowFilter = {}): Promise<SettlementWindow[]> {
    const records = await repo.listWindows(this.#store, filter)
    return this.#assemble(this.#store, records)
  }

  /** Closes the OPEN window `windowId` and opens the next, in one transaction. */
  async closeWindow(windowId: number, reason: string): Promise<CloseOutcome> {
    checkId(windowId, 'settlement window id')
    checkText(reason, 'reason', REASON_LENGTH_MAX)
    return this.#transaction(async (tx) => {
      const nowMs = this.#clock.nowMs()
      // FOR UPDATE on PostgreSQL: waits until every transfer assigned to the window has committed.
      const window = (await repo.readWindows(tx, [windowId], true)).get(windowId)
      if (window === undefined) throw windowNotFound(windowId)
      const to = nextWindowState(window.state, 'close')
      const moved = await repo.transitionWindows(tx, [windowId], 'close', to, reason, nowMs)
      assert(moved === 1, `settlement window ${windowId} was locked OPEN but did not close`)
      await repo.insertWindowStateChanges(tx, [windowId], window.state, to, reason, nowMs)
      const openedId = await repo.insertOpenWindow(tx, nowMs, `opened on close of window ${windowId}`)
      assert(openedId !== undefined, 'no other window is OPEN once the OPEN one has closed')
      const [closed, opened] = await this.#assemble(tx, [...(await repo.readWindows(tx, [windowId, openedId], false)).values()])
      assert(closed !== undefined && opened !== undefined && closed.id === windowId, 'the closed and the opened window read back')
      return { closed, opened }
    })
  }

  /**
   * Creates a settlement over CLOSED windows: they become PENDING_SETTLEMENT, and the nets per participant
   * and currency are computed and fixed. A window that does not exist is a NotFoundError; one that is not
   * CLOSED (still OPEN, or in another settlement) a ConflictError, and nothing changes.
   */
  async createSettlement(input: CreateSettlementInput): Promise<Settlement> {
    const windowIds = checkWindowIds(input.windowIds)
    checkText(input.reason, 'reason', REASON_LENGTH_MAX)
    const model = input.model ?? DEFAULT_SETTLEMENT_MODEL
    checkText(model, 'settlementModel', MODEL_LENGTH_MAX)
    const settlementId = await this.#transaction(async (tx) => {
      const nowMs = this.#clock.nowMs()
      const windows = await repo.readWindows(tx, windowIds, true)
      for (const id of windowIds) {
        const window = windows.get(id)
        if (window === undefined) throw windowNotFound(id)
        try {
          nextWindowState(window.state, 'include')
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error
          throw new ConflictError(`settlement window ${id} is ${window.state}: only CLOSED windows can be settled`, { windowId: id, state: window.state })
        }
      }
      const id = await repo.insertSettlement(tx, model, input.reason, 'PENDING_SETTLEMENT', nowMs)
      await repo.insertMembers(tx, id, windowIds)
      const moved = await repo.transitionWindows(tx, windowIds, 'include', nextWindowState('CLOSED', 'include'), input.reason, nowMs)
      assert(moved === windowIds.length, 'every locked CLOSED window joins the settlement')
      await repo.insertWindowStateChanges(tx, windowIds, 'CLOSED', 'PENDING_SETTLEMENT', input.reason, nowMs)
      const flows = await repo.flowTotals(tx, windowIds)
      const participants: SettlementParticipant[] = combineNets(flows.sent, flows.received).map((net) => ({
        ...net,
        ledgerTransferId: settlementLedgerTransfer(id, net)?.id ?? null,
      }))
      await repo.insertParticipants(tx, id, participants)
      return id
    })
    return this.getSettlement(settlementId)
  }

  async getSettlement(id: number): Promise<Settlement> {
    checkId(id, 'settlement id')
    const record = await repo.findSettlement(this.#store, id, false)
    if (record === undefined) throw settlementNotFound(id)
    const windowIds = await repo.memberWindowIds(this.#store, id)
    const windows = await this.#assemble(this.#store, [...(await repo.readWindows(this.#store, windowIds, false)).values()])
    const participants = await repo.settlementParticipants(this.#store, id)
    return { ...record, windows, participants }
  }

  /**
   * Settles: moves every non-zero net's position through the ledger, then marks the settlement and its
   * windows SETTLED. Idempotent: settling a SETTLED settlement returns it unchanged, and a settle that
   * failed or died part-way resumes where it stopped. A net receiver's position moves even past its net
   * debit cap (the transfer is exempt from the cap, as in Mojaloop). When the ledger refuses a transfer
   * anyway (a limit the operator put on the hub's settlement account, say), nothing moves, the error says
   * why, and the settlement stays SETTLING until a later settle succeeds.
   */
  async settle(id: number, reason = 'settled'): Promise<Settlement> {
    checkId(id, 'settlement id')
    checkText(reason, 'reason', REASON_LENGTH_MAX)
    const participants = await this.#transaction(async (tx) => {
      const record = await repo.findSettlement(tx, id, true)
      if (record === undefined) throw settlementNotFound(id)
      if (record.state === 'SETTLED') return null
      if (record.state !== 'SETTLING') {
        const to = nextSettlementState(record.state, 'start')
        const moved = await repo.transitionSettlement(tx, id, record.state, 'start', to, reason, this.#clock.nowMs())
        assert(moved, `settlement ${id} was locked ${record.state} but did not start`)
      }
      return repo.settlementParticipants(tx, id)
    })
    if (participants !== null) {
      await this.#postNets(id, participants)
      await this.#transaction(async (tx) => {
        const record = await repo.findSettlement(tx, id, true)
        assert(record !== undefined, `settlement ${id} disappeared`)
        // Another process may have completed it meanwhile, with the same ledger transfers.
        if (record.state === 'SETTLED') return
        const nowMs = this.#clock.nowMs()
        const to = nextSettlementState(record.state, 'complete')
        assert(await repo.transitionSettlement(tx, id, record.state, 'complete', to, reason, nowMs), `settlement ${id} was locked SETTLING but did not complete`)
        const windowIds = await repo.memberWindowIds(tx, id)
        const moved = await repo.transitionWindows(tx, windowIds, 'settle', nextWindowState('PENDING_SETTLEMENT', 'settle'), reason, nowMs)
        assert(moved === windowIds.length, `every window of settlement ${id} was PENDING_SETTLEMENT`)
        await repo.insertWindowStateChanges(tx, windowIds, 'PENDING_SETTLEMENT', 'SETTLED', reason, nowMs)
      })
    }
    return this.getSettlement(id)
  }

  /** Aborts a settlement that has not started settling; its windows return to CLOSED. */
  async abortSettlement(id: number, reason: string): Promise<Settlement> {
    checkId(id, 'settlement id')
    checkText(reason, 'reason', REASON_LENGTH_MAX)
    await this.#transaction(async (tx) => {
      const record = await repo.findSettlement(tx, id, true)
      if (record === undefined) throw settlementNotFound(id)
      const nowMs = this.#clock.nowMs()
      const to = nextSettlementState(record.state, 'abort')
      assert(await repo.transitionSettlement(tx, id, record.state, 'abort', to, reason, nowMs), `settlement ${id} was locked ${record.state} but did not abort`)
      const windowIds = await repo.memberWindowIds(tx, id)
      const moved = await repo.transitionWindows(tx, windowIds, 'release', nextWindowState('PENDING_SETTLEMENT', 'release'), reason, nowMs)
      assert(moved === windowIds.length, `every window of settlement ${id} was PENDING_SETTLEMENT`)
      await repo.insertWindowStateChanges(tx, windowIds, 'PENDING_SETTLEMENT', 'CLOSED', reason, nowMs)
    })
    return this.getSettlement(id)
  }

  /** Sent, received and net per participant and currency over one window's transfers (any state). */
  async windowReport(id: number): Promise<SettlementReport> {
    const window = await this.getWindow(id)
    const flows = await repo.flowTotals(this.#store, [id])
    return { scope: 'window', id, state: window.state, windowIds: [id], rows: combineNets(flows.sent, flows.received) }
  }

  /** The settlement's nets as fixed on creation. */
  async settlementReport(id: number): Promise<SettlementReport> {
    const settlement = await this.getSettlement(id)
    return {
      scope: 'settlement',
      id,
      state: settlement.state,
      windowIds: settlement.windows.map((w) => w.id),
      rows: settlement.participants.map(({ ledgerTransferId: _ledgerTransferId, ...net }) => net),
    }
  }

  /** The id of the OPEN window, opening the first one when there is none; see findOpenWindow on `share`. */
  async #openWindowIn(tx: SqlExecutor, share: boolean): Promise<number> {
    for (let lookup = 1; lookup <= OPEN_WINDOW_LOOKUPS_MAX; lookup += 1) {
      const open = await repo.findOpenWindow(tx, share)
      if (open !== undefined) return open.id
      // None found: either no window exists yet, or a close committed while we waited for its lock (then
      // the insert finds the window it opened, does nothing, and the next lookup sees that window).
      const opened = await repo.insertOpenWindow(tx, this.#clock.nowMs(), 'first window')
      if (opened !== undefined) return opened
    }
    throw new UnavailableError('no OPEN settlement window could be found or opened; windows are closing faster than transfers commit')
  }

  async #windowIn(ex: SqlExecutor, id: number): Promise<SettlementWindow> {
    checkId(id, 'settlement window id')
    const record = (await repo.readWindows(ex, [id], false)).get(id)
    if (record === undefined) throw windowNotFound(id)
    const [window] = await this.#assemble(ex, [record])
    assert(window !== undefined, 'one window assembled per record')
    return window
  }

  async #assemble(ex: SqlExecutor, records: readonly repo.WindowRecord[]): Promise<SettlementWindow[]> {
    const ids = records.map((r) => r.id)
    const contents = await repo.windowContents(ex, ids)
    const covering = await repo.coveringSettlements(ex, ids)
    return records.map((r) => ({ ...r, settlementId: covering.get(r.id) ?? null, content: contents.get(r.id) ?? [] }))
  }

  /** Posts the settlement's position transfers as one linked chain; throws unless every one is created or exists. */
  async #postNets(id: number, participants: readonly SettlementParticipant[]): Promise<void> {
    const transfers: TransferInput[] = []
    for (const participant of participants) {
      const transfer = settlementLedgerTransfer(id, participant)
      assert((transfer?.id ?? null) === participant.ledgerTransferId, `settlement ${id}: the stored ledger transfer id of ${participant.fsp} is the derived one`)
      if (transfer !== null) transfers.push(transfer)
    }
    if (transfers.length === 0) return
    const currencies = [...new Set(transfers.map((t) => t.currency as string))].sort()
    const statuses = await this.#ledger.createAccounts(
      currencies.map((currency) => ({ id: hubAccountId(currency, 'HUB_MULTILATERAL_SETTLEMENT'), currency, code: 'HUB_MULTILATERAL_SETTLEMENT' })),
    )
    statuses.forEach((status, i) => {
      // Whoever opened the hub account first may have set limits on it; any other difference is a bug.
      if (status !== 'created' && status !== 'exists' && status !== 'exists_with_different_limits') {
        throw new HubError('INTERNAL', `hub settlement account for ${currencies[i]} cannot be opened: ${status}`, { currency: currencies[i], status })
      }
    })
    const outcomes = await this.#ledger.createTransfers(transfers.map((t, i) => ({ ...t, linked: i < transfers.length - 1 })))
    if (outcomes.every((o) => o.status === 'created' || o.status === 'exists')) return
    const index = Math.max(
      0,
      outcomes.findIndex((o) => o.status !== 'created' && o.status !== 'exists' && o.status !== 'linked_event_failed'),
    )
    const status = (outcomes[index] as (typeof outcomes)[number]).status
    const failed = transfers[index] as TransferInput
    const participant = participants.find((p) => p.ledgerTransferId === failed.id) as SettlementParticipant
    throw new RejectedError(
      TRANSFER_STATUS_ERRORS[status] ?? 'INTERNAL',
      `settlement ${id}: the ledger refused to settle ${participant.fsp}'s ${participant.currency} position (${status}); no position moved, and settle may be retried`,
      { settlementId: id, fsp: participant.fsp, currency: participant.currency, ledgerTransferId: failed.id, status },
    )
  }

  /** One transaction, run again when it lost a race another writer won (PostgreSQL only). */
  async #transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#store.transaction(work)
      } catch (error) {
        if (!this.#store.isRetryable(error) || attempt >= TRANSACTION_ATTEMPTS_MAX) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt))
      }
    }
  }
}

function checkCommitted(t: CommittedTransfer): void {
  assert(typeof t.transferId === 'string' && t.transferId.length >= 1 && t.transferId.length <= 128, 'a committed transfer has an id of 1 to 128 characters')
  assert(typeof t.payerFsp === 'string' && t.payerFsp.length >= 1, 'a committed transfer names its payer FSP')
  assert(typeof t.payeeFsp === 'string' && t.payeeFsp.length >= 1, 'a committed transfer names its payee FSP')
  assert(findCurrency(t.currency) !== undefined, `a committed transfer's currency is ISO 4217, not ${t.currency}`)
  assert(typeof t.amountMinor === 'bigint' && t.amountMinor > 0n, 'a committed transfer moves a positive bigint amount')
  assert(Number.isSafeInteger(t.committedAtMs) && t.committedAtMs >= 0, 'a committed transfer has a commit time in whole milliseconds')
}

function sameTransfer(recorded: repo.RecordedTransfer, transfer: CommittedTransfer): RecordOutcome {
  // The commit time is left out: a retried commit may stamp a later one, and the first stamp stands.
  const same =
    recorded.payerFsp === transfer.payerFsp &&
    recorded.payeeFsp === transfer.payeeFsp &&
    recorded.currency === transfer.currency &&
    recorded.amountMinor === transfer.amountMinor
  if (!same) {
    throw new ConflictError(
      `transfer ${transfer.transferId} was recorded for settlement with other parties, currency or amount`,
      { transferId: transfer.transferId, windowId: recorded.windowId },
      'MODIFIED_REQUEST',
    )
  }
  return { windowId: recorded.windowId, status: 'exists' }
}

function checkId(id: number, what: string): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new ValidationError(`${what} must be a positive integer`, { id })
}

function checkText(value: string, what: string, lengthMax: number): void {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > lengthMax) {
    throw new ValidationError(`${what} must be text of 1 to ${lengthMax} characters`)
  }
}

function checkWindowIds(ids: readonly number[]): number[] {
  if (!Array.isArray(ids) || ids.length === 0) throw new ValidationError('a settlement covers at least one settlement window')
  if (ids.length > SETTLEMENT_WINDOWS_MAX) throw new ValidationError(`a settlement covers at most ${SETTLEMENT_WINDOWS_MAX} settlement windows`)
  for (const id of ids) checkId(id, 'settlement window id')
  if (new Set(ids).size !== ids.length) throw new ValidationError('each settlement window is named once', { windowIds: [...ids] })
  return [...ids].sort((a, b) => a - b)
}

function windowNotFound(id: number): NotFoundError {
  return new NotFoundError('ID_NOT_FOUND', `settlement window ${id} not found`, { windowId: id })
}

function settlementNotFound(id: number): NotFoundError {
  return new NotFoundError('ID_NOT_FOUND', `settlement ${id} not found`, { settlementId: id })
}
