CREATE TABLE `metrics` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`worker` text NOT NULL,
	`name` text NOT NULL,
	`outcome` text NOT NULL,
	`ms` real,
	`bytes` integer,
	`image_id` text
);
--> statement-breakpoint
CREATE INDEX `metrics_name_at_idx` ON `metrics` (`name`,`at`);--> statement-breakpoint
ALTER TABLE `images` ADD `requeues` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `images_status_updated_idx` ON `images` (`status`,`updated_at`);