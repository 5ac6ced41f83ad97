// SPDX-License-Identifier: Apache-2.0
/**
 * Model-based property tests (TigerBeetle's auditor idea): random sequences of ledger operations run against
 * the real BatchingLedger on both adapters and against a tiny reference ledger written here from the
 * documented rules, without apply.ts. Every status must agree with the model, and the stored state must keep
 * the ledger's invariants after every step: stored balances = the model's = the journal recomputed, Σ debits
 * = Σ credits per currency (posted and pending apart), no limit exceeded, each pending transfer resolved at
 * most once, and replays that change nothing.
 *
 * KIVUKO_PROPERTY_RUNS raises the number of runs (default 100 on SQLite, 25 on PostgreSQL).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { ManualClock } from '../../src/core/clock.ts'
import type { Account, CreateTransferStatus, PendingState, SetLimitsStatus, TransferInput } from '../../src/ledger/index.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { STORE_KINDS, type StoreKind, type TestStore } from '../support/stores.ts'

const START_MS = Date.UTC(2026, 0, 1)
const RUNS_OVERRIDE = process.env.KIVUKO_PROPERTY_RUNS === undefined ? undefined : Number.parseInt(process.env.KIVUKO_PROPERTY_RUNS, 10)

function runsFor(kind: StoreKind): number {
  if (RUNS_OVERRIDE !== undefined && Number.isSafeInteger(RUNS_OVERRIDE) && RUNS_OVERRIDE > 0) return RUNS_OVERRIDE
  return kind.name === 'sqlite' ? 100 : 25
}

// ---------------------------------------------------------------------------------------------------------
// The reference model: plain maps and the rules as the documentation states them, nothing shared with apply.ts.
// ---------------------------------------------------------------------------------------------------------

interface ModelAccount {
  id: string
  currency: string
  debitsLimit: bigint | null
  creditsLimit: bigint | null
  dPending: bigint
  dPosted: bigint
  cPending: bigint
  cPosted: bigint
  /** Posted debits exempt from the debits limit. */
  dExempt: bigint
}

interface ModelTransfer {
  readonly id: string
  readonly type: 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending'
  readonly debit: string
  readonly credit: string
  readonly amount: bigint
  readonly currency: string
  readonly pendingId: string | null
  readonly expiresAtMs: number | null
  readonly reference: string | null
  readonly exempt: boolean
  state: PendingState | null
}

type Outcome = CreateTransferStatus

const ID = /^[A-Za-z0-9._:-]{1,64}$/

class ReferenceLedger {
  accounts = new Map<string, ModelAccount>()
  transfers = new Map<string, ModelTransfer>()
  nowMs = START_MS

  clone(): ReferenceLedger {
    const copy = new ReferenceLedger()
    copy.nowMs = this.nowMs
    for (const [id, a] of this.accounts) copy.accounts.set(id, { ...a })
    for (const [id, t] of this.transfers) copy.transfers.set(id, { ...t })
    return copy
  }

  adopt(other: ReferenceLedger): void {
    this.accounts = other.accounts
    this.transfers = other.transfers
  }

  /** One submission: a linked chain succeeds or fails as a whole. */
  submit(inputs: readonly TransferInput[]): Outcome[] {
    const outcomes: Outcome[] = []
    let index = 0
    while (index < inputs.length) {
      let end = index
      while (end < inputs.length - 1 && inputs[end]?.linked === true) end += 1
      const chain = inputs.slice(index, end + 1)
      if (chain.length === 1) {
        outcomes.push(this.#apply(chain[0] as TransferInput))
      } else {
        const trial = this.clone()
        const chainOutcomes: Outcome[] = []
        let failed = -1
        for (const [i, input] of chain.entries()) {
          const outcome = trial.#apply(input)
          chainOutcomes.push(outcome)
          if (outcome !== 'created' && outcome !== 'exists') {
            failed = i
            break
          }
        }
        if (failed === -1) {
          this.adopt(trial)
          outcomes.push(...chainOutcomes)
        } else {
          outcomes.push(...chain.map((_, i) => (i === failed ? (chainOutcomes[i] as Outcome) : 'linked_event_failed')))
        }
      }
      index = end + 1
    }
    return outcomes
  }

  #apply(t: TransferInput): Outcome {
    const status = this.#check(t)
    if (status === 'created') this.#book(t)
    return status
  }

