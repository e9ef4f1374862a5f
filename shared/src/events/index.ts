export * from './catalog.ts'
export * from './codec.ts'
export * from './dead-letter.ts'
export * from './envelope.ts'
