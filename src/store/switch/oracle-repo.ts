// SPDX-License-Identifier: Apache-2.0
/** The registry of external oracles (migration 013) in the portable SQL subset. */
import type { OracleIdType, OracleRecord } from '../../switch/oracle/oracle.ts'
import type { Row, SqlExecutor } from '../ports.ts'

interface OracleRow extends Row {
  oracle_id: bigint
  party_id_type: string
  endpoint_type: string
  endpoint_value: string
  currency: string | null
  is_default: bigint
  created_at_ms: bigint
}

const COLUMNS = 'oracle_id, party_id_type, endpoint_type, endpoint_value, currency, is_default, created_at_ms'

function toOracle(row: OracleRow): OracleRecord {
  return {
    oracleId: Number(row.oracle_id),
    oracleIdType: row.party_id_type as OracleIdType,
    endpointType: 'URL',
    endpoint: row.endpoint_value,
    currency: row.currency,
    isDefault: row.is_default === 1n,
    createdAtMs: Number(row.created_at_ms),
  }
}

export type OracleFields = Pick<OracleRecord, 'oracleIdType' | 'endpointType' | 'endpoint' | 'currency' | 'isDefault'>

export async function listOracles(tx: SqlExecutor, filter: { type?: string | undefined; currency?: string | undefined } = {}): Promise<OracleRecord[]> {
  const where: string[] = []
  const params: string[] = []
  if (filter.type !== undefined) {
    where.push('party_id_type = ?')
    params.push(filter.type)
  }
  if (filter.currency !== undefined) {
    where.push('currency = ?')
    params.push(filter.currency)
  }
  const rows = await tx.query<OracleRow>(`SELECT ${COLUMNS} FROM oracle_endpoint ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY oracle_id`, params)
  return rows.map(toOracle)
}

export async function findOracle(tx: SqlExecutor, oracleId: number): Promise<OracleRecord | undefined> {
  const [row] = await tx.query<OracleRow>(`SELECT ${COLUMNS} FROM oracle_endpoint WHERE oracle_id = ?`, [BigInt(oracleId)])
  return row === undefined ? undefined : toOracle(row)
}

/** The oracle registered for the same party id type, endpoint type and currency (none counts as one value), if any. */
export async function findMatchingOracle(tx: SqlExecutor, fields: Pick<OracleFields, 'oracleIdType' | 'endpointType' | 'currency'>): Promise<OracleRecord | undefined> {
  const [row] = await tx.query<OracleRow>(
    `SELECT ${COLUMNS} FROM oracle_endpoint WHERE party_id_type = ? AND endpoint_type = ? AND COALESCE(currency, '') = ?`,
    [fields.oracleIdType, fields.endpointType, fields.currency ?? ''],
  )
  return row === undefined ? undefined : toOracle(row)
}

export async function insertOracle(tx: SqlExecutor, fields: OracleFields, nowMs: number): Promise<OracleRecord> {
  const [row] = await tx.query<OracleRow>(
    `INSERT INTO oracle_endpoint (party_id_type, endpoint_type, endpoint_value, currency, is_default, created_at_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    [fields.oracleIdType, fields.endpointType, fields.endpoint, fields.currency, fields.isDefault ? 1n : 0n, BigInt(nowMs)],
  )
  return toOracle(row as OracleRow)
}

export async function updateOracle(tx: SqlExecutor, oracleId: number, fields: OracleFields): Promise<boolean> {
  const changed = await tx.run('UPDATE oracle_endpoint SET party_id_type = ?, endpoint_type = ?, endpoint_value = ?, currency = ?, is_default = ? WHERE oracle_id = ?', [
    fields.oracleIdType,
    fields.endpointType,
    fields.endpoint,
    fields.currency,
    fields.isDefault ? 1n : 0n,
    BigInt(oracleId),
  ])
  return changed === 1
}

export async function deleteOracle(tx: SqlExecutor, oracleId: number): Promise<boolean> {
  return (await tx.run('DELETE FROM oracle_endpoint WHERE oracle_id = ?', [BigInt(oracleId)])) === 1
}
