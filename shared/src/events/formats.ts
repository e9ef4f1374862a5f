import { FormatRegistry } from '@sinclair/typebox'

// TypeBox validates no string format until one is registered. Elysia registers its own on the same
// (hoisted) registry; these cover the formats our event schemas use when Elysia is not loaded.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

const formats: Record<string, (value: string) => boolean> = {
  uuid: (v) => UUID.test(v),
  'date-time': (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)),
  email: (v) => EMAIL.test(v),
  uri: (v) => URL.canParse(v),
}

for (const [name, check] of Object.entries(formats)) {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check)
}
