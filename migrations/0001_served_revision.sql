ALTER TABLE `images` ADD `served_revision` integer;--> statement-breakpoint
-- Images that were ready before this column existed keep being served.
UPDATE `images` SET `served_revision` = `revision` WHERE `status` = 'ready';