  #check(t: TransferInput): Outcome {
    const resolving = t.type === 'post_pending' || t.type === 'void_pending'
    if (!ID.test(t.id)) return 'id_invalid'
    if (t.exemptFromDebitsLimit === true && t.type !== 'posted') return 'exemption_reserved_for_posted_transfer'
    if (t.debitAccountId !== undefined && t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different'
    if (!resolving && (t.amountMinor === undefined || t.amountMinor <= 0n)) return 'amount_must_be_positive'
    if (resolving && t.amountMinor !== undefined && t.amountMinor <= 0n) return 'amount_must_be_positive'
    if (!resolving) {
      const debit = this.accounts.get(t.debitAccountId as string)
      const credit = this.accounts.get(t.creditAccountId as string)
      if (debit === undefined) return 'debit_account_not_found'
      if (credit === undefined) return 'credit_account_not_found'
      if (debit.currency !== t.currency || credit.currency !== t.currency) return 'currency_must_match_accounts'
    }
    const stored = this.transfers.get(t.id)
    if (stored !== undefined) {
      if (stored.type !== t.type) return 'exists_with_different_type'
      if (t.debitAccountId !== undefined && t.debitAccountId !== stored.debit) return 'exists_with_different_debit_account_id'
      if (t.creditAccountId !== undefined && t.creditAccountId !== stored.credit) return 'exists_with_different_credit_account_id'
      if (t.amountMinor !== undefined && t.amountMinor !== stored.amount) return 'exists_with_different_amount'
      if (t.currency !== undefined && t.currency !== stored.currency) return 'exists_with_different_currency'
      if ((t.pendingId ?? null) !== stored.pendingId) return 'exists_with_different_pending_id'
      if ((t.expiresAtMs ?? null) !== stored.expiresAtMs) return 'exists_with_different_expiry'
      if ((t.reference ?? null) !== stored.reference) return 'exists_with_different_reference'
      if ((t.exemptFromDebitsLimit === true) !== stored.exempt) return 'exists_with_different_exemption'
      return 'exists'
    }
    if (resolving) {
      const p = this.transfers.get(t.pendingId as string)
      if (p === undefined) return 'pending_transfer_not_found'
      if (p.type !== 'pending') return 'pending_transfer_not_pending'
      if (t.type === 'post_pending' && t.amountMinor !== undefined && t.amountMinor > p.amount) return 'exceeds_pending_transfer_amount'
      if (t.type === 'void_pending' && t.amountMinor !== undefined && t.amountMinor !== p.amount) return 'pending_transfer_has_different_amount'
      if (p.state === 'posted') return 'pending_transfer_already_posted'
      if (p.state === 'voided') return 'pending_transfer_already_voided'
      if (p.state === 'expired') return 'pending_transfer_expired'
      if (p.expiresAtMs !== null && p.expiresAtMs <= this.nowMs) return 'pending_transfer_expired'
      return 'created'
    }
    if (t.type === 'pending' && t.expiresAtMs !== undefined && t.expiresAtMs <= this.nowMs) return 'expiry_must_be_in_future'
    const amount = t.amountMinor as bigint
    const debit = this.accounts.get(t.debitAccountId as string) as ModelAccount
    const credit = this.accounts.get(t.creditAccountId as string) as ModelAccount
    const exempt = t.exemptFromDebitsLimit === true
    if (!exempt && debit.debitsLimit !== null && debit.dPending + debit.dPosted + amount > debit.cPosted + debit.debitsLimit) return 'exceeds_credits'
    if (credit.creditsLimit !== null && credit.cPending + credit.cPosted + amount > credit.dPosted + credit.creditsLimit) return 'exceeds_debits'
    return 'created'
  }

