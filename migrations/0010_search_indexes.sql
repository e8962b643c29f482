CREATE INDEX `image_tags_tag_idx` ON `image_tags` (`tag`,`image_id`);--> statement-breakpoint
CREATE INDEX `images_created_idx` ON `images` (`created_at`,`id`);