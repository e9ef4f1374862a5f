import { type Static, Type } from '@sinclair/typebox'
import './formats.ts'

/** The shape every message on every topic has (DESIGN.md "Events"). `data` is checked per type. */
export const EnvelopeSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'uuid v7, unique per event; the inbox key' }),
    type: Type.String({ minLength: 1, maxLength: 100 }),
    version: Type.Integer({ minimum: 1, maximum: 1000 }),
    occurredAt: Type.String({ format: 'date-time' }),
    source: Type.String({ minLength: 1, maxLength: 50, description: 'the producing service' }),
    subject: Type.String({ minLength: 1, maxLength: 200, description: 'aggregate id; also the message key' }),
    data: Type.Unknown(),
    correlationId: Type.String({ minLength: 1, maxLength: 200 }),
    causationId: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
  },
  { additionalProperties: false },
)

export type RawEnvelope = Static<typeof EnvelopeSchema>

/** Where an event sits in a conversation: what started it and which event caused it. */
export interface EventContext {
  correlationId: string
  causationId: string | null
  traceparent?: string | undefined
}