  #book(t: TransferInput): void {
    if (t.type === 'posted' || t.type === 'pending') {
      const amount = t.amountMinor as bigint
      const debit = this.accounts.get(t.debitAccountId as string) as ModelAccount
      const credit = this.accounts.get(t.creditAccountId as string) as ModelAccount
      if (t.type === 'posted') {
        debit.dPosted += amount
        credit.cPosted += amount
        if (t.exemptFromDebitsLimit === true) debit.dExempt += amount
      } else {
        debit.dPending += amount
        credit.cPending += amount
      }
      this.transfers.set(t.id, {
        id: t.id,
        type: t.type,
        debit: debit.id,
        credit: credit.id,
        amount,
        currency: t.currency as string,
        pendingId: null,
        expiresAtMs: t.expiresAtMs ?? null,
        reference: t.reference ?? null,
        exempt: t.exemptFromDebitsLimit === true,
        state: t.type === 'pending' ? 'pending' : null,
      })
      return
    }
    const p = this.transfers.get(t.pendingId as string) as ModelTransfer
    const amount = t.type === 'post_pending' ? (t.amountMinor ?? p.amount) : p.amount
    this.#resolve(p, t.type === 'post_pending' ? 'posted' : 'voided', amount)
    this.transfers.set(t.id, {
      id: t.id,
      type: t.type,
      debit: p.debit,
      credit: p.credit,
      amount,
      currency: p.currency,
      pendingId: p.id,
      expiresAtMs: null,
      reference: t.reference ?? null,
      exempt: false,
      state: null,
    })
  }

  #resolve(p: ModelTransfer, to: 'posted' | 'voided' | 'expired', postedAmount: bigint): void {
    assert.equal(p.state, 'pending', `model: ${p.id} is resolved once`)
    const debit = this.accounts.get(p.debit) as ModelAccount
    const credit = this.accounts.get(p.credit) as ModelAccount
    debit.dPending -= p.amount
    credit.cPending -= p.amount
    if (to === 'posted') {
      debit.dPosted += postedAmount
      credit.cPosted += postedAmount
    }
    p.state = to
  }

  /** What the sweeper must expire now: every open reservation whose expiry has come. */
  sweep(): string[] {
    const due = [...this.transfers.values()].filter((t) => t.type === 'pending' && t.state === 'pending' && t.expiresAtMs !== null && t.expiresAtMs <= this.nowMs)
    for (const p of due) {
      this.#resolve(p, 'expired', 0n)
      const id = `${p.id}~expired`
      this.transfers.set(id, { ...p, id, type: 'expire_pending', pendingId: p.id, expiresAtMs: null, reference: null, exempt: false, state: null })
    }
    return due.map((p) => p.id).sort()
  }

  setLimits(accountId: string, debitsLimit: bigint | null, creditsLimit: bigint | null): SetLimitsStatus {
    const a = this.accounts.get(accountId)
    if (a === undefined) return 'account_not_found'
    if (debitsLimit !== null && a.dPending + a.dPosted > a.cPosted + debitsLimit) return 'exceeds_credits'
    if (creditsLimit !== null && a.cPending + a.cPosted > a.dPosted + creditsLimit) return 'exceeds_debits'
    a.debitsLimit = debitsLimit
    a.creditsLimit = creditsLimit
    return 'updated'
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generated scenarios: abstract steps, turned into concrete inputs at run time from what was issued so far.
// ---------------------------------------------------------------------------------------------------------

interface AccountSpec {
  readonly currency: 'USD' | 'EUR'
  readonly debitsLimit: bigint | null
  readonly creditsLimit: bigint | null
}

interface MoveSpec {
  readonly op: 'move'
  readonly type: 'posted' | 'pending'
  /** Index into the run's accounts, modulo their number. */
  readonly debit: number
  /** Which other account of the debit's currency is credited, modulo their number. */
  readonly credit: number
  /** Invalid on purpose now and then: an unknown account, the same account twice, or a foreign-currency one. */
  readonly accounts: 'valid' | 'unknown_debit' | 'unknown_credit' | 'same' | 'other_currency'
  readonly amountMinor: bigint
  readonly wrongCurrency: boolean
  /** Exempt from the debit account's debits limit (settlement); a pending one is refused for it. */
  readonly exempt: boolean
  /** Pending only: relative to now; 0 or less is an expiry that is not in the future. */
  readonly expiresInMs: number | null
  readonly withReference: boolean
  readonly badId: boolean
}

interface ResolveSpec {
  readonly op: 'resolve'
  readonly type: 'post_pending' | 'void_pending'
  /** open: a reservation the model holds open; latest: the latest move; any: any earlier move; unknown. */
  readonly target: 'open' | 'latest' | 'any' | 'unknown'
  readonly pick: number
  readonly amount: 'none' | 'full' | 'part' | 'over' | 'zero'
}

interface ReplaySpec {
  readonly op: 'replay'
  readonly target: number
  /** Same id, amount changed: a modified request rather than a replay. */
  readonly modify: boolean
}

type Single = MoveSpec | ResolveSpec | ReplaySpec
type Submission = { readonly kind: 'one'; readonly single: Single } | { readonly kind: 'linked'; readonly first: MoveSpec | ResolveSpec; readonly second: MoveSpec | ResolveSpec }
type Step =
  | Submission
  | { readonly kind: 'concurrent'; readonly submissions: readonly Submission[] }
  | { readonly kind: 'tick'; readonly ms: number; readonly sweep: boolean }
  | { readonly kind: 'limits'; readonly account: number; readonly debitsLimit: bigint | null }

interface Scenario {
  readonly accounts: readonly AccountSpec[]
  readonly steps: readonly Step[]
}

const limitArb = (nullWeight: number): fc.Arbitrary<bigint | null> =>
  fc.oneof({ weight: nullWeight, arbitrary: fc.constant(null) }, { weight: 10 - nullWeight, arbitrary: fc.bigInt({ min: 0n, max: 300n }) })

const accountArb: fc.Arbitrary<AccountSpec> = fc.record({
  currency: fc.constantFrom<'USD' | 'EUR'>('USD', 'USD', 'EUR'),
  debitsLimit: limitArb(5),
  creditsLimit: limitArb(8),
})

const ACCOUNTS_MAX = 6
const indexArb = fc.nat({ max: 20 })

/** Mostly valid; each kind of invalid input now and then, so that every run mixes both. */
const rarely = <T>(usual: T, ...unusual: T[]): fc.Arbitrary<T> =>
  fc.oneof({ weight: 12 * unusual.length, arbitrary: fc.constant(usual) }, ...unusual.map((u) => ({ weight: 1, arbitrary: fc.constant(u) })))

const moveArb: fc.Arbitrary<MoveSpec> = fc.record({
  op: fc.constant('move' as const),
  type: fc.constantFrom<'posted' | 'pending'>('posted', 'pending'),
  debit: indexArb,
  credit: indexArb,
  accounts: rarely<MoveSpec['accounts']>('valid', 'unknown_debit', 'unknown_credit', 'same', 'other_currency'),
  amountMinor: fc.oneof({ weight: 1, arbitrary: fc.bigInt({ min: -2n, max: 0n }) }, { weight: 15, arbitrary: fc.bigInt({ min: 1n, max: 300n }) }),
  wrongCurrency: rarely(false, true),
  exempt: rarely(false, true),
  expiresInMs: fc.oneof(
    { weight: 4, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 100 }) },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 0 }) },
  ),
  withReference: fc.boolean(),
  badId: rarely(false, true),
})

