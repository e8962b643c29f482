CREATE TABLE `idempotency_keys` (
	`owner_id` text NOT NULL,
	`route` text NOT NULL,
	`key` text NOT NULL,
	`request_digest` text NOT NULL,
	`status` integer,
	`response` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`owner_id`, `route`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
ALTER TABLE `images` ADD `upload_session` text;--> statement-breakpoint
ALTER TABLE `images` ADD `upload_session_expires_at` integer;