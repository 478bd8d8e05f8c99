-- Check customer usage
SELECT COUNT(*) as customer_usage
FROM promotion_usage
WHERE promotion_id = ?
  AND customer_id = ?;
