export * from './inbox.ts'
export * from './open.ts'
export * from './outbox.ts'
export * as platformTables from './platform-schema.ts'
