// SPDX-License-Identifier: Apache-2.0
/**
 * One error hierarchy. A HubError is an expected outcome with a catalogue code; the thin subclasses exist
 * for `instanceof` at the edges. Domain code never throws strings or a bare Error.
 */
import { ERROR_CATALOG, type ErrorCode, type ErrorSpec } from './error-catalog.ts'

export type ErrorDetails = Readonly<Record<string, unknown>>

export class HubError extends Error {
  readonly code: ErrorCode
  readonly details: ErrorDetails
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.details = details
  }
  get spec(): ErrorSpec {
    return ERROR_CATALOG[this.code]
  }
}

export class ValidationError extends HubError {
  constructor(message: string, details: ErrorDetails = {}, code: ErrorCode = 'VALIDATION') {
    super(code, message, details)
  }
}

export class NotFoundError extends HubError {}
export class RejectedError extends HubError {}

export class ConflictError extends HubError {
  constructor(message: string, details: ErrorDetails = {}, code: ErrorCode = 'INVALID_STATE') {
    super(code, message, details)
  }
}

export class UnavailableError extends HubError {
  constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super('SERVICE_UNAVAILABLE', message, details, options)
  }
}
