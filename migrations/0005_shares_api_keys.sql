CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`scopes` text NOT NULL,
	`secret_digest` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `api_keys_owner_idx` ON `api_keys` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `shares` (
	`id` text PRIMARY KEY NOT NULL,
	`image_id` text NOT NULL,
	`created_by` text NOT NULL,
	`secret_digest` text NOT NULL,
	`share_version` integer NOT NULL,
	`password_hash` text,
	`allow_download` integer NOT NULL,
	`max_views` integer,
	`views` integer DEFAULT 0 NOT NULL,
	`allowed_referers` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `shares_image_idx` ON `shares` (`image_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `images` ADD `share_version` integer DEFAULT 1 NOT NULL;