CREATE TABLE `orders` (
	`order_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "orders_state" CHECK("orders"."state" IN ('reserved', 'rejected', 'released', 'committed', 'paid'))
);
--> statement-breakpoint
CREATE TABLE `reservations` (
	`order_id` text NOT NULL,
	`product_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`order_id`, `product_id`),
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`order_id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`product_id`) REFERENCES `stock_items`(`product_id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "reservations_quantity" CHECK("reservations"."quantity" > 0)
);
--> statement-breakpoint
CREATE INDEX `reservations_product` ON `reservations` (`product_id`);--> statement-breakpoint
CREATE TABLE `stock_items` (
	`product_id` text PRIMARY KEY NOT NULL,
	`on_hand` integer NOT NULL,
	`reserved` integer DEFAULT 0 NOT NULL,
	`low_stock_threshold` integer NOT NULL,
	`discontinued` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "stock_items_on_hand" CHECK("stock_items"."on_hand" >= 0),
	CONSTRAINT "stock_items_reserved" CHECK("stock_items"."reserved" >= 0 AND "stock_items"."reserved" <= "stock_items"."on_hand"),
	CONSTRAINT "stock_items_threshold" CHECK("stock_items"."low_stock_threshold" >= 0)
);
