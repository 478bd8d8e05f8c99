-- Get all active promotions for specific brand at current time
SELECT 
    id, code, name, promo_type, 
    rules_json, scope_json, targeting_json,
    execution_stage, execution_priority
FROM promotions
WHERE company_id = ?
  AND store_id = ?
  AND brand_id = ?
  AND is_active = TRUE
  AND start_date <= CURRENT_DATE
  AND end_date >= CURRENT_DATE
  AND (time_start IS NULL OR time_start <= CURRENT_TIME)
  AND (time_end IS NULL OR time_end >= CURRENT_TIME)
ORDER BY execution_priority ASC, execution_stage ASC;
