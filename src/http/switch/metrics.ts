// SPDX-License-Identifier: Apache-2.0
/**
 * Prometheus metrics of one switch process: FSPIOP requests by route and status with latency histograms,
 * ledger batches, callback deliveries and retries, and each participant's position, reserved amount and
 * NDC per currency (read at scrape time). Served at /metrics on the admin port.
 */
import client from 'prom-client'
import type { OutboxMetrics } from '../../switch/outbox/index.ts'
import type { Switch } from '../../switch/switch.ts'

export interface SwitchMetrics {
  readonly registry: client.Registry
  readonly outbox: OutboxMetrics
  /** The exposition text, with the position gauges freshly read from the ledger. */
  text(): Promise<string>
  request(route: string, method: string, status: number, durationMs: number): void
  ledgerBatch(events: number, durationMs: number): void
}

/** Label sets remembered (routes × methods × statuses; destinations): a scheme stays far below it. */
const REQUEST_SERIES_MAX = 1_000

export function createSwitchMetrics(hub: () => Switch | undefined): SwitchMetrics {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry, prefix: 'kivuko_' })
  const requests = new client.Counter({ name: 'kivuko_fspiop_requests_total', help: 'FSPIOP requests and callbacks received, by route, method and HTTP status', labelNames: ['route', 'method', 'status'], registers: [registry] })
  const latency = new client.Histogram({
    name: 'kivuko_fspiop_request_duration_seconds',
    help: 'Time to accept an FSPIOP request durably (validation, ledger, store), by route and method',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const batches = new client.Histogram({ name: 'kivuko_ledger_batch_events', help: 'Ledger operations per group commit', buckets: [1, 4, 16, 64, 256, 1024, 4096], registers: [registry] })
  const batchLatency = new client.Histogram({ name: 'kivuko_ledger_batch_duration_seconds', help: 'Time of one ledger batch, commit included', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [registry] })
  const delivered = new client.Counter({ name: 'kivuko_callbacks_delivered_total', help: 'Messages delivered to participants', labelNames: ['destination'], registers: [registry] })
  const retried = new client.Counter({ name: 'kivuko_callbacks_retried_total', help: 'Delivery attempts that will be retried', labelNames: ['destination'], registers: [registry] })
  const failed = new client.Counter({ name: 'kivuko_callbacks_failed_total', help: 'Messages given up on: rejected by the destination, or unreachable', labelNames: ['destination', 'reason'], registers: [registry] })
  const attempt = new client.Histogram({ name: 'kivuko_callback_attempt_duration_seconds', help: 'One HTTP delivery attempt', labelNames: ['destination'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers: [registry] })
  const positionGauge = (name: string, help: string) => new client.Gauge({ name, help, labelNames: ['participant', 'currency'], registers: [registry] })
  const position = positionGauge('kivuko_participant_position', 'Net position (sent less received since settlement), major units')
  const reserved = positionGauge('kivuko_participant_reserved', 'Amount reserved by transfers in flight, major units')
  const ndc = positionGauge('kivuko_participant_net_debit_cap', 'Net debit cap, major units')
  const requestSeries = new Map<string, { count: client.Counter.Internal; latency: client.Histogram.Internal<'route' | 'method'> }>()
  // Every callback counts once and times once: their children are kept per destination, like requestSeries.
  const destinations = new Map<string, { delivered: client.Counter.Internal; attempt: client.Histogram.Internal<'destination'> }>()
  const destinationSeries = (destination: string) => {
    let series = destinations.get(destination)
    if (series === undefined) {
      if (destinations.size >= REQUEST_SERIES_MAX) destinations.clear()
      series = { delivered: delivered.labels({ destination }), attempt: attempt.labels({ destination }) }
      destinations.set(destination, series)
    }
    return series
  }
  const collect = async (): Promise<void> => {
    const current = hub()
    if (current === undefined) return
    for (const name of await current.participantNames()) {
      for (const p of await current.positions(name)) {
        position.set({ participant: name, currency: p.currency }, gaugeValue(p.position))
        reserved.set({ participant: name, currency: p.currency }, gaugeValue(p.reserved))
        if (p.netDebitCap !== null) ndc.set({ participant: name, currency: p.currency }, gaugeValue(p.netDebitCap))
      }
    }
  }
  return {
    registry,
    async text() {
      await collect()
      return registry.metrics()
    },
    outbox: {
      delivered: (info) => destinationSeries(info.destination).delivered.inc(),
      retried: (info) => retried.inc({ destination: info.destination }),
      failed: (info, reason) => failed.inc({ destination: info.destination, reason }),
      attemptLatency: (info, ms) => destinationSeries(info.destination).attempt.observe(ms / 1000),
    },
    request(route, method, status, durationMs) {
      // The children per label set are kept: prom-client would otherwise hash the labels on every request.
      const key = `${route} ${method} ${status}`
      let series = requestSeries.get(key)
      if (series === undefined) {
        if (requestSeries.size >= REQUEST_SERIES_MAX) requestSeries.clear()
        series = { count: requests.labels({ route, method, status: String(status) }), latency: latency.labels({ route, method }) }
        requestSeries.set(key, series)
      }
      series.count.inc()
      series.latency.observe(durationMs / 1000)
    },
    ledgerBatch(events, durationMs) {
      batches.observe(events)
      batchLatency.observe(durationMs / 1000)
    },
  }
}

/** Prometheus samples are floats: the decimal text becomes one here, for display only, never for money. */
function gaugeValue(decimalText: string): number {
  return Number(decimalText)
}
