// The core works on the contract's own types; re-exported so core modules import from one place.
export type { AlertDirection, Bar, BarInterval, PriceAlert, Trade } from '@tickflow/contracts';
