-- Check daily usage for promotion
SELECT COUNT(*) as usage_count
FROM promotion_usage
WHERE promotion_id = ?
  AND usage_date = CURRENT_DATE;
