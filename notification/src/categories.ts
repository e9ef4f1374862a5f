/** What a notice is about: a person turns email off per category; in-app is always on. */
export const categories = ['account', 'orders', 'payments', 'stock', 'review'] as const
export type Category = (typeof categories)[number]
/** The categories only admins get. */
export const adminCategories: readonly Category[] = ['stock', 'review']
