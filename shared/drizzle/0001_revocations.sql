CREATE TABLE `mart_revocations` (
	`user_id` text PRIMARY KEY NOT NULL,
	`not_before` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `mart_revocations_expires_at` ON `mart_revocations` (`expires_at`);