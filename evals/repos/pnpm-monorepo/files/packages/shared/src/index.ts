export const currency = (cents: number): string => `$${(cents / 100).toFixed(2)}`;
