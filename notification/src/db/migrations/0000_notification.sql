CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`notice` text NOT NULL,
	`address` text NOT NULL,
	`user_id` text,
	`message_id` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text NOT NULL,
	`sent_at` integer,
	`response` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_once` ON `deliveries` (`event_id`,`notice`,`address`);--> statement-breakpoint
CREATE INDEX `deliveries_sent` ON `deliveries` (`sent_at`,`id`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`category` text NOT NULL,
	`notice` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`subject` text,
	`event_id` text NOT NULL,
	`read_at` integer,
	`created_at` integer NOT NULL,
	CONSTRAINT "notifications_category" CHECK("notifications"."category" IN ('account', 'orders', 'payments', 'stock', 'review'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notifications_once` ON `notifications` (`event_id`,`notice`,`user_id`);--> statement-breakpoint
CREATE INDEX `notifications_user` ON `notifications` (`user_id`,`id`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`number` text NOT NULL,
	`total_amount` integer NOT NULL,
	`currency` text NOT NULL,
	`lines` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `preferences` (
	`user_id` text NOT NULL,
	`category` text NOT NULL,
	`email` integer NOT NULL,
	PRIMARY KEY(`user_id`, `category`)
);
--> statement-breakpoint
CREATE TABLE `products` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`event_id` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `recipients` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`email` text NOT NULL,
	`role` text NOT NULL,
	`active` integer NOT NULL,
	`event_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `recipients_role` ON `recipients` (`role`,`active`);