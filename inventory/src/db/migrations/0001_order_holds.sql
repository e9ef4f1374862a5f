-- `orders` holds each order's hold on stock, not orders: it becomes `order_holds`, rows kept.
-- Written by hand: drizzle-kit's version drops the renamed table under `reservations`' rows with
-- `PRAGMA foreign_keys=OFF`, which is a no-op inside the migrator's transaction, so it failed on any
-- database that held stock. Here nothing referenced is dropped: the new table is filled first,
-- `reservations` is rebuilt to point at it, and only then does `orders` go.
CREATE TABLE `order_holds` (
	`order_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "order_holds_state" CHECK("order_holds"."state" IN ('reserved', 'rejected', 'released', 'committed', 'paid'))
);
--> statement-breakpoint
INSERT INTO `order_holds`("order_id", "state", "updated_at") SELECT "order_id", "state", "updated_at" FROM `orders`;--> statement-breakpoint
CREATE TABLE `__new_reservations` (
	`order_id` text NOT NULL,
	`product_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`order_id`, `product_id`),
	FOREIGN KEY (`order_id`) REFERENCES `order_holds`(`order_id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`product_id`) REFERENCES `stock_items`(`product_id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "reservations_quantity" CHECK("__new_reservations"."quantity" > 0)
);
--> statement-breakpoint
INSERT INTO `__new_reservations`("order_id", "product_id", "quantity", "created_at") SELECT "order_id", "product_id", "quantity", "created_at" FROM `reservations`;--> statement-breakpoint
DROP TABLE `reservations`;--> statement-breakpoint
ALTER TABLE `__new_reservations` RENAME TO `reservations`;--> statement-breakpoint
CREATE INDEX `reservations_product` ON `reservations` (`product_id`);--> statement-breakpoint
DROP TABLE `orders`;
