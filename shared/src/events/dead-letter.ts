// What a dead letter carries beside its original headers. The consumer writes these headers, the
// dlq script reads them and the AsyncAPI document describes them: all three read this one list.

/** Headers a dead-lettered message carries, beside its original ones. */
export const dlqHeaders = {
  error: 'dlq-error',
  reason: 'dlq-reason',
  group: 'dlq-group',
  topic: 'dlq-topic',
  partition: 'dlq-partition',
  offset: 'dlq-offset',
  attempts: 'dlq-attempts',
  failedAt: 'dlq-failed-at',
} as const

/** What each dead-letter header says, for the AsyncAPI document. */
export const dlqHeaderDescriptions: Record<keyof typeof dlqHeaders, string> = {
  error: 'why it failed (error message, at most 2000 characters)',
  reason: '`invalid` (not a valid event) or `failed` (its handler failed past the retry budget)',
  group: 'the consumer group that gave up on it',
  topic: 'the topic it was read from',
  partition: 'the partition it was read from',
  offset: 'its offset there',
  attempts: 'handler attempts made (0 when invalid)',
  failedAt: 'when it was dead-lettered (ISO 8601)',
}
