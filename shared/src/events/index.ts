export * from './catalog.ts'
export * from './codec.ts'
export * from './envelope.ts'