const resolveArb: fc.Arbitrary<ResolveSpec> = fc.record({
  op: fc.constant('resolve' as const),
  type: fc.constantFrom<'post_pending' | 'void_pending'>('post_pending', 'post_pending', 'void_pending'),
  target: fc.constantFrom<ResolveSpec['target']>('open', 'open', 'open', 'latest', 'latest', 'any', 'any', 'unknown'),
  pick: fc.nat({ max: 60 }),
  amount: fc.constantFrom<ResolveSpec['amount']>('none', 'none', 'none', 'full', 'full', 'part', 'part', 'part', 'over', 'zero'),
})

const replayArb: fc.Arbitrary<ReplaySpec> = fc.record({
  op: fc.constant('replay' as const),
  target: fc.nat({ max: 60 }),
  modify: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
})

const singleArb: fc.Arbitrary<Single> = fc.oneof({ weight: 5, arbitrary: moveArb }, { weight: 4, arbitrary: resolveArb }, { weight: 2, arbitrary: replayArb })
const chainMemberArb: fc.Arbitrary<MoveSpec | ResolveSpec> = fc.oneof({ weight: 3, arbitrary: moveArb }, { weight: 2, arbitrary: resolveArb })

const submissionArb: fc.Arbitrary<Submission> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('one' as const), single: singleArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('linked' as const), first: chainMemberArb, second: chainMemberArb }) },
)

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: submissionArb },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('concurrent' as const), submissions: fc.array(submissionArb, { minLength: 2, maxLength: 8, size: 'max' }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 120 }), sweep: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('limits' as const), account: indexArb, debitsLimit: limitArb(3) }) },
)

/**
 * An unlimited settlement account in each currency, so that money can flow in; then one random account in
 * each currency, so that each has a counterparty; then random ones.
 */
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  accounts: fc
    .array(accountArb, { minLength: 2, maxLength: ACCOUNTS_MAX - 2 })
    .map(([eur, usd, ...rest]): AccountSpec[] => [
      { currency: 'USD', debitsLimit: null, creditsLimit: null },
      { currency: 'EUR', debitsLimit: null, creditsLimit: null },
      { ...(eur as AccountSpec), currency: 'EUR' },
      { ...(usd as AccountSpec), currency: 'USD' },
      ...rest,
    ]),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'max' }),
})

