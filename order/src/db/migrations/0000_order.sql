CREATE TABLE `idempotency_keys` (
	`user_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`order_id` text NOT NULL,
	`status` integer NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `order_lines` (
	`order_id` text NOT NULL,
	`position` integer NOT NULL,
	`product_id` text NOT NULL,
	`name` text NOT NULL,
	`quantity` integer NOT NULL,
	`unit_amount` integer NOT NULL,
	PRIMARY KEY(`order_id`, `product_id`),
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "order_lines_quantity" CHECK("order_lines"."quantity" > 0),
	CONSTRAINT "order_lines_unit" CHECK("order_lines"."unit_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE `order_versions` (
	`order_id` text NOT NULL,
	`version` integer NOT NULL,
	`view` text NOT NULL,
	PRIMARY KEY(`order_id`, `version`),
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`number` integer NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`payment` text NOT NULL,
	`currency` text NOT NULL,
	`total_amount` integer NOT NULL,
	`shipping_address` text,
	`note` text,
	`expires_at` integer,
	`outcome` text,
	`version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "orders_status" CHECK("orders"."status" IN ('pending', 'unpaid', 'confirmed', 'paid', 'shipped', 'delivered', 'rejected', 'cancelled', 'expired')),
	CONSTRAINT "orders_payment" CHECK("orders"."payment" IN ('none', 'pending', 'paid', 'refunded')),
	CONSTRAINT "orders_total" CHECK("orders"."total_amount" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_number` ON `orders` (`number`);--> statement-breakpoint
CREATE INDEX `orders_user` ON `orders` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `orders_status` ON `orders` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `products` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`price_amount` integer NOT NULL,
	`currency` text NOT NULL,
	`orderable` integer NOT NULL,
	`event_id` text NOT NULL,
	CONSTRAINT "products_price" CHECK("products"."price_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE `order_timeline` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`order_id` text NOT NULL,
	`type` text NOT NULL,
	`input` text NOT NULL,
	`source` text NOT NULL,
	`event_id` text,
	`causation_id` text,
	`actor_id` text,
	`from_status` text,
	`to_status` text,
	`outcome` text NOT NULL,
	`emitted` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `order_timeline_order` ON `order_timeline` (`order_id`,`seq`);