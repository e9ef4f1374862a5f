CREATE TABLE `mart_inbox` (
	`consumer` text NOT NULL,
	`event_id` text NOT NULL,
	`topic` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`consumer`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `mart_inbox_received_at` ON `mart_inbox` (`received_at`);--> statement-breakpoint
CREATE TABLE `mart_outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`topic` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`headers` text NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mart_outbox_event_id_unique` ON `mart_outbox` (`event_id`);--> statement-breakpoint
CREATE INDEX `mart_outbox_pending` ON `mart_outbox` (`seq`) WHERE "mart_outbox"."sent_at" IS NULL;--> statement-breakpoint
CREATE INDEX `mart_outbox_sent_at` ON `mart_outbox` (`sent_at`) WHERE "mart_outbox"."sent_at" IS NOT NULL;