// ---------------------------------------------------------------------------------------------------------
// The harness: one run of a scenario against the real ledger and the model, side by side.
// ---------------------------------------------------------------------------------------------------------

interface JournalRow {
  [column: string]: string | bigint | number | null
  id: string
  type: string
  debit_account_id: string
  credit_account_id: string
  amount_minor: bigint
  currency: string
  pending_id: string | null
}

/** Strips `linked`: it is not part of a transfer's content, and a replay goes alone. */
function unlinked(input: TransferInput): TransferInput {
  const { linked: _linked, ...rest } = input
  return rest
}

class Run {
  readonly model = new ReferenceLedger()
  readonly clock = new ManualClock(START_MS)
  readonly testStore: TestStore
  readonly prefix: string
  readonly scenario: Scenario
  readonly ledger: BatchingLedger
  readonly accountIds: string[]
  /** Every transfer input submitted, for replays; and the ids of the moves, for resolutions. */
  readonly history: TransferInput[] = []
  readonly moves: TransferInput[] = []
  readonly created: TransferInput[] = []
  #counter = 0

  constructor(testStore: TestStore, prefix: string, scenario: Scenario) {
    this.testStore = testStore
    this.prefix = prefix
    this.scenario = scenario
    this.ledger = new BatchingLedger(testStore.store, { clock: this.clock })
    this.accountIds = scenario.accounts.map((_, i) => `${prefix}a${i}`)
  }

  /** The run's account at `index`; past the end, an account that does not exist. */
  accountId(index: number): string {
    return this.accountIds[index] ?? `${this.prefix}nobody`
  }

  async openAccounts(): Promise<void> {
    const inputs = this.scenario.accounts.map((spec, i) => ({
      id: this.accountId(i),
      currency: spec.currency,
      code: 'WALLET',
      debitsLimitMinor: spec.debitsLimit,
      creditsLimitMinor: spec.creditsLimit,
    }))
    assert.deepEqual(
      await this.ledger.createAccounts(inputs),
      inputs.map(() => 'created'),
    )
    assert.deepEqual(
      await this.ledger.createAccounts(inputs),
      inputs.map(() => 'exists'),
      'creating the same accounts again changes nothing',
    )
    for (const input of inputs) {
      this.model.accounts.set(input.id, {
        id: input.id,
        currency: input.currency,
        debitsLimit: input.debitsLimitMinor,
        creditsLimit: input.creditsLimitMinor,
        dPending: 0n,
        dPosted: 0n,
        cPending: 0n,
        cPosted: 0n,
        dExempt: 0n,
      })
    }
  }

