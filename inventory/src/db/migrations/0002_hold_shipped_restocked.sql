-- A hold gains `shipped` and `restocked` in the CHECK of `order_holds.state`, and `committed_lines`
-- keeps what a committed hold took off the shelf. Written by hand, as 0001: drizzle-kit's rebuild
-- drops `order_holds` under `reservations`' rows with `PRAGMA foreign_keys=OFF`, a no-op inside the
-- migrator's transaction. Here `reservations` is first rebuilt to point at the new table, the old one
-- is dropped with nothing referencing it, and renaming the new one to `order_holds` renames the
-- reference with it.
-- A hold committed before this migration kept no lines: what it took cannot be given back, so it
-- becomes `shipped`, final as `committed` was then.
CREATE TABLE `__new_order_holds` (
	`order_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "order_holds_state" CHECK("__new_order_holds"."state" IN ('reserved', 'rejected', 'released', 'committed', 'paid', 'shipped', 'restocked'))
);
--> statement-breakpoint
INSERT INTO `__new_order_holds`("order_id", "state", "updated_at") SELECT "order_id", CASE "state" WHEN 'committed' THEN 'shipped' ELSE "state" END, "updated_at" FROM `order_holds`;--> statement-breakpoint
CREATE TABLE `__new_reservations` (
	`order_id` text NOT NULL,
	`product_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`order_id`, `product_id`),
	FOREIGN KEY (`order_id`) REFERENCES `__new_order_holds`(`order_id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`product_id`) REFERENCES `stock_items`(`product_id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "reservations_quantity" CHECK("__new_reservations"."quantity" > 0)
);
--> statement-breakpoint
INSERT INTO `__new_reservations`("order_id", "product_id", "quantity", "created_at") SELECT "order_id", "product_id", "quantity", "created_at" FROM `reservations`;--> statement-breakpoint
DROP TABLE `reservations`;--> statement-breakpoint
ALTER TABLE `__new_reservations` RENAME TO `reservations`;--> statement-breakpoint
CREATE INDEX `reservations_product` ON `reservations` (`product_id`);--> statement-breakpoint
DROP TABLE `order_holds`;--> statement-breakpoint
ALTER TABLE `__new_order_holds` RENAME TO `order_holds`;--> statement-breakpoint
CREATE TABLE `committed_lines` (
	`order_id` text NOT NULL,
	`product_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`order_id`, `product_id`),
	FOREIGN KEY (`order_id`) REFERENCES `order_holds`(`order_id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`product_id`) REFERENCES `stock_items`(`product_id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "committed_lines_quantity" CHECK("committed_lines"."quantity" > 0)
);
