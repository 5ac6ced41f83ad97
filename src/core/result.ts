// SPDX-License-Identifier: Apache-2.0
/** An expected outcome as a value: success with a value, or a documented status. */
export type Result<T, S extends string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: S }

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value })
export const fail = <S extends string>(status: S): { readonly ok: false; readonly status: S } => ({ ok: false, status })
