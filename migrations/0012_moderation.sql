CREATE TABLE `moderation_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`image_id` text NOT NULL,
	`at` integer NOT NULL,
	`source` text NOT NULL,
	`actor` text NOT NULL,
	`from_state` text NOT NULL,
	`to_state` text NOT NULL,
	`reason` text
);
--> statement-breakpoint
CREATE INDEX `moderation_events_image_idx` ON `moderation_events` (`image_id`,`at`);--> statement-breakpoint
CREATE TABLE `moderation_reports` (
	`image_id` text NOT NULL,
	`reporter_id` text NOT NULL,
	`reason` text NOT NULL,
	`note` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`image_id`, `reporter_id`)
);
--> statement-breakpoint
ALTER TABLE `images` ADD `moderation_reason` text;--> statement-breakpoint
ALTER TABLE `images` ADD `moderation_updated_at` integer;--> statement-breakpoint
ALTER TABLE `images` ADD `moderation_scores` text;--> statement-breakpoint
ALTER TABLE `images` ADD `appealed_at` integer;--> statement-breakpoint
ALTER TABLE `images` ADD `appeal_note` text;--> statement-breakpoint
CREATE INDEX `images_moderation_idx` ON `images` (`moderation`,`moderation_updated_at`,`id`);