  #nextId(kind: string): string {
    this.#counter += 1
    return `${this.prefix}${kind}${this.#counter}`
  }

  #build(single: Single): TransferInput | undefined {
    switch (single.op) {
      case 'move': {
        const debitAccountId = single.accounts === 'unknown_debit' ? `${this.prefix}nobody` : this.accountId(single.debit % this.accountIds.length)
        const debitCurrency = this.model.accounts.get(debitAccountId)?.currency ?? 'USD'
        const others = this.accountIds.filter((id) => id !== debitAccountId)
        const sameCurrency = others.filter((id) => this.model.accounts.get(id)?.currency === debitCurrency)
        const otherCurrency = others.filter((id) => this.model.accounts.get(id)?.currency !== debitCurrency)
        const candidates = single.accounts === 'other_currency' && otherCurrency.length > 0 ? otherCurrency : sameCurrency.length > 0 ? sameCurrency : others
        const creditAccountId =
          single.accounts === 'unknown_credit'
            ? `${this.prefix}nobody`
            : single.accounts === 'same'
              ? debitAccountId
              : (candidates[single.credit % candidates.length] as string)
        const currency = single.wrongCurrency ? (debitCurrency === 'USD' ? 'EUR' : 'USD') : debitCurrency
        const input: TransferInput = {
          id: single.badId ? 'bad id' : this.#nextId('m'),
          type: single.type,
          debitAccountId,
          creditAccountId,
          amountMinor: single.amountMinor,
          currency,
          ...(single.type === 'pending' && single.expiresInMs !== null ? { expiresAtMs: this.clock.nowMs() + single.expiresInMs } : {}),
          ...(single.withReference ? { reference: `ref ${this.#counter}` } : {}),
          ...(single.exempt ? { exemptFromDebitsLimit: true } : {}),
        }
        if (!single.badId) this.moves.push(input)
        return input
      }
      case 'resolve': {
        const open = this.moves.filter((m) => this.model.transfers.get(m.id)?.state === 'pending')
        const existing = this.moves.filter((m) => this.model.transfers.has(m.id))
        const from = single.target === 'unknown' ? [] : single.target === 'any' ? this.moves : open.length > 0 ? open : existing
        const target = from.length === 0 ? undefined : single.target === 'latest' ? from[from.length - 1] : from[single.pick % from.length]
        const pendingAmount = target?.amountMinor !== undefined && target.amountMinor > 0n ? target.amountMinor : 1n
        const amountMinor = {
          none: undefined,
          full: pendingAmount,
          part: pendingAmount > 1n ? pendingAmount / 2n : 1n,
          over: pendingAmount + 1n,
          zero: 0n,
        }[single.amount]
        return {
          id: this.#nextId('r'),
          type: single.type,
          pendingId: target?.id ?? `${this.prefix}nobody`,
          ...(amountMinor === undefined ? {} : { amountMinor }),
        }
      }
      case 'replay': {
        if (this.history.length === 0) return undefined
        const earlier = this.history[single.target % this.history.length] as TransferInput
        if (!single.modify) return earlier
        return { ...earlier, amountMinor: (earlier.amountMinor ?? 0n) + 1n }
      }
    }
  }

  /** Concrete inputs for one submission, and the model's answer for them (the model moves on at once). */
  #prepare(submission: Submission): { inputs: TransferInput[]; expected: Outcome[] } | undefined {
    let inputs: TransferInput[]
    if (submission.kind === 'one') {
      const input = this.#build(submission.single)
      if (input === undefined) return undefined
      inputs = [input]
    } else {
      const first = this.#build(submission.first) as TransferInput
      const second = this.#build(submission.second) as TransferInput
      inputs = [{ ...first, linked: true }, second]
    }
    const expected = this.model.submit(inputs)
    for (const [i, input] of inputs.entries()) {
      this.history.push(unlinked(input))
      if (expected[i] === 'created') this.created.push(unlinked(input))
    }
    return { inputs, expected }
  }

  async step(step: Step, index: number): Promise<void> {
    const where = `step ${index} (${step.kind})`
    switch (step.kind) {
      case 'one':
      case 'linked': {
        const prepared = this.#prepare(step)
        if (prepared === undefined) return
        const outcomes = await this.ledger.createTransfers(prepared.inputs)
        assert.deepEqual(
          outcomes.map((o) => o.status),
          prepared.expected,
          `${where}: ${describeInputs(prepared.inputs)}`,
        )
        return
      }
      case 'concurrent': {
        // Prepared in order, submitted together: group commit must answer as if one after the other.
        const prepared = step.submissions.flatMap((s) => this.#prepare(s) ?? [])
        const outcomes = await Promise.all(prepared.map((p) => this.ledger.createTransfers(p.inputs)))
        outcomes.forEach((o, i) => {
          const p = prepared[i] as { inputs: TransferInput[]; expected: Outcome[] }
          assert.deepEqual(
            o.map((x) => x.status),
            p.expected,
            `${where}, submission ${i}: ${describeInputs(p.inputs)}`,
          )
        })
        return
      }
      case 'tick': {
        this.clock.advance(step.ms)
        this.model.nowMs = this.clock.nowMs()
        if (step.sweep) await this.sweep(where)
        return
      }
      case 'limits': {
        // One chance in (accounts + 1) of an account that does not exist.
        const accountId = this.accountId(step.account % (this.accountIds.length + 1))
        const creditsLimit = this.model.accounts.get(accountId)?.creditsLimit ?? null
        const expected = this.model.setLimits(accountId, step.debitsLimit, creditsLimit)
        const actual = await this.ledger.setLimits({ accountId, debitsLimitMinor: step.debitsLimit, creditsLimitMinor: creditsLimit })
        assert.equal(actual, expected, `${where}: setLimits ${accountId} ${String(step.debitsLimit)}`)
        return
      }
    }
  }

  async sweep(where: string): Promise<void> {
    const expected = this.model.sweep()
    const outcomes = (await this.ledger.expireDue()).filter((o) => o.pendingId.startsWith(this.prefix))
    assert.ok(
      outcomes.every((o) => o.status === 'expired'),
      `${where}: sweep statuses ${outcomes.map((o) => o.status).join(',')}`,
    )
    assert.deepEqual(outcomes.map((o) => o.pendingId).sort(), expected, `${where}: the sweep expires exactly what is due`)
  }

  /** The invariants that must hold between any two steps. */
  async checkAccounts(where: string): Promise<Account[]> {
    const stored = await this.ledger.lookupAccounts(this.accountIds)
    assert.equal(stored.length, this.accountIds.length)
    for (const a of stored) {
      const m = this.model.accounts.get(a.id) as ModelAccount
      assert.deepEqual(
        [a.debitsPendingMinor, a.debitsPostedMinor, a.creditsPendingMinor, a.creditsPostedMinor, a.debitsLimitMinor, a.creditsLimitMinor, a.debitsExemptMinor ?? 0n],
        [m.dPending, m.dPosted, m.cPending, m.cPosted, m.debitsLimit, m.creditsLimit, m.dExempt],
        `${where}: stored account ${a.id} equals the model's`,
      )
      if (a.debitsLimitMinor !== null) {
        // Only exempt debits (settlement) may take an account past its debits limit, and by no more than they carried.
        const exempt = a.debitsExemptMinor ?? 0n
        assert.ok(a.debitsPendingMinor + a.debitsPostedMinor <= a.creditsPostedMinor + a.debitsLimitMinor + exempt, `${where}: ${a.id} exceeds its debits limit`)
      }
      if (a.creditsLimitMinor !== null) {
        assert.ok(a.creditsPendingMinor + a.creditsPostedMinor <= a.debitsPostedMinor + a.creditsLimitMinor, `${where}: ${a.id} exceeds its credits limit`)
      }
    }
    for (const currency of new Set(stored.map((a) => a.currency))) {
      const inCurrency = stored.filter((a) => a.currency === currency)
      const sum = (pick: (a: Account) => bigint): bigint => inCurrency.reduce((total, a) => total + pick(a), 0n)
      assert.equal(
        sum((a) => a.debitsPostedMinor),
        sum((a) => a.creditsPostedMinor),
        `${where}: posted debits = posted credits in ${currency}`,
      )
      assert.equal(
        sum((a) => a.debitsPendingMinor),
        sum((a) => a.creditsPendingMinor),
        `${where}: pending debits = pending credits in ${currency}`,
      )
    }
    return stored
  }

  /** The journal, recomputed from scratch, must give the stored balances; and no pending is resolved twice. */
  async checkJournal(stored: readonly Account[]): Promise<void> {
    const rows = await this.testStore.store.query<JournalRow>(
      'SELECT id, type, debit_account_id, credit_account_id, amount_minor, currency, pending_id FROM ledger_transfer WHERE id LIKE ?',
      [`${this.prefix}%`],
    )
    assert.equal(rows.length, this.model.transfers.size, 'one journal row per transfer the model holds')
    const byId = new Map(rows.map((r) => [r.id, r]))
    const recomputed = new Map(this.accountIds.map((id) => [id, { dPending: 0n, dPosted: 0n, cPending: 0n, cPosted: 0n }]))
    const resolutions = new Map<string, number>()
    for (const r of rows) {
      const debit = recomputed.get(r.debit_account_id)
      const credit = recomputed.get(r.credit_account_id)
      assert.ok(debit !== undefined && credit !== undefined, `journal row ${r.id} names the run's accounts`)
      if (r.type === 'posted') {
        debit.dPosted += r.amount_minor
        credit.cPosted += r.amount_minor
      } else if (r.type === 'pending') {
        debit.dPending += r.amount_minor
        credit.cPending += r.amount_minor
      } else {
        const p = byId.get(r.pending_id as string)
        assert.ok(p !== undefined && p.type === 'pending', `${r.id} resolves a pending transfer`)
        resolutions.set(p.id, (resolutions.get(p.id) ?? 0) + 1)
        debit.dPending -= p.amount_minor
        credit.cPending -= p.amount_minor
        if (r.type === 'post_pending') {
          assert.ok(r.amount_minor <= p.amount_minor, `${r.id} posts at most the reservation`)
          debit.dPosted += r.amount_minor
          credit.cPosted += r.amount_minor
        } else {
          assert.equal(r.amount_minor, p.amount_minor, `${r.id} releases the whole reservation`)
        }
      }
    }
    for (const [pendingId, count] of resolutions) assert.equal(count, 1, `${pendingId} is resolved at most once`)
    for (const a of stored) {
      const r = recomputed.get(a.id)
      assert.deepEqual(
        [r?.dPending, r?.dPosted, r?.cPending, r?.cPosted],
        [a.debitsPendingMinor, a.debitsPostedMinor, a.creditsPendingMinor, a.creditsPostedMinor],
        `stored balances of ${a.id} = the journal recomputed`,
      )
    }
    const modelIds = [...this.model.transfers.keys()]
    const found = await this.ledger.lookupTransfers(modelIds)
    assert.equal(found.length, modelIds.length)
    for (const t of found) {
      const m = this.model.transfers.get(t.id) as ModelTransfer
      assert.deepEqual(
        [t.type, t.debitAccountId, t.creditAccountId, t.amountMinor, t.currency, t.pendingId, t.expiresAtMs, t.reference, t.pendingState],
        [m.type, m.debit, m.credit, m.amount, m.currency, m.pendingId, m.expiresAtMs, m.reference, m.state],
        `stored transfer ${t.id} equals the model's`,
      )
    }
  }

  /** Every created transfer, submitted again all at once: each answers exists, and nothing moves. */
  async checkReplays(before: readonly Account[]): Promise<void> {
    const [{ n: journalBefore } = { n: -1n }] = await this.testStore.store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM ledger_transfer WHERE id LIKE ?', [
      `${this.prefix}%`,
    ])
    const outcomes = await Promise.all(this.created.map((input) => this.ledger.createTransfer(input)))
    assert.deepEqual(
      outcomes.map((o) => o.status),
      this.created.map(() => 'exists'),
      'replaying every created transfer answers exists',
    )
    assert.deepEqual(await this.ledger.lookupAccounts(this.accountIds), before, 'replays change no balance')
    const [{ n: journalAfter } = { n: -2n }] = await this.testStore.store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM ledger_transfer WHERE id LIKE ?', [
      `${this.prefix}%`,
    ])
    assert.equal(journalAfter, journalBefore, 'replays write no journal row')
  }
}

