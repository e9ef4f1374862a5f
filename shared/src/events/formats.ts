import { FormatRegistry } from '@sinclair/typebox'

// TypeBox validates no string format until one is registered, and the registry is one per process
// (hoisted), shared by our event schemas and Elysia. Elysia registers its own formats when none is
// there; @elysiajs/openapi, when loaded, replaces uuid and email with checks that build a Zod
// schema on every call (microseconds where a regex takes tens of nanoseconds, on every request
// with an id in it). So the formats ids, addresses and times depend on are ours, set again after
// that plugin is loaded (docs.ts), whatever the import order.

// Each accepts no more than any check that was in effect before (our first ones, Elysia's, the Zod
// ones @elysiajs/openapi leaves): what passes now passed then, whichever it was.
// RFC 9562 versions 1-8 with its variant, plus the nil and max uuids (as Zod's).
const UUID =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/
// Zod's address, with Elysia's host names (a label neither starts nor ends with "-").
const EMAIL =
  /^(?!\.)(?!.*\.\.)[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/
// RFC 3339 with seconds and a zone (what toISOString writes), every field in its range: Date.parse
// reads every such string, so none needs a Date. Then the day must exist in its month.
const DATE_TIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const daysIn = (year: number, month: number) =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : (DAYS[month] as number)

const dateTime = (v: string) => {
  if (!DATE_TIME.test(v)) return false
  const day = Number(v.slice(8, 10))
  return day <= 28 || day <= daysIn(Number(v.slice(0, 4)), Number(v.slice(5, 7)))
}

/** The checks that must be ours: set over whatever was registered, by registerFormats. */
export const ownFormats: Record<string, (value: string) => boolean> = {
  uuid: (v) => UUID.test(v),
  email: (v) => EMAIL.test(v),
  'date-time': dateTime,
}

// Registered only if nothing else was: Elysia's is as good.
const fallbackFormats: Record<string, (value: string) => boolean> = {
  uri: (v) => URL.canParse(v),
}

/** Sets our own checks on TypeBox's registry; again after loading anything that replaces them. */
export function registerFormats() {
  for (const [name, check] of Object.entries(ownFormats)) FormatRegistry.Set(name, check)
}

registerFormats()
for (const [name, check] of Object.entries(fallbackFormats)) {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check)
}
