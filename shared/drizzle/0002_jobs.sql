CREATE TABLE `mart_jobs` (
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`state` text NOT NULL,
	`run_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_until` integer,
	`data` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `key`),
	CONSTRAINT "mart_jobs_state" CHECK("mart_jobs"."state" IN ('scheduled', 'running', 'done', 'dead')),
	CONSTRAINT "mart_jobs_attempts" CHECK("mart_jobs"."attempts" >= 0)
);
--> statement-breakpoint
CREATE INDEX `mart_jobs_state_run_at` ON `mart_jobs` (`state`,`run_at`);