function describeInputs(inputs: readonly TransferInput[]): string {
  return inputs
    .map((t) =>
      [t.type, t.id, t.debitAccountId, t.creditAccountId, t.amountMinor, t.currency, t.pendingId, t.expiresAtMs, t.linked === true ? 'linked' : '']
        .filter((x) => x !== undefined && x !== '')
        .join(' '),
    )
    .join(' | ')
}

async function runScenario(testStore: TestStore, prefix: string, scenario: Scenario): Promise<void> {
  const run = new Run(testStore, prefix, scenario)
  try {
    await run.openAccounts()
    for (const [index, step] of scenario.steps.entries()) {
      await run.step(step, index)
      await run.checkAccounts(`after step ${index} (${step.kind})`)
    }
    // Far past every expiry: the sweeper must expire exactly what the model says is left open.
    run.clock.advance(10_000_000)
    run.model.nowMs = run.clock.nowMs()
    await run.sweep('final sweep')
    const stored = await run.checkAccounts('after the final sweep')
    await run.checkJournal(stored)
    await run.checkReplays(stored)
  } finally {
    await run.ledger.close()
  }
}

// SQLite runs twice: in memory (every batch on the calling thread) and on a file, where the ledger's writer
// thread validates batches from memory, pipelined, and leaves replays of unread ids to the unique index.
const VARIANTS = STORE_KINDS.flatMap((kind) =>
  kind.name === 'sqlite'
    ? [
        { kind, file: false, label: 'sqlite', runs: runsFor(kind) },
        { kind, file: true, label: 'sqlite file (writer thread)', runs: Math.max(1, Math.ceil(runsFor(kind) / 3)) },
      ]
    : [{ kind, file: false, label: kind.name, runs: runsFor(kind) }],
)

for (const { kind, file, label, runs: runsWanted } of VARIANTS) {
  describe(`ledger properties on ${label}`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let runs = 0

    before(async () => {
      // One store for the whole property; each run lives under its own id prefix. Durability is the contract
      // and crash suites' business; this suite is about the rules, on each path batches can take.
      testStore = await kind.open({ file })
    })

    after(async () => {
      await testStore.close()
    })

    it('agrees with the reference model and keeps every invariant under random operation sequences', async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          runs += 1
          await runScenario(testStore, `p${runs}.`, scenario)
        }),
        { numRuns: runsWanted },
      )
      assert.ok(runs >= runsWanted, `${runs} runs`)
    })
  })
}
