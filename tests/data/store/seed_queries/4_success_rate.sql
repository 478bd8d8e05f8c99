-- Get sync success rate
SELECT 
    COUNT(*) as total_syncs,
    SUM(CASE WHEN sync_status = 'success' THEN 1 ELSE 0 END) as successful,
    AVG(duration_seconds) as avg_duration
FROM promotion_sync_log
WHERE store_id = ?
  AND started_at >= DATE('now', '-7 days');
