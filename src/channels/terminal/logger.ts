// SPDX-License-Identifier: Apache-2.0
/**
 * The part of pino the terminal gateway uses. Messages are logged only through toLogObject, which masks
 * the PAN and blanks the OTP (field 62) and every other secret field; nothing logs raw bytes.
 */
export interface TerminalLogger {
  debug(object: object, message: string): void
  info(object: object, message: string): void
  warn(object: object, message: string): void
  error(object: object, message: string): void
}

const ignore = (): void => {}

export const silentTerminalLogger: TerminalLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore }
