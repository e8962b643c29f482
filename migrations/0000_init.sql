CREATE TABLE `images` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`title` text,
	`description` text,
	`visibility` text DEFAULT 'private' NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`moderation` text DEFAULT 'allowed' NOT NULL,
	`filename` text,
	`declared_content_type` text,
	`declared_size` integer,
	`format` text,
	`content_type` text,
	`bytes` integer,
	`width` integer,
	`height` integer,
	`revision` integer DEFAULT 1 NOT NULL,
	`failure_code` text,
	`failure_detail` text,
	`placeholder` text,
	`dominant_color` text,
	`timings` text,
	`upload_started_at` integer,
	`uploaded_at` integer,
	`processed_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `images_owner_created_idx` ON `images` (`owner_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `images_status_idx` ON `images` (`status`);--> statement-breakpoint
CREATE TABLE `variants` (
	`image_id` text NOT NULL,
	`revision` integer NOT NULL,
	`name` text NOT NULL,
	`format` text NOT NULL,
	`content_type` text NOT NULL,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`bytes` integer NOT NULL,
	`etag` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	PRIMARY KEY(`image_id`, `revision`, `name`, `format`),
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade
);
