/**
 * Where a job is in its life: `scheduled` (waiting for its `run_at`), `running` (leased by a
 * runner until `lease_until`), `done` (kept for `JOBS_RETENTION_HOURS`, then purged) or `dead`
 * (failed past its budget, or permanently; kept until retried).
 */
export const jobStates = ['scheduled', 'running', 'done', 'dead'] as const
export type JobState = (typeof jobStates)[number]

export const isJobState = (s: string): s is JobState => (jobStates as readonly string[]).includes(s)
