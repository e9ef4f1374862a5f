CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`number` text NOT NULL,
	`state` text NOT NULL,
	`total_amount` integer NOT NULL,
	`currency` text NOT NULL,
	`lines` text NOT NULL,
	`expires_at` integer,
	`updated_at` integer NOT NULL,
	CONSTRAINT "orders_state" CHECK("orders"."state" IN ('pending', 'unpaid', 'confirmed', 'paid', 'cancelled', 'expired', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`user_id` text NOT NULL,
	`method` text NOT NULL,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`refunded_amount` integer DEFAULT 0 NOT NULL,
	`stripe_session_id` text,
	`stripe_payment_intent_id` text,
	`checkout_url` text,
	`expires_at` integer,
	`note` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "payments_status" CHECK("payments"."status" IN ('creating', 'pending', 'processing', 'succeeded', 'failed', 'expired', 'needs_review', 'refunded', 'cod_pending')),
	CONSTRAINT "payments_method" CHECK("payments"."method" IN ('stripe', 'cod')),
	CONSTRAINT "payments_refunded" CHECK("payments"."refunded_amount" >= 0 AND "payments"."refunded_amount" <= "payments"."amount")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payments_session` ON `payments` (`stripe_session_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `payments_open_per_order` ON `payments` (`order_id`) WHERE "payments"."status" IN ('creating', 'pending', 'processing', 'cod_pending');--> statement-breakpoint
CREATE INDEX `payments_user` ON `payments` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `payments_order` ON `payments` (`order_id`,`id`);--> statement-breakpoint
CREATE TABLE `refunds` (
	`id` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`amount` integer NOT NULL,
	`reason` text NOT NULL,
	`note` text,
	`status` text NOT NULL,
	`stripe_refund_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`payment_id`) REFERENCES `payments`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "refunds_amount" CHECK("refunds"."amount" > 0)
);
--> statement-breakpoint
CREATE INDEX `refunds_payment` ON `refunds` (`payment_id`);--> statement-breakpoint
CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL
);
