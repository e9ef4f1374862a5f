// What a service consumes is declared next to what it publishes (ServiceDefinition.consumes), so
// the AsyncAPI document can say who reads each topic. The declaration is held to the handlers the
// service really builds: a service whose two disagree does not start.
import type { Handlers } from './bus/consumer.ts'
import type { Schema } from './db/open.ts'
import type { PlatformConsumer } from './events/asyncapi.ts'
import type { EventType } from './events/index.ts'
import { revocationEvents } from './revocations.ts'

/**
 * What the platform consumes in every service beside the service's own handlers: not part of a
 * service's `consumes`, listed for every service in the AsyncAPI document all the same.
 */
export const platformConsumers: readonly PlatformConsumer[] = [
  { name: 'auth layer', consumes: revocationEvents },
]

/** Throws unless `handlers` handle exactly the event types `consumes` declares, naming the difference both ways. */
export function checkConsumes<S extends Schema>(
  service: string,
  consumes: readonly EventType[],
  handlers: Handlers<S>,
): void {
  const handled = Object.keys(handlers)
  const declared = new Set<string>(consumes)
  const undeclared = handled.filter((t) => !declared.has(t))
  const unhandled = [...declared].filter((t) => !Object.hasOwn(handlers, t))
  if (!undeclared.length && !unhandled.length) return
  const differences = [
    undeclared.length && `handled but not declared: ${undeclared.join(', ')}`,
    unhandled.length && `declared but not handled: ${unhandled.join(', ')}`,
  ].filter(Boolean)
  throw new Error(
    `${service}: its handlers differ from what it declares it consumes (definition.consumes): ${differences.join('; ')}`,
  )
}
