-- Shares of albums: image_id becomes nullable and album_id appears, so the table is rebuilt
-- (SQLite cannot change a column's NOT NULL in place). Nothing references shares.
CREATE TABLE `__new_shares` (
	`id` text PRIMARY KEY NOT NULL,
	`image_id` text,
	`album_id` text,
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
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`album_id`) REFERENCES `albums`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_shares`("id", "image_id", "album_id", "created_by", "secret_digest", "share_version", "password_hash", "allow_download", "max_views", "views", "allowed_referers", "created_at", "expires_at", "revoked_at") SELECT "id", "image_id", NULL, "created_by", "secret_digest", "share_version", "password_hash", "allow_download", "max_views", "views", "allowed_referers", "created_at", "expires_at", "revoked_at" FROM `shares`;--> statement-breakpoint
DROP TABLE `shares`;--> statement-breakpoint
ALTER TABLE `__new_shares` RENAME TO `shares`;--> statement-breakpoint
CREATE INDEX `shares_image_idx` ON `shares` (`image_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `shares_album_idx` ON `shares` (`album_id`,`created_at`);