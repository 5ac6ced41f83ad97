// SPDX-License-Identifier: Apache-2.0
/**
 * The customers of the two demo DFSPs `kivuko start` runs, so that a look-up, a quote and a transfer work
 * out of the box: MSISDNs 2567000000xx at "bank", 2567800000xx at "wallet". Balances are whole units, valid
 * in any currency.
 */
import type { CustomerSeed } from './config.ts'

export const DEMO_CUSTOMERS: { readonly bank: readonly CustomerSeed[]; readonly wallet: readonly CustomerSeed[] } = {
  bank: [
    { name: 'Alice Nakato', firstName: 'Alice', lastName: 'Nakato', dateOfBirth: '1990-04-12', msisdn: '256700000001', accountId: 'BANK-0001', balance: '1000' },
    { name: 'Bob Okello', firstName: 'Bob', lastName: 'Okello', msisdn: '256700000002', accountId: 'BANK-0002', balance: '500' },
    // The demo POS's merchant: paid into BANK-0003, told of each payment by SMS on its MSISDN.
    { name: 'Kampala Hardware Ltd', msisdn: '256700000003', accountId: 'BANK-0003', balance: '2000' },
    // The ATM's own account: cash-outs are credited to it, refunds of failed dispenses paid from it.
    { name: 'ATM Kampala Road', accountId: 'ATM-0001', balance: '500' },
  ],
  wallet: [
    { name: 'Carol Achieng', firstName: 'Carol', lastName: 'Achieng', msisdn: '256780000001', balance: '300' },
    { name: 'Dan Mugisha', firstName: 'Dan', middleName: 'K', lastName: 'Mugisha', msisdn: '256780000002', balance: '50' },
    { name: 'Esther Auma', firstName: 'Esther', lastName: 'Auma', msisdn: '256780000003', balance: '0' },
  ],
}

/** The demo bank's terminals: the ATM pays in to its own account, the POS to the merchant's. */
export const DEMO_TERMINALS = [
  { terminalId: 'ATM00001', type: 'ATM', payeeId: 'ATM-0001', name: 'ATM Kampala Road', location: 'Kampala Road, Kampala' },
  { terminalId: 'POS00001', type: 'POS', payeeId: 'BANK-0003', name: 'Kampala Hardware Ltd', location: 'Luwum Street, Kampala' },
] as const

/** The demo wallet's fee for ATM cash-outs it pays (the ATM fee a customer sees before entering the OTP). */
export const DEMO_WITHDRAWAL_FEE = { flat: '1', percent: '0.5', rounding: 'half-up' } as const
