CREATE TABLE `products` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`price_amount` integer NOT NULL,
	`currency` text NOT NULL,
	`sku` text,
	`image_url` text,
	`initial_stock` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	CONSTRAINT "products_price_amount" CHECK("products"."price_amount" >= 0),
	CONSTRAINT "products_initial_stock" CHECK("products"."initial_stock" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `products_id_unique` ON `products` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `products_sku_unique` ON `products` (lower("sku")) WHERE "products"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX `products_price` ON `products` (`price_amount`,`id`) WHERE "products"."deleted_at" IS NULL;--> statement-breakpoint
CREATE TABLE `stock` (
	`product_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`available` integer NOT NULL,
	`event_id` text NOT NULL,
	CONSTRAINT "stock_status" CHECK("stock"."status" IN ('in_stock', 'low_stock', 'out_of_stock'))
);
