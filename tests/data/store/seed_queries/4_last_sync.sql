-- Get last sync info
SELECT *
FROM promotion_sync_log
WHERE store_id = ?
ORDER BY started_at DESC
LIMIT 1;
