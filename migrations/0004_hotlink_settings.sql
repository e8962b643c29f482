CREATE TABLE `hotlink_settings` (
	`owner_id` text PRIMARY KEY NOT NULL,
	`allowed_referers` text NOT NULL,
	`allow_empty_referer` integer NOT NULL,
	`blocked_response` text NOT NULL,
	`updated_at` integer NOT NULL
);
