ALTER TABLE `images` ADD `colour` text;--> statement-breakpoint
ALTER TABLE `images` ADD `original_repairs` text;