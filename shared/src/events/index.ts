export * from './catalog.ts'
export * from './codec.ts'
export * from './enums.ts'
export * from './envelope.ts'
